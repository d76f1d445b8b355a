"""Reads of the stored tree: head, nodes, entries and proofs in O(log n) queries.

Proofs are planned by :mod:`audit.tree` (which perfect subtrees a proof needs) and served
with one batched node read, so a proof in a ten-million-entry log costs one indexed query
for a few dozen rows. Nothing here locks: proofs are only ever asked for sizes that are
already committed, and committed nodes never change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, text, tuple_
from sqlalchemy.orm import Session

from audit.merkle import HASH_SIZE
from audit.tree import (
    NodeKey,
    Span,
    consistency_spans,
    frontier_keys,
    frontier_root,
    hash_spans,
    inclusion_spans,
    keys_for,
)
from gateway.audit_trail.errors import AuditIntegrityError
from gateway.audit_trail.models import HEAD_ROW_ID, AuditLogHead, AuditNode
from gateway.errors import InvalidRequestError

NODE_BATCH = 200


def format_time(moment: datetime) -> str:
    """Entry time: RFC 3339, UTC, microseconds, ``Z``."""
    if moment.tzinfo is None:
        raise AuditIntegrityError("the clock returned a naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_utc(moment: datetime) -> datetime:
    """Stored times are UTC; SQLite hands them back naive."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def split_frontier(packed: bytes) -> list[bytes]:
    if len(packed) % HASH_SIZE:
        raise AuditIntegrityError("stored frontier is not a whole number of hashes")
    return [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]


@dataclass(frozen=True, slots=True)
class Head:
    """The committed tree: its size and frontier."""

    size: int
    frontier: list[bytes]

    @property
    def root_hash(self) -> bytes:
        return frontier_root(self.frontier)


def read_head(session: Session) -> Head:
    row = session.execute(
        select(AuditLogHead.tree_size, AuditLogHead.frontier).where(AuditLogHead.id == HEAD_ROW_ID)
    ).one_or_none()
    if row is None:
        raise AuditIntegrityError("audit_log_head row is missing; run `ppsgate db upgrade`")
    frontier = split_frontier(row.frontier)
    if len(frontier) != int(row.tree_size).bit_count():
        raise AuditIntegrityError("stored frontier does not match the stored tree size")
    return Head(int(row.tree_size), frontier)


_PG_NODES = (
    "SELECT n.level, n.idx, n.hash FROM unnest(%(levels)s::smallint[], %(idxs)s::bigint[]) "
    "AS k(level, idx) JOIN audit_nodes AS n ON n.level = k.level AND n.idx = k.idx"
)
_NODES_IN = select(AuditNode.level, AuditNode.idx, AuditNode.hash).where(
    tuple_(AuditNode.level, AuditNode.idx).in_(bindparam("keys", expanding=True))
)


def fetch_nodes(session: Session, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
    """Stored subtree hashes for ``keys``: one indexed lookup per key, one statement.

    The statement text is the same for every proof (an array join on PostgreSQL, an
    expanding IN on SQLite), so it is planned and compiled once, not per proof.
    """
    wanted = sorted(set(keys))
    found: dict[NodeKey, bytes] = {}
    for start in range(0, len(wanted), NODE_BATCH):
        batch = wanted[start : start + NODE_BATCH]
        if session.get_bind().dialect.name == "postgresql":
            params = {"levels": [k.level for k in batch], "idxs": [k.idx for k in batch]}
            rows = session.connection().exec_driver_sql(_PG_NODES, params).all()
        else:
            rows = list(session.execute(_NODES_IN, {"keys": [tuple(k) for k in batch]}))
        for level, idx, value in rows:
            found[NodeKey(int(level), int(idx))] = bytes(value)
    return found


def _check_size(size: int, head: Head, field: str) -> None:
    if size > head.size:
        raise InvalidRequestError(
            f"tree size {size} exceeds the log's current size {head.size}", field=field
        )


def inclusion_proof(session: Session, leaf_index: int, tree_size: int) -> list[bytes]:
    """PATH(leaf_index, D[tree_size]) from stored nodes."""
    head = read_head(session)
    _check_size(tree_size, head, "tree_size")
    if not 0 <= leaf_index < tree_size:
        raise InvalidRequestError(
            f"leaf index {leaf_index} is outside a tree of size {tree_size}", field="leaf_index"
        )
    spans = inclusion_spans(leaf_index, tree_size)
    return _hashes(session, spans)


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) from stored nodes."""
    head = read_head(session)
    _check_size(second, head, "second")
    if not 0 < first <= second:
        raise InvalidRequestError(
            f"first size {first} must be between 1 and the second size {second}", field="first"
        )
    return _hashes(session, consistency_spans(first, second))


def _hashes(session: Session, spans: Sequence[Span]) -> list[bytes]:
    nodes = fetch_nodes(session, keys_for(spans))
    try:
        return hash_spans(spans, nodes)
    except LookupError as exc:
        raise AuditIntegrityError(str(exc)) from None


def root_at(session: Session, size: int) -> bytes:
    """The root of the first ``size`` leaves, from the stored frontier nodes of that size."""
    keys = frontier_keys(size)
    nodes = fetch_nodes(session, keys)
    missing = [key for key in keys if key not in nodes]
    if missing:
        raise AuditIntegrityError(f"stored tree lacks subtree {missing[0]} of size {size}")
    return frontier_root([nodes[key] for key in keys])


def leaf_hashes(session: Session, start: int, end: int) -> dict[int, bytes]:
    """Stored level-0 hashes for leaves ``[start, end)``."""
    rows = session.execute(
        select(AuditNode.idx, AuditNode.hash).where(
            AuditNode.level == 0, AuditNode.idx >= start, AuditNode.idx < end
        )
    )
    return {int(idx): bytes(value) for idx, value in rows}


# Plain text statements: their rows come back as the driver made them (bytes), without a
# result processor per column, which the sequencer and signer would pay on every entry.
_ENTRY_BODIES = text(
    "SELECT seq, body FROM audit_entries WHERE seq >= :start AND seq < :end ORDER BY seq"
)
_ENTRY_ROWS = text(
    "SELECT seq, body, leaf_hash FROM audit_entries WHERE seq >= :start AND seq < :end"
)


def entry_bodies(session: Session, start: int, end: int) -> list[tuple[int, bytes]]:
    """Stored entries with ``start <= seq < end`` in sequence order."""
    rows = session.execute(_ENTRY_BODIES, {"start": start, "end": end})
    return [(int(seq), bytes(body)) for seq, body in rows]


def entry_rows(session: Session, start: int, end: int) -> dict[int, tuple[bytes, bytes]]:
    """Stored entries ``start <= seq < end`` with the leaf hash recorded beside each."""
    rows = session.execute(_ENTRY_ROWS, {"start": start, "end": end})
    return {int(seq): (bytes(body), bytes(value)) for seq, body, value in rows}
