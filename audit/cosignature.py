"""Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``).

A cosignature is a note signature of type 0x04 over a checkpoint. It says: "as of this time,
the largest consistent tree I have seen for this origin has this root". The signed message
is ``cosignature/v1\\n`` + ``time <unix seconds>\\n`` + the checkpoint text, and the signature
bytes are ``key ID (4) || timestamp (8, big-endian) || Ed25519 signature (64)``. A verifier
checks it with :func:`audit.note.open_note` and a type-0x04 verifier key.
"""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.errors import NoteError
from audit.note import (
    ALG_COSIGNATURE_V1,
    Signature,
    Signer,
    b64,
    cosignature_message,
    generate_signer,
    parse_signer_key,
)


def generate_cosigner(name: str) -> Signer:
    """A fresh witness key (type 0x04)."""
    return generate_signer(name, ALG_COSIGNATURE_V1)


def parse_cosigner_key(skey: str) -> Signer:
    """Parse a witness key ``PRIVATE+KEY+<name>+<id>+base64(0x04 || seed)``."""
    signer = parse_signer_key(skey)
    if signer.alg != ALG_COSIGNATURE_V1:
        raise NoteError("witness key must have signature type 0x04 (cosignature/v1)")
    return signer


def cosign(signer: Signer, checkpoint_text: str, timestamp: int) -> Signature:
    """Cosign a checkpoint body (its text, without signature lines) at ``timestamp``."""
    if signer.alg != ALG_COSIGNATURE_V1:
        raise NoteError("cosignatures need a type 0x04 key")
    if not 0 <= timestamp < 2**63:
        raise NoteError(f"cosignature timestamp {timestamp} is outside 0..2**63-1")
    key: Ed25519PrivateKey = signer.private_key
    raw = key.sign(cosignature_message(checkpoint_text, timestamp))
    payload = signer.key_id.to_bytes(4, "big") + struct.pack(">Q", timestamp) + raw
    return Signature(signer.name, signer.key_id, b64(payload))


def cosignature_timestamp(signature: Signature) -> int:
    """The time a cosignature claims (seconds since the epoch)."""
    raw = signature.raw
    if len(raw) != 8 + 64:
        raise NoteError(f"cosignature from {signature.name} has the wrong length")
    (timestamp,) = struct.unpack(">Q", raw[:8])
    return int(timestamp)
