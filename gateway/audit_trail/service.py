"""The audit trail: an entry in the caller's transaction, a sequence number, no global lock.

Appending has two halves:

1. ``record`` (in the request's transaction) *reserves* the next sequence number, writes the
   canonical entry with it (and the detail record), and returns the leaf index and leaf hash.
   On PostgreSQL the number comes from a sequence and the reservation is marked by a
   transaction-scoped advisory lock on that number; nothing is serialised, so audited
   requests commit concurrently (group commit) like any other write. On SQLite the number is
   a counter in the head row, which is transactional and serialised by SQLite's single writer
   anyway, across processes too (an operator command beside a serving gateway): the
   ``UPDATE ... RETURNING`` takes the database's write lock, and the driver opens the
   transaction at its first write, so the counter is never read from an older snapshot. The
   action and its entry commit together or not at all.
2. The *sequencer* (:mod:`gateway.audit_trail.sequencer`, run by the background scheduler
   and before every checkpoint) folds committed entries into the Merkle tree in sequence
   order, O(log n) per entry. A number whose reservation was abandoned (the request rolled
   back or the process died after reserving it) is filled with a ``audit:sequence:void``
   entry once the advisory lock shows its transaction has ended, so the log stays contiguous
   and the abandoned attempt itself is on the record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.canonical import canonical_json
from audit.entry import Entry, detail_digest, encode_detail, encode_validated
from audit.errors import EntryError
from audit.merkle import leaf_hash
from audit.note import Signer, Verifier
from audit.receipt import Receipt
from gateway.audit_trail import checkpoints, sequencer
from gateway.audit_trail.checkpoints import PublishedCheckpoint
from gateway.audit_trail.errors import AuditEventInvalidError, AuditIntegrityError
from gateway.audit_trail.events import AuditEvent
from gateway.audit_trail.keys import load_signing_key, parse_witness_keys
from gateway.audit_trail.models import (
    HEAD_ROW_ID,
    AuditDetail,
    AuditDetailToken,
    AuditEntry,
    AuditLogHead,
)
from gateway.audit_trail.store import format_time
from gateway.clock import Clock, SystemClock
from gateway.config import Settings

_HEAD = cast(Table, AuditLogHead.__table__)
_ENTRIES = cast(Table, AuditEntry.__table__)
_DETAILS = cast(Table, AuditDetail.__table__)
_TOKENS = cast(Table, AuditDetailToken.__table__)

_SEQ_SENTINEL = "\x00seq\x00"
_SEQ_TOKEN = b'"seq":' + canonical_json(_SEQ_SENTINEL)

# PostgreSQL, one round trip: draw the number and insert the entry built around it (the
# canonical bytes before and after the ``seq`` value come from Python) with its detail
# record. Drawing and inserting in one statement means an uncommitted entry holds its
# number's primary key from the start, which is what the sequencer relies on for gaps.
_PG_RECORD_SQL = """
    WITH reserved AS (
        SELECT seq, CAST(%(before)s AS bytea) || convert_to(CAST(seq AS text), 'UTF8')
                    || CAST(%(after)s AS bytea) AS body
        FROM (SELECT nextval('audit_entry_seq') AS seq) AS drawn
    ), entry AS (
        INSERT INTO audit_entries (seq, body, leaf_hash, time, tag, request_id, actor_partner,
                                   actor_client, actor_user, purpose, decision)
        SELECT seq, body, sha256(decode('00', 'hex') || body), %(time)s, %(tag)s,
               %(request_id)s, %(actor_partner)s, %(actor_client)s, %(actor_user)s,
               %(purpose)s, %(decision)s
        FROM reserved
        RETURNING seq
    ), detail AS (
        INSERT INTO audit_details (seq, expires_at, body)
        SELECT seq, %(expires)s, CAST(%(detail)s AS bytea) FROM entry
        WHERE CAST(%(detail)s AS bytea) IS NOT NULL
        RETURNING seq
    ), tokens AS (
        INSERT INTO audit_detail_tokens (token_hash, seq)
        SELECT substring(CAST(%(tokens)s AS bytea) FROM i FOR 32), detail.seq
        FROM detail, generate_series(1, length(CAST(%(tokens)s AS bytea)), 32) AS i
    )
    SELECT seq FROM entry
"""


# PostgreSQL, one round trip for a batch of entries (the group committer's): the same
# statement as above over arrays, one row per entry; each row draws its own number.
# ``numbered`` is materialised: nextval is evaluated exactly once per row.
_PG_BATCH_SQL = """
    WITH numbered AS MATERIALIZED (
        SELECT nextval('audit_entry_seq') AS seq, i.*
        FROM unnest(CAST(%(before)s AS bytea[]), CAST(%(after)s AS bytea[]),
                    CAST(%(time)s AS timestamptz[]), CAST(%(tag)s AS text[]),
                    CAST(%(request_id)s AS text[]), CAST(%(actor_partner)s AS text[]),
                    CAST(%(actor_client)s AS text[]), CAST(%(actor_user)s AS text[]),
                    CAST(%(purpose)s AS text[]), CAST(%(decision)s AS text[]),
                    CAST(%(detail)s AS bytea[]), CAST(%(expires)s AS timestamptz[]),
                    CAST(%(tokens)s AS bytea[]))
             WITH ORDINALITY AS i(before, after, time, tag, request_id, actor_partner,
                                  actor_client, actor_user, purpose, decision, detail,
                                  expires, tokens, ord)
    ), entry AS (
        INSERT INTO audit_entries (seq, body, leaf_hash, time, tag, request_id, actor_partner,
                                   actor_client, actor_user, purpose, decision)
        SELECT seq, body, sha256(decode('00', 'hex') || body), time, tag, request_id,
               actor_partner, actor_client, actor_user, purpose, decision
        FROM (SELECT *, before || convert_to(CAST(seq AS text), 'UTF8') || after AS body
              FROM numbered) AS n
        RETURNING seq
    ), detail AS (
        INSERT INTO audit_details (seq, expires_at, body)
        SELECT n.seq, n.expires, n.detail FROM entry JOIN numbered AS n ON n.seq = entry.seq
        WHERE n.detail IS NOT NULL
        RETURNING seq
    ), tokens AS (
        INSERT INTO audit_detail_tokens (token_hash, seq)
        SELECT substring(n.tokens FROM g FOR 32), n.seq
        FROM detail JOIN numbered AS n ON n.seq = detail.seq,
             generate_series(1, length(n.tokens), 32) AS g
    )
    SELECT ord, seq FROM numbered
"""


@dataclass(frozen=True, slots=True)
class AuditReceipt:
    """Where an entry sits: its leaf index (= sequence number) and leaf hash."""

    leaf_index: int
    leaf_hash: bytes
    time: datetime
    request_id: str

    @property
    def seq(self) -> int:
        return self.leaf_index


@dataclass(frozen=True, slots=True)
class PreparedEntry:
    """A validated event, encoded but not yet numbered (see :meth:`AuditTrail.prepare`)."""

    entry: Entry
    time: datetime
    detail: bytes | None
    tokens: tuple[bytes, ...]
    expires: datetime


def _entry(event: AuditEvent, digest: str | None, time: str) -> Entry:
    """Validate the event as an entry (number still unknown) before anything is written."""
    try:
        return Entry(
            seq=0,
            time=time,
            request_id=event.request_id,
            tag=str(event.tag),
            actor_partner=event.actor_partner,
            actor_client=event.actor_client,
            actor_user=event.actor_user,
            purpose=event.purpose,
            legal_basis=event.legal_basis,
            decision=event.decision,
            reasons=tuple(event.reason_codes),
            policy_digest=event.policy_digest,
            counts=dict(event.counts),
            detail_sha256=digest,
        )
    except EntryError as exc:
        raise AuditEventInvalidError(exc.reason, field=f"audit.{event.tag}") from None


def _template(entry: Entry) -> tuple[bytes, bytes]:
    """The entry's canonical bytes before and after its number (``...,"seq":`` and ``,...``)."""
    data = encode_validated({**entry.to_json(), "seq": _SEQ_SENTINEL})
    before, marker, after = data.partition(_SEQ_TOKEN)
    if not marker:  # pragma: no cover - the canonical form always has the seq key
        raise AuditIntegrityError("entry template lacks its sequence number")
    return before + b'"seq":', after


def _detail(event: AuditEvent) -> tuple[bytes | None, list[bytes]]:
    if event.detail is None:
        return None, []
    try:
        detail_bytes = encode_detail(event.detail)
    except EntryError as exc:
        raise AuditEventInvalidError(exc.reason, field=f"audit.{event.tag}") from None
    listed = event.detail.get("tokens", [])
    tokens = [bytes.fromhex(str(value)) for value in listed] if isinstance(listed, list) else []
    return detail_bytes, tokens


class AuditTrail:
    """Records audit entries and signs checkpoints over them (one per process)."""

    def __init__(
        self,
        *,
        signer: Signer,
        witness_keys: Sequence[Verifier] = (),
        checkpoint_max_entries: int = 1000,
        checkpoint_max_seconds: float = 60.0,
        detail_retention: timedelta = timedelta(days=180),
        void_grace_seconds: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        self.signer = signer
        self.witness_keys = list(witness_keys)
        self.checkpoint_max_entries = checkpoint_max_entries
        self.checkpoint_max_seconds = checkpoint_max_seconds
        self.detail_retention = detail_retention
        self.clock: Clock = clock or SystemClock()
        # Gaps in the sequence are filled with void entries only after this long.
        self.reservations = sequencer.ReservationWatch(void_grace_seconds)
        self._wakers: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def origin(self) -> str:
        return self.signer.name

    @property
    def verifier(self) -> Verifier:
        return self.signer.verifier

    @property
    def verifier_key(self) -> str:
        """The public key in C2SP vkey form: ``<origin>+<key id>+<base64>``."""
        return self.verifier.vkey

    def on_checkpoint_due(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after a commit that makes the log reach a multiple of N."""
        with self._lock:
            self._wakers.append(callback)

    def _wake(self, _session: Session) -> None:
        with self._lock:
            wakers = list(self._wakers)
        for callback in wakers:
            callback()

    def record(self, session: Session, event: AuditEvent) -> AuditReceipt:
        """Append ``event`` in ``session``'s transaction (flushes, never commits)."""
        prepared = self.prepare(event)
        session.flush()  # surface the caller's own write errors before a number is taken
        return self.write(session, prepared)

    def prepare(self, event: AuditEvent) -> PreparedEntry:
        """Validate ``event`` and encode it, number still unknown (touches no database).

        Raises :class:`AuditEventInvalidError` for an event that cannot be an entry, so a
        caller learns it before anything is written (the group committer relies on this:
        one bad event must not fail the batch it would have joined).
        """
        detail_bytes, tokens = _detail(event)
        now = self.clock.now()
        digest = detail_digest(detail_bytes) if detail_bytes else None
        entry = _entry(event, digest, format_time(now))
        return PreparedEntry(
            entry=entry,
            time=now,
            detail=detail_bytes,
            tokens=tuple(tokens),
            expires=now + self.detail_retention,
        )

    def write(self, session: Session, prepared: PreparedEntry) -> AuditReceipt:
        """Draw the entry's number and write it in ``session``'s transaction (no commit)."""
        entry = prepared.entry
        values: dict[str, object] = {
            "time": prepared.time,
            "tag": entry.tag,
            "request_id": entry.request_id,
            "actor_partner": entry.actor_partner,
            "actor_client": entry.actor_client,
            "actor_user": entry.actor_user,
            "purpose": entry.purpose,
            "decision": entry.decision,
        }
        try:
            if session.get_bind().dialect.name == "postgresql":
                record = self._record_postgres
            else:
                record = self._record_sqlite
            seq, body = record(
                session,
                entry,
                values=values,
                detail=prepared.detail,
                tokens=prepared.tokens,
                expires=prepared.expires,
            )
        except IntegrityError:
            raise AuditIntegrityError(
                "an entry with the reserved number exists already: the stored log was "
                "altered behind the sequence; refusing to append"
            ) from None
        if self._wakers and (seq + 1) % self.checkpoint_max_entries == 0:
            # A checkpoint is due after this commit: wake the sequencer rather than wait
            # for its next poll (other entries are folded in batches, one poll at a time).
            sa_event.listen(session, "after_commit", self._wake, once=True)
        return AuditReceipt(
            leaf_index=seq,
            leaf_hash=leaf_hash(body),
            time=prepared.time,
            request_id=entry.request_id,
        )

    def write_batch(self, session: Session, batch: Sequence[PreparedEntry]) -> list[AuditReceipt]:
        """Write several prepared entries in ``session``'s transaction, in one statement on
        PostgreSQL (the group committer's; each entry still draws a number of its own)."""
        if session.get_bind().dialect.name != "postgresql" or len(batch) == 1:
            return [self.write(session, prepared) for prepared in batch]
        templates = [_template(prepared.entry) for prepared in batch]
        params: dict[str, object] = {
            "before": [before for before, _ in templates],
            "after": [after for _, after in templates],
            "time": [prepared.time for prepared in batch],
            "tag": [prepared.entry.tag for prepared in batch],
            "request_id": [prepared.entry.request_id for prepared in batch],
            "actor_partner": [prepared.entry.actor_partner for prepared in batch],
            "actor_client": [prepared.entry.actor_client for prepared in batch],
            "actor_user": [prepared.entry.actor_user for prepared in batch],
            "purpose": [prepared.entry.purpose for prepared in batch],
            "decision": [prepared.entry.decision for prepared in batch],
            "detail": [prepared.detail for prepared in batch],
            "expires": [prepared.expires for prepared in batch],
            "tokens": [b"".join(prepared.tokens) for prepared in batch],
        }
        try:
            rows = session.connection().exec_driver_sql(_PG_BATCH_SQL, params).all()
        except IntegrityError:
            raise AuditIntegrityError(
                "an entry with the reserved number exists already: the stored log was "
                "altered behind the sequence; refusing to append"
            ) from None
        numbers = {int(ord_) - 1: int(seq) for ord_, seq in rows}
        if sorted(numbers) != list(range(len(batch))):  # pragma: no cover - one row each
            raise AuditIntegrityError("a batch of entries came back incomplete")
        receipts = []
        for index, prepared in enumerate(batch):
            seq = numbers[index]
            before, after = templates[index]
            body = before + str(seq).encode() + after
            receipts.append(
                AuditReceipt(
                    leaf_index=seq,
                    leaf_hash=leaf_hash(body),
                    time=prepared.time,
                    request_id=prepared.entry.request_id,
                )
            )
        every = self.checkpoint_max_entries
        first, last = min(numbers.values()), max(numbers.values())
        if self._wakers and (last + 1) // every > first // every:
            sa_event.listen(session, "after_commit", self._wake, once=True)
        return receipts

    @staticmethod
    def _record_postgres(
        session: Session,
        entry: Entry,
        *,
        values: dict[str, object],
        detail: bytes | None,
        tokens: Sequence[bytes],
        expires: datetime,
    ) -> tuple[int, bytes]:
        before, after = _template(entry)
        params = {
            **values,
            "before": before,
            "after": after,
            "detail": detail,
            "expires": expires,
            # One bytea of concatenated 32-byte tokens, split by the server: encoding a
            # bytea[] of 10,000 elements in Python cost more than the rest of the append.
            "tokens": b"".join(tokens),
        }
        # Plain driver SQL on the session's connection (no statement compilation): this runs
        # once per audited request; errors are still wrapped as SQLAlchemy errors.
        seq = int(session.connection().exec_driver_sql(_PG_RECORD_SQL, params).scalar_one())
        return seq, before + str(seq).encode() + after

    @staticmethod
    def _record_sqlite(
        session: Session,
        entry: Entry,
        *,
        values: dict[str, object],
        detail: bytes | None,
        tokens: Sequence[bytes],
        expires: datetime,
    ) -> tuple[int, bytes]:
        head = session.execute(
            update(_HEAD)
            .where(_HEAD.c.id == HEAD_ROW_ID)
            .values(reserved=_HEAD.c.reserved + 1)
            .returning(_HEAD.c.reserved)
        ).one_or_none()
        if head is None:
            raise AuditIntegrityError("audit_log_head row is missing; run `ppsgate db upgrade`")
        seq = int(head.reserved) - 1
        body = replace(entry, seq=seq).encode()
        session.execute(
            insert(_ENTRIES).values(seq=seq, body=body, leaf_hash=leaf_hash(body), **values)
        )
        if detail is not None:
            session.execute(insert(_DETAILS).values(seq=seq, expires_at=expires, body=detail))
            if tokens:
                rows = [{"token_hash": token, "seq": seq} for token in tokens]
                session.execute(insert(_TOKENS), rows)
        return seq, body

    def integrate(self, session: Session) -> int:
        """Fold committed entries into the tree now; returns the tree size."""
        return sequencer.integrate(session, self.clock, self.reservations)

    def sign_checkpoint(self, session: Session) -> PublishedCheckpoint | None:
        """Integrate, then sign a checkpoint if the tree grew (on demand)."""
        folded = sequencer.fold(session, self.clock, self.reservations)
        return checkpoints.sign_pending(session, self.signer, self.clock.now(), folded)

    def add_cosignatures(self, session: Session, tree_size: int, lines: str) -> list[str]:
        """Accept witnesses' cosignature lines for a checkpoint; returns the witnesses."""
        return checkpoints.add_cosignatures(
            session,
            tree_size,
            lines,
            witness_keys=self.witness_keys,
            log_key=self.verifier,
            now=self.clock.now(),
        )

    def receipt(self, session: Session, leaf_index: int) -> Receipt:
        """A C2SP tlog-proof receipt for an entry, once a checkpoint covers it."""
        return checkpoints.build_receipt(session, leaf_index)

    def purge_details(self, session: Session, *, before: datetime) -> int:
        """Delete detail records whose retention ended by ``before``; returns how many.

        Entries keep the digest of the deleted record, so every proof still verifies; the
        record's random salt goes with it, so the digest confirms no later guess.
        """
        expired = select(AuditDetail.seq).where(AuditDetail.expires_at <= before)
        session.execute(delete(AuditDetailToken).where(AuditDetailToken.seq.in_(expired)))
        result = session.execute(delete(AuditDetail).where(AuditDetail.expires_at <= before))
        return int(getattr(result, "rowcount", 0) or 0)


def build_audit_trail(settings: Settings, *, clock: Clock | None = None) -> AuditTrail:
    """The process's audit trail from settings.

    Needs ``audit_signing_key_file`` (a ``PRIVATE+KEY+<origin>+...`` file, mode 0600;
    generated in ``data_dir`` outside production), ``audit_origin`` (must equal the key's
    name), and optionally ``audit_witness_keys``, ``audit_checkpoint_max_entries``,
    ``audit_checkpoint_max_seconds`` and ``audit_detail_retention_days``.
    """
    return AuditTrail(
        signer=load_signing_key(settings),
        witness_keys=parse_witness_keys(settings.audit_witness_keys),
        checkpoint_max_entries=settings.audit_checkpoint_max_entries,
        checkpoint_max_seconds=settings.audit_checkpoint_max_seconds,
        detail_retention=timedelta(days=settings.audit_detail_retention_days),
        clock=clock,
    )
