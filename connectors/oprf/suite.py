"""Hashing specification v2: the constants and byte layouts every implementation must share.

v2 tokens come from the RFC 9497 VOPRF (mode 1) with the ristretto255-SHA512 suite, evaluated
by *a chain of independent evaluators*: the connector's blinded element goes to the first,
each answer (its proof checked) is the next one's input, and the last answer unblinds to the
PRF output under the product of all evaluators' keys; the token is derived from that output
(``token_from_output``). Connectors written in other languages reproduce tokens with any RFC
9497 client that can check a proof over elements it did not blind, plus this module's three
byte strings: the OPRF input, the evaluators' ``DeriveKeyPair`` info and the token derivation.
docs/hashing.md ("Specification v2") restates them normatively.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: a crypto worker imports this module without it
    from connectors.canonical import Kind

SPEC_VERSION = "v2"
DOMAIN_PREFIX = "ppsgate:v2:"
SUITE = "ristretto255-SHA512"
VOPRF_MODE = 1
ELEMENT_BYTES = 32
SCALAR_BYTES = 32
PROOF_BYTES = 2 * SCALAR_BYTES
OUTPUT_BYTES = 64
SEED_BYTES = 32
# RFC 9497 caps a batch (and the binding's inputs) at 2^16 - 1.
MAX_BATCH = 2**16 - 1
TOKEN_LABEL = b"ppsgate:v2:token:"


def oprf_input(kind: Kind, canonical: str) -> bytes:
    """The VOPRF input: ``"ppsgate:v2:<kind>:<canonical>"`` in UTF-8 (same canonical as v1)."""
    return f"{DOMAIN_PREFIX}{kind.value}:{canonical}".encode()


def key_info(epoch: int, kind: Kind) -> bytes:
    """``info`` of RFC 9497 ``DeriveKeyPair`` for one evaluator key: one key per epoch and type."""
    return f"{DOMAIN_PREFIX}evaluator:{epoch}:{kind.value}".encode("ascii")


def token_from_output(output: bytes) -> str:
    """Token = lowercase hex SHA-256(``"ppsgate:v2:token:"`` || y).

    ``y`` is the 64-byte RFC 9497 output of the chain, ``F(k_1·k_2·…·k_n, input)``, the
    evaluators taken in the order the deployment publishes them (the product does not depend
    on the order; the pins document fixes it so that every partner sends to the same first
    evaluator). The 32-byte digest keeps the gateway's token format (64 lowercase hex
    characters) unchanged.
    """
    if len(output) != OUTPUT_BYTES:
        raise ValueError(f"an RFC 9497 output is {OUTPUT_BYTES} bytes, got {len(output)}")
    return hashlib.sha256(TOKEN_LABEL + output).hexdigest()


def encode_elements(elements: Sequence[bytes]) -> str:
    """Standard base64 of the concatenated 32-byte encodings (the request/response form)."""
    return encode_packed(b"".join(elements))


def encode_packed(packed: bytes) -> str:
    """Standard base64 of elements already concatenated."""
    return base64.b64encode(packed).decode("ascii")


def decode_blob(text: str, *, unit: int, field: str) -> bytes:
    """Decode base64 that must hold a whole, non-zero number of ``unit``-byte items."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{field}: not valid base64") from None
    if not raw or len(raw) % unit:
        raise ValueError(f"{field}: must hold a whole number of {unit}-byte items, got {len(raw)}")
    return raw


def split_elements(raw: bytes) -> list[bytes]:
    """Concatenated 32-byte encodings back to a list."""
    return [raw[offset : offset + ELEMENT_BYTES] for offset in range(0, len(raw), ELEMENT_BYTES)]


def binding_batch_bytes(evaluated: bytes, proof: bytes) -> bytes:
    """The layout the ``voprf`` binding serialises a batch as: proof (c || s), then elements."""
    return proof + evaluated


def split_binding_batch(serialized: bytes) -> tuple[bytes, bytes]:
    """(evaluated elements, proof) from the binding's serialised batch output."""
    return serialized[PROOF_BYTES:], serialized[:PROOF_BYTES]
