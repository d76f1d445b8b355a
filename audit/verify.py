"""Verify a whole audit log the way a Certificate Transparency monitor does.

Given the log's public key and a source of entries (the HTTP API or an export file), the
verifier recomputes every leaf hash and the root from the entries themselves, checks the
latest checkpoint's signature, checks every earlier signed checkpoint it can see against the
recomputed tree, and checks that the log still extends the last checkpoint this verifier
accepted (kept in a local state file). Trusting nothing the log computed, it then names the
*first* entry at fault:

- structure: an entry that is not canonical v1/v2 JSON, or whose ``seq`` is not its position
  (rows deleted, inserted or reordered);
- content: the first leaf whose hash differs from what the signed tree commits to, found
  with the log's stored leaf hashes once those are themselves authenticated by the signed
  root, or else by bisection with the log's consistency proofs, or else narrowed to the range
  between two signed checkpoints.

Entry contents are private (only a partner's audit readers and the partnership's DPO may read
them); anyone may read leaf hashes. A source may therefore present an entry as its leaf hash
alone (``data=None``): the verifier then checks the *hash-level* tree, i.e. that those leaf
hashes make up every signed root and that the log only grew, without reading what the
entries say. Where contents are given, their hashes are recomputed and their structure
checked as above.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from audit.checkpoint import Checkpoint, SignedCheckpoint, open_checkpoint
from audit.entry import Entry, detail_digest
from audit.errors import AuditError, EntryError, MerkleProofError, VerificationError
from audit.merkle import HASH_SIZE, leaf_hash, root_from_hashes, verify_consistency
from audit.note import Verifier
from audit.statefile import locked, write_json_atomic
from audit.tree import append_leaf, frontier_keys, frontier_root


@dataclass(frozen=True, slots=True)
class SourceEntry:
    """One entry as a source presents it; ``leaf_hash`` is the log's own (unverified) hash.

    ``data`` is None when the source withholds the contents (a public reader, or another
    partner's entry): the leaf hash then stands for the entry.
    """

    index: int
    data: bytes | None
    leaf_hash: bytes | None = None
    detail: bytes | None = None


class LogSource(Protocol):
    """Where the verifier reads a log from (HTTP API, export file)."""

    def latest_checkpoint(self) -> str: ...

    def checkpoint_history(self) -> list[str]: ...

    def entries(self, start: int, end: int) -> Iterable[SourceEntry]: ...

    def consistency_proof(self, first: int, second: int) -> list[bytes] | None: ...


@dataclass(frozen=True, slots=True)
class MonitorState:
    """The last tree a verifier accepted: size, root, compact range and the signed note."""

    origin: str
    size: int
    root_hash: bytes
    frontier: tuple[bytes, ...]
    checkpoint: str

    def to_json(self) -> dict[str, Any]:
        def enc(value: bytes) -> str:
            return base64.b64encode(value).decode("ascii")

        return {
            "size": self.size,
            "root": enc(self.root_hash),
            "frontier": [enc(value) for value in self.frontier],
            "checkpoint": self.checkpoint,
        }

    @classmethod
    def from_json(cls, origin: str, value: Mapping[str, Any]) -> MonitorState:
        state = cls(
            origin=origin,
            size=int(value["size"]),
            root_hash=base64.b64decode(value["root"]),
            frontier=tuple(base64.b64decode(item) for item in value["frontier"]),
            checkpoint=str(value["checkpoint"]),
        )
        if len(state.frontier) != state.size.bit_count() or (
            frontier_root(state.frontier) != state.root_hash
        ):
            raise AuditError(f"state for {origin} is inconsistent (frontier does not match root)")
        return state


def read_monitor_state(path: Path, origin: str) -> MonitorState | None:
    """The saved state for ``origin``, or None if this verifier never accepted a tree."""
    if not path.exists():
        return None
    try:
        logs = json.loads(path.read_text("utf-8"))["logs"]
        value = logs.get(origin)
        return None if value is None else MonitorState.from_json(origin, value)
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditError(f"state file {path} is unreadable ({exc}); refusing to guess") from None


def write_monitor_state(path: Path, state: MonitorState) -> None:
    """Record ``state`` for its origin, keeping other logs' states."""
    with locked(path):
        logs: dict[str, Any] = {}
        if path.exists():
            logs = json.loads(path.read_text("utf-8")).get("logs", {})
        logs[state.origin] = state.to_json()
        write_json_atomic(path, {"version": 1, "logs": logs})


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What a successful verification established."""

    origin: str
    size: int
    root_hash: bytes
    entries_checked: int
    checkpoints_checked: int
    details_checked: int
    previous_size: int | None
    cosigners: tuple[str, ...]
    leaves_checked: int = 0


@dataclass
class _Scan:
    """Running state of one pass over the entries."""

    frontier: list[bytes]
    size: int
    hashes: bytearray
    stored: bytearray | None
    structural: tuple[int, str] | None = None
    mismatch: Checkpoint | None = None
    rewritten: bool = False
    details: int = 0
    checked: int = 0
    hash_only: int = 0


def _split_hashes(packed: bytearray) -> list[bytes]:
    return [bytes(packed[i : i + HASH_SIZE]) for i in range(0, len(packed), HASH_SIZE)]


class LogVerifier:
    """Verifies logs signed by one key (optionally also requiring witness cosignatures)."""

    def __init__(
        self,
        log_key: Verifier,
        *,
        origin: str | None = None,
        witnesses: Sequence[Verifier] = (),
        required_cosigners: Sequence[str] = (),
    ) -> None:
        self.log_key = log_key
        self.origin = origin or log_key.name
        self.witnesses = list(witnesses)
        self.required_cosigners = list(required_cosigners)

    def _open(self, note: str, what: str) -> SignedCheckpoint:
        try:
            signed = open_checkpoint(
                note, self.log_key, witnesses=self.witnesses, origin=self.origin
            )
        except AuditError as exc:
            raise VerificationError(f"{what}: {exc.reason}") from None
        return signed

    def verify(
        self, source: LogSource, state: MonitorState | None = None, *, full: bool = False
    ) -> tuple[VerifyReport, MonitorState]:
        """Verify ``source``; returns a report and the state to save for next time."""
        latest_note = source.latest_checkpoint()
        signed = self._open(latest_note, "latest checkpoint")
        missing = [n for n in self.required_cosigners if n not in signed.cosigners]
        if missing:
            raise VerificationError(f"latest checkpoint lacks cosignatures of {', '.join(missing)}")
        latest = signed.checkpoint
        history = self._history(source, latest)
        self._check_against_state(latest, history, state)
        trusted: dict[int, Checkpoint] = {cp.size: cp for cp in history}
        incremental = state is not None and not full
        if incremental and state is not None and latest.size > state.size:
            # Only new entries are read: the log must first prove it extends the old tree.
            self._check_served_consistency(source, state, latest)
        start = state.size if incremental and state is not None else 0
        scan = _Scan(
            frontier=list(state.frontier) if incremental and state is not None else [],
            size=start,
            hashes=bytearray(),
            stored=bytearray(),
        )
        self._scan(source, scan, latest, trusted, None if incremental else state)
        self._judge(source, scan, latest=latest, trusted=trusted, start=start, state=state)
        if not incremental and state is not None and latest.size > state.size:
            self._check_served_consistency(source, state, latest)
        report = VerifyReport(
            origin=self.origin,
            size=latest.size,
            root_hash=latest.root_hash,
            entries_checked=scan.checked - scan.hash_only,
            checkpoints_checked=len({cp.size for cp in history if cp.size > start} | {latest.size}),
            details_checked=scan.details,
            previous_size=state.size if state is not None else None,
            cosigners=signed.cosigners,
            leaves_checked=scan.hash_only,
        )
        new_state = MonitorState(
            self.origin, latest.size, latest.root_hash, tuple(scan.frontier), latest_note
        )
        return report, new_state

    def _check_against_state(
        self, latest: Checkpoint, history: Sequence[Checkpoint], state: MonitorState | None
    ) -> None:
        if state is None:
            return
        for cp in history:
            if cp.size == state.size and cp.root_hash != state.root_hash:
                raise VerificationError(
                    f"the log now signs a different root for size {state.size} than the one "
                    "this verifier accepted: its history was rewritten",
                    index=None,
                )
        if latest.size < state.size:
            raise VerificationError(
                f"the log shrank: its checkpoint covers {latest.size} entries but this verifier "
                f"already accepted {state.size} (truncated or rolled back)",
                index=latest.size,
            )
        if latest.size == state.size and latest.root_hash != state.root_hash:
            raise VerificationError(
                f"two different signed roots for size {latest.size}: the log was rewritten",
                index=None,
            )

    def _history(self, source: LogSource, latest: Checkpoint) -> list[Checkpoint]:
        checkpoints = []
        for note in source.checkpoint_history():
            cp = self._open(note, "checkpoint in the log's history").checkpoint
            if cp.size <= latest.size:
                checkpoints.append(cp)
        return sorted(checkpoints, key=lambda cp: cp.size)

    def _scan(
        self,
        source: LogSource,
        scan: _Scan,
        latest: Checkpoint,
        trusted: Mapping[int, Checkpoint],
        state: MonitorState | None,
    ) -> None:
        position = scan.size
        for item in source.entries(scan.size, latest.size):
            if position >= latest.size:
                break
            value = self._leaf(item, position, scan)
            scan.hashes += value
            if scan.stored is not None:
                if item.leaf_hash is not None and len(item.leaf_hash) == HASH_SIZE:
                    scan.stored += item.leaf_hash
                else:
                    scan.stored = None
            scan.frontier, _ = append_leaf(scan.frontier, position, value)
            position += 1
            scan.size = position
            scan.checked += 1
            expected = trusted.get(position)
            if (
                scan.mismatch is None
                and expected is not None
                and frontier_root(scan.frontier) != expected.root_hash
            ):
                scan.mismatch = expected
            if (
                state is not None
                and position == state.size
                and frontier_root(scan.frontier) != state.root_hash
            ):
                scan.rewritten = True
        if position < latest.size and scan.structural is None:
            scan.structural = (
                position,
                f"entry {position} is missing: the log returned only {position} of the "
                f"{latest.size} entries its checkpoint covers",
            )

    @classmethod
    def _leaf(cls, item: SourceEntry, position: int, scan: _Scan) -> bytes:
        """The leaf hash at ``position``: recomputed from contents, or the one served."""
        if item.index != position and scan.structural is None:
            scan.structural = (
                position,
                f"entry {position} is missing: the log returned entry {item.index} in its place",
            )
        if item.data is not None:
            cls._check_entry(item, item.data, position, scan)
            return leaf_hash(item.data)
        scan.hash_only += 1
        if item.leaf_hash is None or len(item.leaf_hash) != HASH_SIZE:
            if scan.structural is None:
                scan.structural = (
                    position,
                    f"entry {position} is missing: the log sent neither its contents nor a "
                    "32-byte leaf hash",
                )
            return bytes(HASH_SIZE)
        return item.leaf_hash

    @staticmethod
    def _check_entry(item: SourceEntry, data: bytes, position: int, scan: _Scan) -> None:
        if scan.structural is not None:
            return
        try:
            entry = Entry.decode(data)
        except EntryError as exc:
            scan.structural = (position, f"entry {position} is malformed: {exc.reason}")
            return
        if entry.seq != position:
            scan.structural = (
                position,
                f"entry {position} says it is entry {entry.seq} "
                "(rows deleted, inserted or reordered)",
            )
            return
        if item.detail is not None:
            if entry.detail_sha256 != detail_digest(item.detail):
                scan.structural = (
                    position,
                    f"entry {position}: its detail record does not match the digest committed "
                    "in the entry",
                )
                return
            scan.details += 1

    def _judge(
        self,
        source: LogSource,
        scan: _Scan,
        *,
        latest: Checkpoint,
        trusted: Mapping[int, Checkpoint],
        start: int,
        state: MonitorState | None,
    ) -> None:
        target = scan.mismatch
        if (
            target is None
            and scan.size == latest.size
            and frontier_root(scan.frontier) != latest.root_hash
        ):
            target = latest
        candidates: list[tuple[int, str]] = []
        if scan.structural is not None:
            candidates.append(scan.structural)
        if target is not None:
            candidates.append(self._locate(source, scan, target, trusted, start))
        if scan.rewritten and state is not None:
            candidates.append(self._locate_rewrite(scan, state))
        if candidates:
            index, reason = min(candidates, key=lambda item: item[0])
            raise VerificationError(reason, index=index)

    def _locate(
        self,
        source: LogSource,
        scan: _Scan,
        target: Checkpoint,
        trusted: Mapping[int, Checkpoint],
        start: int,
    ) -> tuple[int, str]:
        """The first entry in ``[start, target.size)`` that the signed tree disowns."""
        size = target.size
        ours = _split_hashes(scan.hashes)
        prefix = f"the entries do not hash to the signed root of size {size}"
        if start == 0 and scan.stored is not None and len(scan.stored) >= size * HASH_SIZE:
            stored = _split_hashes(scan.stored)[:size]
            if root_from_hashes(stored) == target.root_hash:
                for i in range(size):
                    if stored[i] != ours[i]:
                        return i, (
                            f"entry {i} was altered: its content does not match the leaf hash "
                            f"that the signed checkpoint of size {size} commits to"
                        )
        if start == 0 and source.consistency_proof(1, size) is not None:
            index = self._bisect(source, ours, target)
            confirmed = f"entries 0..{index - 1} are" if index else "no entry is"
            return index, (
                f"entry {index} was altered: {prefix}, and {confirmed} confirmed by the "
                "log's consistency proofs"
            )
        lower = max((s for s in trusted if start <= s < size), default=start)
        return lower, (
            f"{prefix}; the first altered entry is among entries {lower}..{size - 1} "
            "(the last earlier signed checkpoint still matches)"
        )

    @staticmethod
    def _locate_rewrite(scan: _Scan, state: MonitorState) -> tuple[int, str]:
        """Narrow a rewrite to the first perfect subtree of the accepted tree that differs."""
        ours = _split_hashes(scan.hashes)
        for key, expected in zip(frontier_keys(state.size), state.frontier, strict=True):
            low = key.idx << key.level
            high = low + (1 << key.level)
            if root_from_hashes(ours[low:high]) != expected:
                return low, (
                    f"the log's history was rewritten: entries {low}..{high - 1} no longer "
                    f"match the tree of size {state.size} this verifier accepted before"
                )
        return 0, f"the log's history was rewritten below size {state.size}"

    @staticmethod
    def _bisect(source: LogSource, ours: Sequence[bytes], target: Checkpoint) -> int:
        good, bad = 0, target.size  # prefix of length ``good`` verified, ``bad`` refuted
        while bad - good > 1:
            middle = (good + bad) // 2
            proof = source.consistency_proof(middle, target.size) or []
            try:
                verify_consistency(
                    middle, target.size, root_from_hashes(ours[:middle]), target.root_hash, proof
                )
            except MerkleProofError:
                bad = middle
            else:
                good = middle
        return bad - 1

    def _check_served_consistency(
        self, source: LogSource, state: MonitorState, latest: Checkpoint
    ) -> None:
        if state.size == 0:
            return
        proof = source.consistency_proof(state.size, latest.size)
        if proof is None:
            return
        try:
            verify_consistency(state.size, latest.size, state.root_hash, latest.root_hash, proof)
        except MerkleProofError as exc:
            raise VerificationError(
                f"the log cannot prove that its checkpoint of size {latest.size} extends the "
                f"tree of size {state.size} this verifier accepted (history rewritten?): "
                f"{exc.reason}"
            ) from None
