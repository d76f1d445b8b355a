"""Signing checkpoints, publishing cosignatures and building receipts.

A checkpoint is never signed over what the database merely claims. The signer starts from
the last checkpoint it signed (verified with its own public key, with the frontier stored
beside it), re-hashes every entry appended since, checks the stored subtree hashes and the
head against that recomputation, and only then signs. A checkpoint therefore always extends
the previous one, and an entry or node altered in the database is refused (an
:class:`AuditIntegrityError`) instead of being laundered by a fresh signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, or_, select
from sqlalchemy.orm import Session

from audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from audit.cosignature import cosignature_timestamp
from audit.entry import entry_seq
from audit.errors import AuditError, EntryError
from audit.merkle import leaf_hash
from audit.note import Signer, Verifier, open_note, split_note
from audit.receipt import Receipt
from audit.tree import NodeKey, append_leaf, completed_between, frontier_root
from gateway.audit_trail.errors import AuditIntegrityError, CosignatureRejectedError
from gateway.audit_trail.models import AuditCheckpoint, AuditCosignature, AuditNode
from gateway.audit_trail.sequencer import Folded
from gateway.audit_trail.store import entry_bodies, inclusion_proof, read_head, split_frontier
from gateway.dialect import insert_ignoring_conflicts
from gateway.errors import NotFoundError

SIGN_BATCH = 2000


@dataclass(frozen=True, slots=True)
class PublishedCheckpoint:
    """A stored checkpoint with the cosignatures the gateway holds for it."""

    tree_size: int
    root_hash: bytes
    note: str
    signed_at: datetime
    cosigners: tuple[str, ...]


def _publish(session: Session, row: AuditCheckpoint) -> PublishedCheckpoint:
    cosignatures = session.execute(
        select(AuditCosignature.witness, AuditCosignature.signature_line)
        .where(AuditCosignature.tree_size == row.tree_size)
        .order_by(AuditCosignature.witness)
    ).all()
    note = row.note + "".join(line for _, line in cosignatures)
    return PublishedCheckpoint(
        tree_size=int(row.tree_size),
        root_hash=bytes(row.root_hash),
        note=note,
        signed_at=row.signed_at,
        cosigners=tuple(witness for witness, _ in cosignatures),
    )


def latest(session: Session) -> PublishedCheckpoint | None:
    row = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    ).one_or_none()
    return None if row is None else _publish(session, row)


def newest(session: Session) -> tuple[int, datetime] | None:
    """Size and signing time of the newest checkpoint (one indexed row, no cosignatures)."""
    row = session.execute(
        select(AuditCheckpoint.tree_size, AuditCheckpoint.signed_at)
        .order_by(AuditCheckpoint.tree_size.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else (int(row.tree_size), row.signed_at)


def at_size(session: Session, tree_size: int) -> PublishedCheckpoint | None:
    row = session.get(AuditCheckpoint, tree_size)
    return None if row is None else _publish(session, row)


def history(session: Session, *, start: int, limit: int) -> list[PublishedCheckpoint]:
    """Checkpoints with ``tree_size >= start``, smallest first."""
    rows = session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size >= start)
        .order_by(AuditCheckpoint.tree_size)
        .limit(limit)
    ).all()
    return [_publish(session, row) for row in rows]


def _starting_point(session: Session, verifier: Verifier) -> tuple[int, list[bytes]]:
    """Size and frontier of the last signed checkpoint, authenticated by its signature."""
    row = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    ).one_or_none()
    if row is None:
        return 0, []
    try:
        checkpoint = open_checkpoint(row.note, verifier).checkpoint
    except AuditError as exc:
        raise AuditIntegrityError(
            f"stored checkpoint of size {row.tree_size} does not verify: {exc.reason}"
        ) from None
    frontier = split_frontier(row.frontier)
    if checkpoint.size != row.tree_size or frontier_root(frontier) != checkpoint.root_hash:
        raise AuditIntegrityError(
            f"stored frontier of checkpoint {row.tree_size} does not match its signed root"
        )
    return checkpoint.size, frontier


def _stored_nodes(session: Session, start: int, end: int) -> dict[NodeKey, bytes]:
    ranges = completed_between(start, end)
    nodes = cast(Table, AuditNode.__table__)  # Core columns: no ORM row loading per node
    condition = or_(
        *(
            and_(nodes.c.level == level, nodes.c.idx >= first, nodes.c.idx <= last)
            for level, (first, last) in ranges.items()
        )
    )
    rows = session.execute(select(nodes.c.level, nodes.c.idx, nodes.c.hash).where(condition))
    return {NodeKey(int(level), int(idx)): bytes(value) for level, idx, value in rows}


def _recompute(session: Session, start: int, end: int, frontier: list[bytes]) -> list[bytes]:
    """Re-hash entries ``[start, end)`` onto ``frontier``, checking stored nodes on the way.

    These entries were folded into the tree by an earlier transaction, whose sequencer
    decoded each in full; what can have changed since is the stored rows. So each body is
    hashed again and its leaf compared with the stored subtree hashes (any changed body, or
    a body moved to another row, fails there), and its number is read without a second
    full decode (:func:`audit.entry.entry_seq`).
    """
    position = start
    for chunk in range(start, end, SIGN_BATCH):
        chunk_end = min(end, chunk + SIGN_BATCH)
        produced: dict[NodeKey, bytes] = {}
        for seq, body in entry_bodies(session, chunk, chunk_end):
            if seq != position:
                raise AuditIntegrityError(f"entry {position} is missing from the stored log")
            try:
                if entry_seq(body) != seq:
                    raise EntryError(f"its body claims another sequence number than {seq}")
            except EntryError as exc:
                raise AuditIntegrityError(f"entry {seq} is corrupt: {exc.reason}") from None
            frontier, completed = append_leaf(frontier, seq, leaf_hash(body))
            produced.update(completed)
            position += 1
        if position != chunk_end:
            raise AuditIntegrityError(f"entry {position} is missing from the stored log")
        stored = _stored_nodes(session, chunk, chunk_end)
        for key, value in produced.items():
            if stored.get(key) != value:
                raise AuditIntegrityError(
                    f"stored subtree {tuple(key)} disagrees with the entries it covers"
                )
    return frontier


def _verified_frontier(
    session: Session, start: int, frontier: list[bytes], size: int, folded: Folded | None
) -> list[bytes]:
    """The frontier of ``size`` entries, from the checkpoint at ``start`` and the entries.

    Entries the sequencer folded in this same transaction (``folded``) were read and checked
    there, and the nodes they complete were computed from them: they are not read again. The
    rest (folded by earlier transactions) are re-hashed, and the frontier they give must be
    the head that this transaction's sequencer started from.
    """
    if folded is None or not start <= folded.start or folded.size != size:
        return _recompute(session, start, size, frontier)
    frontier = _recompute(session, start, folded.start, frontier)
    if frontier != folded.start_frontier:
        raise AuditIntegrityError("the stored head disagrees with the entries it covers")
    return folded.frontier


def sign_pending(
    session: Session, signer: Signer, now: datetime, folded: Folded | None = None
) -> PublishedCheckpoint | None:
    """Sign a checkpoint of the committed head if it grew since the last one.

    ``folded`` is what :func:`.sequencer.fold` did earlier in ``session``'s transaction, if
    anything: those entries were checked there and are not checked twice.
    """
    head = read_head(session)
    start, frontier = _starting_point(session, signer.verifier)
    if head.size < start:
        raise AuditIntegrityError(
            f"the log has {head.size} entries, fewer than its signed checkpoint of size {start}"
        )
    if head.size == start:
        return None
    frontier = _verified_frontier(session, start, frontier, head.size, folded)
    if frontier != head.frontier:
        raise AuditIntegrityError("the stored head disagrees with the entries it covers")
    root = frontier_root(frontier)
    note = sign_checkpoint(Checkpoint(signer.name, head.size, root), signer)
    session.execute(
        insert_ignoring_conflicts(session, AuditCheckpoint.__table__, ["tree_size"]).values(
            tree_size=head.size,
            root_hash=root,
            frontier=b"".join(frontier),
            note=note,
            signed_at=now,
        )
    )
    return at_size(session, head.size)


def add_cosignatures(
    session: Session,
    tree_size: int,
    lines: str,
    *,
    witness_keys: list[Verifier],
    log_key: Verifier,
    now: datetime,
) -> list[str]:
    """Store witnesses' cosignature lines for the checkpoint of ``tree_size``.

    Lines from unknown keys are ignored (C2SP tlog-witness); a line from a configured
    witness that does not verify, or no line from any configured witness, is refused.
    """
    row = session.get(AuditCheckpoint, tree_size)
    if row is None:
        raise NotFoundError(f"no checkpoint of size {tree_size}", field="tree_size")
    text, log_signatures = split_note(row.note)
    body = lines if lines.endswith("\n") else lines + "\n"
    try:
        note = open_note(
            text + "\n" + "".join(sig.line for sig in log_signatures) + body,
            [*witness_keys, log_key],
        )
    except AuditError as exc:
        raise CosignatureRejectedError(exc.reason, field="body") from None
    accepted = []
    for sig in note.sigs:
        if (sig.name, sig.key_id) == (log_key.name, log_key.key_id):
            continue
        session.execute(
            insert_ignoring_conflicts(
                session, AuditCosignature.__table__, ["tree_size", "witness"]
            ).values(
                tree_size=tree_size,
                witness=sig.name,
                key_id=sig.key_id,
                signature_line=sig.line,
                cosigned_at=cosignature_timestamp(sig),
                received_at=now,
            )
        )
        accepted.append(sig.name)
    if not accepted:
        raise CosignatureRejectedError("no cosignature from a configured witness key", field="body")
    return accepted


def build_receipt(session: Session, leaf_index: int) -> Receipt:
    """A C2SP tlog-proof for ``leaf_index`` under the newest checkpoint that covers it.

    The entry's canonical JSON rides in the ``extra`` line so the receipt is self-contained.
    """
    published = latest(session)
    if published is None or leaf_index >= published.tree_size:
        raise NotFoundError(
            f"no signed checkpoint covers entry {leaf_index} yet; retry after the next one",
            field="leaf_index",
        )
    bodies = entry_bodies(session, leaf_index, leaf_index + 1)
    if not bodies:
        raise NotFoundError(f"entry {leaf_index} does not exist", field="leaf_index")
    proof = inclusion_proof(session, leaf_index, published.tree_size)
    return Receipt(leaf_index, tuple(proof), published.note, extra=bodies[0][1])
