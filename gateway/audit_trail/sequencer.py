"""The sequencer: folds committed entries into the Merkle tree, in sequence order.

Requests reserve sequence numbers and commit their entries concurrently (see
:mod:`gateway.audit_trail.service`); this module moves the tree forward over the
*contiguous* committed prefix: for each next number it hashes the entry, checks it (leaf
hash as recorded, a valid entry holding that number: the one full decode an entry gets),
appends the leaf to the frontier (O(log n)) and writes the perfect subtrees the leaf
completes, then updates the head row. It returns what it did (:class:`Folded`), so a
checkpoint signed in the same transaction need not read those entries again. One sequencer
runs at a time per database (a PostgreSQL advisory lock; SQLite's single writer); a second
caller waits for the first and then finds less to do.

A gap below the reserved count is a number whose request rolled back or died. On PostgreSQL
the sequencer fills it with an ``audit:sequence:void`` entry once the reservation is older
than a grace period; inserting the void waits for the reserving transaction if it is somehow
still running (same primary key), so a late commit can never be overwritten: it wins and the
void is not written. On SQLite reservations are transactional, so a gap cannot occur
honestly and is reported as an integrity failure.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select, text, update
from sqlalchemy.orm import Session

from audit.entry import Entry
from audit.errors import EntryError
from audit.merkle import leaf_hash
from audit.tree import NodeKey, append_leaf
from gateway.audit_trail.errors import AuditIntegrityError
from gateway.audit_trail.events import AuditTag
from gateway.audit_trail.models import HEAD_ROW_ID, AuditLogHead
from gateway.audit_trail.store import entry_rows, format_time, split_frontier
from gateway.clock import Clock

# Advisory lock held by the one sequencer at a time (a key no other area uses).
SEQUENCER_LOCK = 0x6175_6469_7400_0001
BATCH = 5000
VOID_REQUEST_ID = "void"

_HEAD = cast(Table, AuditLogHead.__table__)

# The hashes travel as one bytea of concatenated 32-byte values, cut by the server: psycopg
# encodes a bytea[] element by element in Python, which cost more than hashing the entries.
_PG_NODES = text(
    "INSERT INTO audit_nodes (level, idx, hash) "
    "SELECT k.level, k.idx, "
    "substring(CAST(:hashes AS bytea) FROM CAST(k.n AS integer) * 32 - 31 FOR 32) "
    "FROM unnest(CAST(:levels AS smallint[]), CAST(:idxs AS bigint[])) "
    "WITH ORDINALITY AS k(level, idx, n)"
)
_PG_HEAD = text(
    "SELECT pg_advisory_xact_lock(:lock) AS locked, h.tree_size, h.frontier, "
    "(SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END "
    "FROM audit_entry_seq) AS reserved "
    "FROM audit_log_head AS h WHERE h.id = :id FOR UPDATE OF h"
)
_PG_VOID = text(
    "INSERT INTO audit_entries (seq, body, leaf_hash, time, tag, request_id) "
    "VALUES (:seq, :body, :leaf_hash, :time, :tag, :request_id) "
    "ON CONFLICT (seq) DO NOTHING RETURNING seq"
)


class ReservationWatch:
    """Remembers when reserved counts were seen, to tell an old gap from a fresh one."""

    def __init__(self, grace_seconds: float) -> None:
        self.grace_seconds = grace_seconds
        self._seen: deque[tuple[float, int]] = deque(maxlen=256)
        self._lock = threading.Lock()

    def settled_below(self, reserved: int) -> int:
        """Numbers below this were reserved at least ``grace_seconds`` ago."""
        now = time.monotonic()
        with self._lock:
            self._seen.append((now, reserved))
            if self.grace_seconds <= 0:
                return reserved
            old = [count for seen, count in self._seen if now - seen >= self.grace_seconds]
            return max(old, default=0)


def _void(session: Session, position: int, clock: Clock) -> tuple[bytes, bytes]:
    """Fill an abandoned number (waits out a still-running reserver; it wins if it commits)."""
    now = clock.now()
    body = Entry(
        seq=position,
        time=format_time(now),
        request_id=VOID_REQUEST_ID,
        tag=AuditTag.AUDIT_SEQUENCE_VOID.value,
        reasons=("reservation-abandoned",),
    ).encode()
    inserted = session.execute(
        _PG_VOID,
        {
            "seq": position,
            "body": body,
            "leaf_hash": leaf_hash(body),
            "time": now,
            "tag": AuditTag.AUDIT_SEQUENCE_VOID.value,
            "request_id": VOID_REQUEST_ID,
        },
    ).first()
    if inserted is not None:
        return body, leaf_hash(body)
    committed = entry_rows(session, position, position + 1)
    if position not in committed:
        raise AuditIntegrityError(f"entry {position} is neither committed nor fillable")
    return committed[position]


def _write_nodes(session: Session, nodes: list[tuple[NodeKey, bytes]], postgres: bool) -> None:
    if not nodes:
        return
    if postgres:
        session.execute(
            _PG_NODES,
            {
                "levels": [key.level for key, _ in nodes],
                "idxs": [key.idx for key, _ in nodes],
                "hashes": b"".join(value for _, value in nodes),
            },
        )
    else:
        session.connection().exec_driver_sql(
            "INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)",
            [(key.level, key.idx, value) for key, value in nodes],
        )


@dataclass(frozen=True, slots=True)
class Folded:
    """What one pass of the sequencer did in the caller's transaction.

    ``start``/``start_frontier`` are the head it found (what the database claimed),
    ``size``/``frontier`` the head it left: every entry in ``[start, size)`` was read once,
    its body hashed and compared with the leaf hash recorded beside it and decoded in full
    (a valid entry holding its own number), and the nodes it completes were computed here
    and written in this transaction. The checkpoint signer, in the same transaction, trusts
    this range instead of reading and checking it again (:mod:`.checkpoints`).
    """

    start: int
    start_frontier: list[bytes]
    size: int
    frontier: list[bytes]


def _lock_head(session: Session, postgres: bool) -> tuple[int, list[bytes], int]:
    """Take the sequencer's lock; the head's size and frontier, and the reserved count."""
    if postgres:
        # One round trip: the advisory lock (one sequencer at a time; a second one waits),
        # the head row locked, and the count reserved (read at most as late as the lock: a
        # count read before a wait is only smaller, which folds less this pass, never more).
        row = session.execute(_PG_HEAD, {"lock": SEQUENCER_LOCK, "id": HEAD_ROW_ID}).one()
    else:
        # Take SQLite's write lock before reading, so two sequencers never read one head.
        session.execute(
            update(_HEAD).where(_HEAD.c.id == HEAD_ROW_ID).values(tree_size=_HEAD.c.tree_size)
        )
        row = session.execute(
            select(_HEAD.c.tree_size, _HEAD.c.frontier, _HEAD.c.reserved).where(
                _HEAD.c.id == HEAD_ROW_ID
            )
        ).one()
    return int(row.tree_size), split_frontier(bytes(row.frontier)), int(row.reserved)


def _checked_leaf(position: int, body: bytes, recorded: bytes) -> bytes:
    """The leaf hash of the entry at ``position``, once its body is checked (once, here)."""
    leaf = leaf_hash(body)
    try:
        if leaf != recorded:
            raise EntryError("its body no longer matches the leaf hash recorded with it")
        if Entry.decode(body).seq != position:
            raise EntryError(f"its body claims another number than {position}")
    except EntryError as exc:
        raise AuditIntegrityError(f"entry {position} is corrupt: {exc.reason}") from None
    return leaf


def fold(session: Session, clock: Clock, watch: ReservationWatch) -> Folded:
    """Extend the tree over the committed contiguous prefix, in ``session``'s transaction."""
    postgres = session.get_bind().dialect.name == "postgresql"
    start, frontier, reserved = _lock_head(session, postgres)
    start_frontier, size = list(frontier), start
    fillable = watch.settled_below(reserved) if postgres else 0
    blocked = False
    while size < reserved and not blocked:
        end = min(reserved, size + BATCH)
        rows = entry_rows(session, size, end)
        nodes: list[tuple[NodeKey, bytes]] = []
        for position in range(size, end):
            row = rows.get(position)
            if row is None:
                if not postgres:
                    raise AuditIntegrityError(f"entry {position} is missing from the stored log")
                if position >= fillable:
                    blocked = True  # a fresh reservation: its request may still commit
                    break
                row = _void(session, position, clock)
            frontier, completed = append_leaf(frontier, position, _checked_leaf(position, *row))
            nodes.extend(completed)
            size = position + 1
        _write_nodes(session, nodes, postgres)
    if size != start:
        session.execute(
            update(_HEAD)
            .where(_HEAD.c.id == HEAD_ROW_ID)
            .values(tree_size=size, frontier=b"".join(frontier), updated_at=clock.now())
        )
    return Folded(start, start_frontier, size, frontier)


def integrate(session: Session, clock: Clock, watch: ReservationWatch) -> int:
    """Extend the tree over the committed contiguous prefix; returns the tree size."""
    return fold(session, clock, watch).size
