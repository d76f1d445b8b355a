"""What the audit pages read: filters from the page, one entry with its proof, report counts.

Search and export are ``gateway.audit_trail.queries`` (the same functions as the API); this
module adds what only the console needs: turning form fields into an ``AuditFilter`` with
errors that name the field, an entry's detail with its inclusion proof under the newest
checkpoint (checked here too, so a page without JavaScript still states the result), and the
check of a checkpoint's signature that the regulator's report states.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.checkpoint import open_checkpoint
from audit.errors import AuditError
from audit.merkle import leaf_hash, verify_inclusion
from gateway.audit_trail import checkpoints, store
from gateway.audit_trail.checkpoints import PublishedCheckpoint
from gateway.audit_trail.errors import AuditIntegrityError
from gateway.audit_trail.events import Activity, AuditTag
from gateway.audit_trail.models import AuditEntry
from gateway.audit_trail.queries import AuditFilter
from gateway.audit_trail.service import AuditTrail
from gateway.errors import InvalidRequestError, NotFoundError

PAGE_SIZE = 50
MAX_TEXT = 128


def _text(value: str | None, field: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > MAX_TEXT:
        raise InvalidRequestError(f"longer than {MAX_TEXT} characters", field=field)
    return value


def _day(value: str | None, field: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequestError("must be a date as YYYY-MM-DD", field=field) from None


def parse_filters(
    *,
    partner: str | None,
    action: str | None,
    purpose: str | None,
    decision: str | None,
    since: str | None,
    until: str | None,
    activity: str | None = None,
) -> AuditFilter:
    """An ``AuditFilter`` from the page's fields; ``until`` is inclusive (a whole day)."""
    kind = _text(activity, "activity")
    if kind is not None and kind not in {item.value for item in Activity}:
        raise InvalidRequestError("must be exchange, access or oversight", field="activity")
    tag = _text(action, "action")
    if tag is not None and tag not in {item.value for item in AuditTag}:
        raise InvalidRequestError(f"unknown action {tag!r}", field="action")
    verdict = _text(decision, "decision")
    if verdict not in (None, "allow", "deny"):
        raise InvalidRequestError("must be allow or deny", field="decision")
    first, last = _day(since, "since"), _day(until, "until")
    if first and last and last < first:
        raise InvalidRequestError("is before the start date", field="until")
    return AuditFilter(
        partner=_text(partner, "partner"),
        tag=tag,
        purpose=_text(purpose, "purpose"),
        decision=verdict,
        since=datetime.combine(first, time.min, tzinfo=UTC) if first else None,
        until=datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC) if last else None,
        activity=Activity(kind) if kind else None,
    )


def filter_fields(filters: AuditFilter) -> dict[str, str]:
    """The filter as page fields again (for links: export, paging, report)."""
    until = filters.until - timedelta(days=1) if filters.until else None
    values = {
        "partner": filters.partner,
        "action": filters.tag,
        "purpose": filters.purpose,
        "decision": filters.decision,
        "since": filters.since.date().isoformat() if filters.since else None,
        "until": until.date().isoformat() if until else None,
        "activity": filters.activity.value if filters.activity else None,
    }
    return {key: value for key, value in values.items() if value}


def report_fields(fields: dict[str, str]) -> dict[str, str]:
    """The report link for a filter: its partner and, when both are set, its dates."""
    wanted = {"partner"} | ({"since", "until"} if {"since", "until"} <= fields.keys() else set())
    return {key: value for key, value in fields.items() if key in wanted}


def entry_partner(session: Session, seq: int) -> tuple[bool, str | None]:
    """(exists, actor partner) of an entry, from its search column."""
    row = session.execute(select(AuditEntry.actor_partner).where(AuditEntry.seq == seq)).first()
    return (False, None) if row is None else (True, row[0])


@dataclass(frozen=True, slots=True)
class ProofView:
    """An inclusion proof with everything the browser needs to check it alone."""

    checkpoint: PublishedCheckpoint
    audit_path: list[str]
    leaf_hash: str
    server_ok: bool
    server_detail: str


@dataclass(frozen=True, slots=True)
class EntryView:
    seq: int
    body: bytes
    entry: dict[str, Any]
    proof: ProofView | None

    @property
    def body_b64(self) -> str:
        return base64.b64encode(self.body).decode()

    @property
    def pretty(self) -> str:
        return json.dumps(self.entry, indent=2, sort_keys=True, ensure_ascii=False)


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def load_entry(session: Session, seq: int, audit: AuditTrail) -> EntryView:
    bodies = store.entry_bodies(session, seq, seq + 1)
    if not bodies:
        raise NotFoundError(f"entry {seq} does not exist", field="leaf_index")
    body = bodies[0][1]
    published = checkpoints.latest(session)
    proof = None
    if published is not None and seq < published.tree_size:
        path = store.inclusion_proof(session, seq, published.tree_size)
        leaf = leaf_hash(body)
        try:
            signed = open_checkpoint(published.note, audit.verifier)
            verify_inclusion(leaf, seq, published.tree_size, path, signed.checkpoint.root_hash)
            ok, detail = True, "signature and inclusion verified"
        except (AuditError, AuditIntegrityError) as exc:
            ok, detail = False, str(exc)
        proof = ProofView(published, [b64(h) for h in path], b64(leaf), ok, detail)
    return EntryView(seq, body, json.loads(body), proof)


def checkpoint_signature(
    published: PublishedCheckpoint | None, audit: AuditTrail
) -> tuple[bool, tuple[str, ...]]:
    """Whether the checkpoint's log signature verifies now, and which witnesses cosigned."""
    if published is None:
        return False, ()
    try:
        signed = open_checkpoint(published.note, audit.verifier, witnesses=audit.witness_keys)
    except AuditError:
        return False, ()
    return True, signed.cosigners
