"""An in-memory log for the verifier and witness tests: real entries, keys and proofs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from audit import merkle
from audit.checkpoint import Checkpoint, sign_checkpoint
from audit.entry import Entry
from audit.note import Signer, generate_signer
from audit.verify import SourceEntry

ORIGIN = "log.test/audit"


def entry_bytes(seq: int, *, partner: str = "bank-a", items: int = 1, version: int = 2) -> bytes:
    """A real entry; ``version=1`` as logs wrote it before the commitment nonce."""
    old = {"version": 1, "nonce": None} if version == 1 else {}
    return Entry(
        seq=seq,
        time=f"2026-11-29T09:{seq // 60 % 60:02d}:{seq % 60:02d}.000000Z",
        request_id=f"req-{seq}",
        tag="match:query:allow",
        actor_partner=partner,
        purpose="fraud-prevention",
        legal_basis="gdpr-6-1-f",
        decision="allow",
        counts={"items": items},
        **old,  # type: ignore[arg-type]
    ).encode()


@dataclass
class MemoryLog:
    """A log as its operator holds it; tests tamper with ``rows`` directly."""

    signer: Signer = field(default_factory=lambda: generate_signer(ORIGIN))
    rows: list[tuple[int, bytes]] = field(default_factory=list)
    stored_hashes: dict[int, bytes] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    serve_proofs: bool = True
    serve_leaf_hashes: bool = True
    withheld: set[int] = field(default_factory=set)  # served as their leaf hash only

    def append(self, count: int, *, partner: str = "bank-a") -> None:
        for _ in range(count):
            seq = len(self.rows)
            data = entry_bytes(seq, partner=partner)
            self.rows.append((seq, data))
            self.stored_hashes[seq] = merkle.leaf_hash(data)

    def leaves(self) -> list[bytes]:
        return [data for _, data in self.rows]

    def sign(self) -> str:
        size = len(self.rows)
        note = sign_checkpoint(Checkpoint(ORIGIN, size, merkle.root(self.leaves())), self.signer)
        self.notes[size] = note
        return note

    # LogSource
    def latest_checkpoint(self) -> str:
        return self.notes[max(self.notes)]

    def checkpoint_history(self) -> list[str]:
        return [self.notes[size] for size in sorted(self.notes)]

    def entries(self, start: int, end: int) -> Iterable[SourceEntry]:
        for position, (seq, data) in enumerate(self.rows):
            if start <= position < end:
                stored = self.stored_hashes.get(seq) if self.serve_leaf_hashes else None
                yield SourceEntry(seq, None if seq in self.withheld else data, stored)

    def consistency_proof(self, first: int, second: int) -> list[bytes] | None:
        if not self.serve_proofs:
            return None
        # Proofs come from the operator's stored leaf hashes (its node cache).
        hashes = [self.stored_hashes[i] for i in range(second)]
        return _consistency_from_hashes(hashes, first)


def _consistency_from_hashes(hashes: list[bytes], first: int) -> list[bytes]:
    from audit.tree import NodeKey, append_leaf, consistency_spans, hash_spans

    frontier: list[bytes] = []
    nodes: dict[NodeKey, bytes] = {}
    for index, value in enumerate(hashes):
        frontier, completed = append_leaf(frontier, index, value)
        nodes.update(completed)
    return hash_spans(consistency_spans(first, len(hashes)), nodes)
