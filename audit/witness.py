"""A witness: remembers the last checkpoint of a log, cosigns only consistent successors.

This implements the semantics of c2sp.org/tlog-witness ``add-checkpoint`` over a local state
file, so that a partner's privacy officer can run it from the command line: the request body
(``old <size>``, consistency proof lines, a blank line, the signed checkpoint) and the error
statuses (400, 403, 404, 409 with the latest size, 422) are those of the spec. Once a witness
has cosigned size N with root R, the log can never get a cosignature for a history that does
not extend (N, R): truncating and re-signing the log needs the witnesses' keys too.

The state file is JSON, updated atomically (write, fsync, rename) under an exclusive lock,
because the check of ``old`` and the update must be one step (the spec's rollback race).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.checkpoint import Checkpoint, SignedCheckpoint, open_checkpoint
from audit.cosignature import cosign
from audit.errors import AuditError, MerkleProofError, NoteError, WitnessError
from audit.merkle import verify_consistency
from audit.note import Signer, Verifier
from audit.statefile import locked, write_json_atomic

MAX_PROOF_LINES = 63


@dataclass(frozen=True, slots=True)
class LogView:
    """What a witness (or monitor) last accepted for one log."""

    size: int
    root_hash: bytes
    checkpoint: str

    def to_json(self) -> dict[str, Any]:
        root = base64.b64encode(self.root_hash).decode("ascii")
        return {"size": self.size, "root": root, "checkpoint": self.checkpoint}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> LogView:
        return cls(int(value["size"]), base64.b64decode(value["root"]), str(value["checkpoint"]))


def read_state(path: Path) -> dict[str, LogView]:
    """Log views by origin; a missing file is an empty state."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
        return {origin: LogView.from_json(view) for origin, view in data["logs"].items()}
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise AuditError(f"state file {path} is unreadable ({exc}); refusing to guess") from None


def write_state(path: Path, views: Mapping[str, LogView]) -> None:
    """Replace the state file atomically (a crash leaves the old or the new state)."""
    payload = {"version": 1, "logs": {origin: view.to_json() for origin, view in views.items()}}
    write_json_atomic(path, payload)


def add_checkpoint_request(old_size: int, proof: Sequence[bytes], checkpoint_note: str) -> str:
    """The body of a tlog-witness ``add-checkpoint`` request."""
    lines = [f"old {old_size}"]
    lines.extend(base64.b64encode(value).decode("ascii") for value in proof)
    return "\n".join(lines) + "\n\n" + checkpoint_note


def parse_add_checkpoint(body: str) -> tuple[int, list[bytes], str]:
    """Split a request body into old size, proof hashes and checkpoint note (400 if bad)."""
    head, separator, note = body.partition("\n\n")
    if not separator:
        raise WitnessError("request has no blank line before the checkpoint", status=400)
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise WitnessError("request must start with 'old <size>'", status=400)
    size_text = lines[0][4:]
    if not size_text.isdigit() or (len(size_text) > 1 and size_text[0] == "0"):
        raise WitnessError(f"old size {size_text!r} is not a decimal number", status=400)
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessError(f"more than {MAX_PROOF_LINES} proof lines", status=400)
    proof = []
    for line in lines[1:]:
        try:
            proof.append(base64.b64decode(line.encode("ascii"), validate=True))
        except (binascii.Error, UnicodeEncodeError):
            raise WitnessError("a proof line is not base64", status=400) from None
    return int(size_text), proof, note


class Witness:
    """Cosigns checkpoints of known logs, each only if consistent with what it saw last."""

    def __init__(
        self,
        signer: Signer,
        logs: Mapping[str, Verifier],
        state_path: Path,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signer = signer
        self.logs = dict(logs)
        self.state_path = state_path
        self.clock = clock

    def latest(self, origin: str) -> LogView | None:
        return read_state(self.state_path).get(origin)

    def _open(self, note: str) -> SignedCheckpoint:
        origin = note.split("\n", 1)[0]
        key = self.logs.get(origin)
        if key is None:
            raise WitnessError(f"unknown log origin {origin!r}", status=404)
        try:
            return open_checkpoint(note, key)
        except NoteError as exc:
            raise WitnessError(f"checkpoint signature: {exc.reason}", status=403) from None
        except AuditError as exc:
            raise WitnessError(f"checkpoint: {exc.reason}", status=400) from None

    def add_checkpoint(self, body: str) -> str:
        """Handle an ``add-checkpoint`` request; returns the cosignature line(s)."""
        old_size, proof, note = parse_add_checkpoint(body)
        signed = self._open(note)
        checkpoint: Checkpoint = signed.checkpoint
        if old_size > checkpoint.size:
            raise WitnessError(
                f"old size {old_size} exceeds the checkpoint size {checkpoint.size}", status=400
            )
        with locked(self.state_path):
            views = read_state(self.state_path)
            seen = views.get(checkpoint.origin)
            seen_size = seen.size if seen else 0
            if old_size != seen_size:
                raise WitnessError(
                    f"old size {old_size} is not the size last cosigned ({seen_size})",
                    status=409,
                    latest_size=seen_size,
                )
            self._check_consistency(seen, old_size, proof, checkpoint)
            views[checkpoint.origin] = LogView(checkpoint.size, checkpoint.root_hash, note)
            line = cosign(self.signer, checkpoint.text, int(self.clock())).line
            write_state(self.state_path, views)
        return line

    @staticmethod
    def _check_consistency(
        seen: LogView | None, old_size: int, proof: Sequence[bytes], checkpoint: Checkpoint
    ) -> None:
        if seen is None or old_size == 0:
            if proof:
                raise WitnessError("the proof must be empty when the old size is 0", status=422)
            return
        if old_size == checkpoint.size:
            if seen.root_hash != checkpoint.root_hash or proof:
                raise WitnessError(
                    f"a different root for the same size {old_size}: the log forked",
                    status=409,
                    latest_size=seen.size,
                )
            return
        try:
            verify_consistency(
                old_size, checkpoint.size, seen.root_hash, checkpoint.root_hash, proof
            )
        except MerkleProofError as exc:
            raise WitnessError(
                f"checkpoint of size {checkpoint.size} is not consistent with the cosigned "
                f"size {old_size}: {exc.reason}",
                status=422,
            ) from None


__all__ = [
    "LogView",
    "Witness",
    "WitnessError",
    "add_checkpoint_request",
    "parse_add_checkpoint",
    "read_state",
    "write_state",
]
