"""Receipts: offline proof that an entry is in the log (c2sp.org/tlog-proof@v1).

A receipt is text::

    c2sp.org/tlog-proof@v1
    [extra <base64>]
    index <leaf index>
    <base64 proof hash>          (zero or more, leaf side first)

    <signed checkpoint, verbatim, with any cosignatures>

Whoever holds the entry bytes, a receipt and the log's public key can check, without asking
the log, that the entry was logged at that index under a signed tree head. The gateway puts
the canonical entry in the ``extra`` line so a receipt is self-contained.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from audit.checkpoint import SignedCheckpoint, open_checkpoint
from audit.errors import CheckpointError, MerkleProofError
from audit.merkle import leaf_hash, verify_inclusion
from audit.note import Verifier

HEADER = "c2sp.org/tlog-proof@v1"


@dataclass(frozen=True, slots=True)
class Receipt:
    """An inclusion proof bound to a signed checkpoint."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint_note: str
    extra: bytes | None = None

    def encode(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode("ascii"))
        lines.append(f"index {self.index}")
        lines.extend(base64.b64encode(value).decode("ascii") for value in self.proof)
        return "\n".join(lines) + "\n\n" + self.checkpoint_note

    @classmethod
    def parse(cls, text: str) -> Receipt:
        head, separator, note = text.partition("\n\n")
        if not separator:
            raise CheckpointError("receipt has no blank line before its checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise CheckpointError(f"receipt must start with {HEADER}")
        position = 1
        extra = None
        if position < len(lines) and lines[position].startswith("extra "):
            extra = _b64(lines[position][6:], "extra")
            position += 1
        if position >= len(lines) or not lines[position].startswith("index "):
            raise CheckpointError("receipt lacks its 'index N' line")
        index_text = lines[position][6:]
        if not index_text.isdigit() or (len(index_text) > 1 and index_text[0] == "0"):
            raise CheckpointError(f"receipt index {index_text!r} is not a decimal number")
        proof = tuple(_b64(line, "proof hash") for line in lines[position + 1 :])
        return cls(int(index_text), proof, note, extra)


def _b64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise CheckpointError(f"receipt {what} is not base64") from None
    return raw


def verify_receipt(
    receipt: Receipt,
    entry: bytes,
    log_key: Verifier,
    *,
    witnesses: Iterable[Verifier] = (),
    required_cosigners: Sequence[str] = (),
) -> SignedCheckpoint:
    """Check that ``entry`` is at ``receipt.index`` under the receipt's signed checkpoint.

    ``required_cosigners`` names witnesses whose cosignature must be present (a quorum
    policy); without witnesses a receipt proves only what the log's own key claims.
    """
    signed = open_checkpoint(receipt.checkpoint_note, log_key, witnesses=witnesses)
    missing = [name for name in required_cosigners if name not in signed.cosigners]
    if missing:
        raise CheckpointError(f"checkpoint lacks the cosignature of {', '.join(missing)}")
    checkpoint = signed.checkpoint
    try:
        verify_inclusion(
            leaf_hash(entry), receipt.index, checkpoint.size, receipt.proof, checkpoint.root_hash
        )
    except MerkleProofError as exc:
        raise MerkleProofError(f"receipt does not prove the entry: {exc.reason}") from None
    return signed
