"""Reading the audit trail for people: search, export and subject access.

These are the privacy officers' views; what a reader may see is decided before these
functions run and arrives as ``scope`` (a partner id, or None for the partnership's DPO).
Results come from the canonical entry bodies, never from the search columns, so what an
officer reads is exactly what the Merkle tree commits to.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from audit import export as export_format
from audit.entry import decode_detail
from audit.tree import Span, hash_spans, inclusion_spans, keys_for
from gateway.audit_trail import checkpoints
from gateway.audit_trail.events import Activity, tags_of
from gateway.audit_trail.models import AuditDetail, AuditDetailToken, AuditEntry
from gateway.audit_trail.store import as_utc, fetch_nodes, leaf_hashes
from gateway.errors import PermissionDeniedError

EXPORT_BATCH = 500
CSV_COLUMNS = (
    "leaf_index",
    "time",
    "tag",
    "request_id",
    "partner",
    "client",
    "user",
    "purpose",
    "legal_basis",
    "decision",
    "reasons",
    "policy_digest",
    "counts",
    "detail_sha256",
)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Search filters; every field narrows, None means "any"."""

    partner: str | None = None
    tag: str | None = None
    purpose: str | None = None
    decision: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    activity: Activity | None = None  # data exchange or oversight (see events.EXCHANGE_TAGS)

    @property
    def is_empty(self) -> bool:
        return all(
            value is None
            for value in (
                self.partner,
                self.tag,
                self.purpose,
                self.decision,
                self.since,
                self.until,
                self.activity,
            )
        )

    def as_detail(self) -> dict[str, str]:
        """The filters as recorded in the audit entry of the search itself."""
        values = {
            "partner": self.partner,
            "tag": self.tag,
            "purpose": self.purpose,
            "decision": self.decision,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "activity": self.activity.value if self.activity else None,
        }
        return {key: value for key, value in values.items() if value is not None}


def _scoped(
    query: Select[int, bytes], filters: AuditFilter, scope: str | None
) -> Select[int, bytes]:
    if scope is not None:
        if filters.partner is not None and filters.partner != scope:
            raise PermissionDeniedError(
                f"you may only read entries of partner {scope}", field="partner"
            )
        query = query.where(AuditEntry.actor_partner == scope)
    if filters.partner is not None:
        query = query.where(AuditEntry.actor_partner == filters.partner)
    if filters.tag is not None:
        query = query.where(AuditEntry.tag == filters.tag)
    if filters.activity is not None:
        query = query.where(AuditEntry.tag.in_(tags_of(filters.activity)))
    if filters.purpose is not None:
        query = query.where(AuditEntry.purpose == filters.purpose)
    if filters.decision is not None:
        query = query.where(AuditEntry.decision == filters.decision)
    if filters.since is not None:
        query = query.where(AuditEntry.time >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.time < filters.until)
    return query


def entries_in_range(
    session: Session, start: int, end: int, *, scope: str | None
) -> list[tuple[int, bytes, bytes | None]]:
    """Entries ``start..end-1`` in the tree: (index, leaf hash, entry bytes or None).

    The bytes are given only for entries within ``scope`` (all for None); any other entry is
    represented by its leaf hash, which discloses nothing about it. A stored entry that is
    gone is left out, so that a verifier names it as missing.
    """
    hashes = leaf_hashes(session, start, end)
    rows = session.execute(
        select(AuditEntry.seq, AuditEntry.actor_partner, AuditEntry.body)
        .where(AuditEntry.seq >= start, AuditEntry.seq < end)
        .order_by(AuditEntry.seq)
    )
    return [
        (int(seq), hashes[seq], bytes(body) if scope is None or partner == scope else None)
        for seq, partner, body in rows
        if seq in hashes
    ]


def check_entry_scope(session: Session, seq: int, *, scope: str | None) -> None:
    """Refuse to show entry ``seq`` to a reader whose scope does not cover it."""
    if scope is None:
        return
    partner = session.execute(
        select(AuditEntry.actor_partner).where(AuditEntry.seq == seq)
    ).one_or_none()
    if partner is not None and partner[0] != scope:
        raise PermissionDeniedError(
            f"entry {seq} is not an entry of partner {scope}; you may only read your own "
            "partner's entries",
            field="leaf_index",
        )


@dataclass(frozen=True, slots=True)
class SearchPage:
    entries: list[tuple[int, dict[str, Any]]]
    next_before: int | None


def search(
    session: Session,
    filters: AuditFilter,
    *,
    scope: str | None,
    before: int | None = None,
    limit: int = 100,
) -> SearchPage:
    """Entries matching ``filters``, newest first; page with ``before`` = ``next_before``."""
    query = _scoped(select(AuditEntry.seq, AuditEntry.body), filters, scope)
    if before is not None:
        query = query.where(AuditEntry.seq < before)
    rows = session.execute(query.order_by(AuditEntry.seq.desc()).limit(limit + 1)).all()
    entries = [(int(seq), json.loads(bytes(body))) for seq, body in rows[:limit]]
    next_before = entries[-1][0] if len(rows) > limit else None
    return SearchPage(entries, next_before)


def _proofs(session: Session, indexes: Sequence[int], size: int) -> dict[int, list[bytes]]:
    spans: dict[int, list[Span]] = {index: inclusion_spans(index, size) for index in indexes}
    nodes = fetch_nodes(session, keys_for(span for group in spans.values() for span in group))
    return {index: hash_spans(group, nodes) for index, group in spans.items()}


def export_jsonl(
    session: Session,
    filters: AuditFilter,
    *,
    scope: str | None,
    origin: str,
    exported_at: str,
    include_details: bool = False,
) -> Iterator[str]:
    """An export file (see :mod:`audit.export`) up to the newest checkpoint.

    Without filters or scope it is the whole log (verifiable by recomputing the tree);
    otherwise every entry line carries its inclusion proof.
    """
    published = checkpoints.latest(session)
    size = published.tree_size if published else 0
    filtered = scope is not None or not filters.is_empty
    yield export_format.header_line(
        origin=origin, tree_size=size, filtered=filtered, exported_at=exported_at
    )
    if published is None:
        return
    notes = checkpoints.history(session, start=0, limit=1_000_000) if not filtered else [published]
    for item in notes:
        yield export_format.checkpoint_line(item.note)
    base = _scoped(select(AuditEntry.seq, AuditEntry.body), filters, scope)
    after = -1
    while True:
        rows = session.execute(
            base.where(AuditEntry.seq > after, AuditEntry.seq < size)
            .order_by(AuditEntry.seq)
            .limit(EXPORT_BATCH)
        ).all()
        if not rows:
            return
        indexes = [int(seq) for seq, _ in rows]
        stored = leaf_hashes(session, indexes[0], indexes[-1] + 1)
        proofs = _proofs(session, indexes, size) if filtered else {}
        details: dict[int, bytes] = {}
        if include_details:
            details = {
                int(seq): bytes(body)
                for seq, body in session.execute(
                    select(AuditDetail.seq, AuditDetail.body).where(AuditDetail.seq.in_(indexes))
                )
            }
        for seq, body in rows:
            index = int(seq)
            yield export_format.entry_line(
                index,
                bytes(body),
                stored.get(index),
                detail=details.get(index),
                proof=proofs.get(index) if filtered else None,
            )
        after = indexes[-1]


def _csv_row(index: int, entry: dict[str, Any]) -> list[str]:
    actor = entry["actor"]
    return [
        str(index),
        entry["time"],
        entry["tag"],
        entry["request_id"],
        actor["partner"] or "",
        actor["client"] or "",
        actor["user"] or "",
        entry["purpose"] or "",
        entry["legal_basis"] or "",
        entry["decision"] or "",
        " ".join(entry["reasons"]),
        entry["policy_digest"] or "",
        json.dumps(entry["counts"], sort_keys=True, separators=(",", ":")),
        entry["detail_sha256"] or "",
    ]


def export_csv(session: Session, filters: AuditFilter, *, scope: str | None) -> Iterator[str]:
    """A spreadsheet-friendly export of the entries (each row provable by its leaf index)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    base = _scoped(select(AuditEntry.seq, AuditEntry.body), filters, scope)
    after = -1
    while True:
        rows = session.execute(
            base.where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(EXPORT_BATCH)
        ).all()
        for seq, body in rows:
            writer.writerow(_csv_row(int(seq), json.loads(bytes(body))))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if not rows:
            return
        after = int(rows[-1][0])


@dataclass(frozen=True, slots=True)
class SubjectRecord:
    """One logged act that involved a token, with what was disclosed about it (if anything)."""

    leaf_index: int
    time: datetime
    tag: str
    partner: str | None
    client: str | None
    purpose: str | None
    legal_basis: str | None
    decision: str | None
    disclosed: Any


def subject_access(
    session: Session, token_hash: bytes, *, scope: str | None
) -> list[SubjectRecord]:
    """Every retained detail record naming ``token_hash`` (the *peppered* token hash).

    Answers GDPR Art. 15(1)(c) while the details are retained: which partner learnt what
    about this token, when and for which purpose. Purged details are gone from the answer.
    """
    query = (
        select(AuditEntry.seq, AuditEntry.time, AuditEntry.body, AuditDetail.body)
        .join(AuditDetailToken, AuditDetailToken.seq == AuditEntry.seq)
        .join(AuditDetail, AuditDetail.seq == AuditEntry.seq)
        .where(AuditDetailToken.token_hash == token_hash)
        .order_by(AuditEntry.seq)
    )
    if scope is not None:
        query = query.where(AuditEntry.actor_partner == scope)
    key = token_hash.hex()
    records: list[SubjectRecord] = []
    for seq, time, body, detail_body in session.execute(query):
        entry = json.loads(bytes(body))
        detail = decode_detail(bytes(detail_body))
        disclosed = detail.get("disclosed", {})
        records.append(
            SubjectRecord(
                leaf_index=int(seq),
                time=as_utc(time),
                tag=entry["tag"],
                partner=entry["actor"]["partner"],
                client=entry["actor"]["client"],
                purpose=entry["purpose"],
                legal_basis=entry["legal_basis"],
                decision=entry["decision"],
                disclosed=disclosed.get(key) if isinstance(disclosed, dict) else None,
            )
        )
    return records + _exports_of(session, records, scope=scope)


EXPORT_TAG = "audit:export:download"


def _since_until(filters: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    since, until = filters.get("since"), filters.get("until")
    return (
        as_utc(datetime.fromisoformat(since)) if isinstance(since, str) else None,
        as_utc(datetime.fromisoformat(until)) if isinstance(until, str) else None,
    )


def _export_covers(export: dict[str, Any], seq: int, record: SubjectRecord) -> bool:
    """Whether an export with detail records (recorded at ``seq``) carried ``record``'s."""
    if record.leaf_index >= seq:
        return False
    if export.get("scope") is not None and export["scope"] != record.partner:
        return False
    filters = export.get("filters", {})
    wanted = {
        "partner": record.partner,
        "tag": record.tag,
        "purpose": record.purpose,
        "decision": record.decision,
    }
    if any(filters.get(name) not in (None, value) for name, value in wanted.items()):
        return False
    since, until = _since_until(filters)
    return (since is None or record.time >= since) and (until is None or record.time < until)


def _exports_of(
    session: Session, records: Sequence[SubjectRecord], *, scope: str | None
) -> list[SubjectRecord]:
    """The audit exports that handed ``records``' detail records (naming the token) to a reader.

    An export with detail records (``details=true``) records its filters, scope and that it
    carried details; it may have carried every retained record before it that matched them
    (it stops at the newest checkpoint, so it can list a record the export did not reach: the
    answer errs on the side of naming a possible recipient).
    """
    if not records:
        return []
    query = (
        select(AuditEntry.seq, AuditEntry.time, AuditEntry.body, AuditDetail.body)
        .join(AuditDetail, AuditDetail.seq == AuditEntry.seq)
        .where(AuditEntry.tag == EXPORT_TAG, AuditEntry.seq > min(r.leaf_index for r in records))
        .order_by(AuditEntry.seq)
    )
    if scope is not None:
        query = query.where(AuditEntry.actor_partner == scope)
    found = []
    for seq, time, body, detail_body in session.execute(query):
        export = decode_detail(bytes(detail_body))
        if export.get("details") is not True:
            continue
        carried = [r.leaf_index for r in records if _export_covers(export, int(seq), r)]
        if not carried:
            continue
        entry = json.loads(bytes(body))
        found.append(
            SubjectRecord(
                leaf_index=int(seq),
                time=as_utc(time),
                tag=entry["tag"],
                partner=entry["actor"]["partner"],
                client=entry["actor"]["client"],
                purpose=entry["purpose"],
                legal_basis=entry["legal_basis"],
                decision=entry["decision"],
                disclosed={"exported_records": carried},
            )
        )
    return found
