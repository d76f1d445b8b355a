"""Errors of the standalone audit package.

They do not depend on the gateway: a verifier run by a regulator or a witness run by a
partner uses them as they are. Every error carries a ``reason`` worded for the person who
has to act on it (which entry, which signature, which size), because "verification failed"
alone helps nobody decide whether a log was tampered with.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base of every audit failure."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CanonicalJSONError(AuditError, ValueError):
    """A value cannot be written as (or is not) canonical JSON."""


class MerkleProofError(AuditError, ValueError):
    """An inclusion or consistency proof does not verify (or is malformed)."""


class NoteError(AuditError, ValueError):
    """A signed note, key or signature line is malformed or does not verify."""


class UnverifiedNoteError(NoteError):
    """The note is well formed but carries no signature from a trusted key."""


class CheckpointError(AuditError, ValueError):
    """A checkpoint body is malformed or contradicts what is known about the log."""


class EntryError(AuditError, ValueError):
    """An audit entry or detail record breaks the entry format (v1 or v2)."""


class WitnessError(AuditError):
    """A witness refuses a checkpoint; ``status`` follows C2SP tlog-witness HTTP codes."""

    def __init__(self, reason: str, *, status: int, latest_size: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.latest_size = latest_size


class VerificationError(AuditError):
    """The log does not verify; ``index`` names the first entry at fault when known."""

    def __init__(self, reason: str, *, index: int | None = None) -> None:
        super().__init__(reason)
        self.index = index
