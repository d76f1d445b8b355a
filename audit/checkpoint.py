"""Checkpoints (signed tree heads) in the c2sp.org/tlog-checkpoint format.

A checkpoint is the text ``<origin>\\n<tree size>\\n<base64 root hash>\\n`` (optionally
followed by extension lines) signed as a C2SP note by the log's key. The origin names the
log and, by convention, is also the name of the log's key; a checkpoint is only accepted
when the *log's* key signed it (a witness signature alone proves nothing about the log).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from audit.errors import CheckpointError, NoteError
from audit.merkle import HASH_SIZE
from audit.note import Note, Signature, Signer, Verifier, open_note, sign_note


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree size and root hash for a named log."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("checkpoint origin must be one non-empty line")
        if self.size < 0:
            raise CheckpointError(f"checkpoint size {self.size} is negative")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"root hash is {len(self.root_hash)} bytes, expected 32")
        for line in self.extensions:
            if not line or "\n" in line:
                raise CheckpointError("checkpoint extension lines must be non-empty lines")

    @property
    def text(self) -> str:
        """The note text (body) that the log signs."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        extra = "".join(f"{line}\n" for line in self.extensions)
        return f"{self.origin}\n{self.size}\n{root}\n{extra}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body (no signature lines), refusing any ambiguity."""
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("checkpoint needs origin, size and root hash lines")
        origin, size_text, root_text, *extensions = lines
        if not size_text.isascii() or not size_text.isdigit():
            raise CheckpointError(f"tree size {size_text!r} is not a decimal number")
        if len(size_text) > 1 and size_text.startswith("0"):
            raise CheckpointError(f"tree size {size_text!r} has a leading zero")
        try:
            root = base64.b64decode(root_text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise CheckpointError("root hash line is not base64") from None
        if base64.b64encode(root).decode("ascii") != root_text:
            raise CheckpointError("root hash line is not canonical base64")
        return cls(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(
    checkpoint: Checkpoint, signer: Signer, existing: Sequence[Signature] = ()
) -> str:
    """The signed checkpoint note."""
    if signer.name != checkpoint.origin:
        raise CheckpointError(
            f"log key name {signer.name!r} differs from the checkpoint origin {checkpoint.origin!r}"
        )
    return sign_note(checkpoint.text, [signer], existing)


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint whose log signature verified, with the cosignatures that verified."""

    checkpoint: Checkpoint
    note: Note
    cosigners: tuple[str, ...]


def open_checkpoint(
    msg: str | bytes,
    log_key: Verifier,
    *,
    witnesses: Iterable[Verifier] = (),
    origin: str | None = None,
) -> SignedCheckpoint:
    """Verify a checkpoint note: the log's signature is required, witnesses' are counted."""
    witness_list = list(witnesses)
    note = open_note(msg, [log_key, *witness_list])
    names = {(sig.name, sig.key_id) for sig in note.sigs}
    if (log_key.name, log_key.key_id) not in names:
        raise NoteError(f"checkpoint is not signed by the log key {log_key.name}")
    checkpoint = Checkpoint.parse(note.text)
    expected = origin if origin is not None else log_key.name
    if checkpoint.origin != expected:
        raise CheckpointError(
            f"checkpoint origin {checkpoint.origin!r} is not the expected {expected!r}"
        )
    cosigners = tuple(
        sig.name for sig in note.sigs if (sig.name, sig.key_id) != (log_key.name, log_key.key_id)
    )
    return SignedCheckpoint(checkpoint, note, cosigners)
