"""Offboarding a partner (story 10): its access ends at once, its data follows a decision.

One transaction, each step audited on its own so the log shows what happened in order:

1. every client of the partner is suspended (``partner:client:suspend``): tokens already
   issued are refused from the next request on;
2. the partner's status becomes ``left`` (``partner:offboard``): no token is issued to it,
   the key custodian's recipient list excludes it from the next salt epoch ("partner is
   left"), and its watch list — which served only its own alerts — is deleted;
3. the retention decision on its indicators: ``expire`` (the default under the retention
   policy: they stop matching now and the next retention purge deletes them,
   ``partner:indicators:expire``) or ``keep`` (the partnership decided to keep them until
   their own expiry, recorded with its reason, ``partner:indicators:keep``).

Offboarding is final: a partner that left is not reinstated (onboard it again instead).

It touches the partner registry, the indicators and the watch list, so it sits above all
three (beside the retention purge) rather than inside the partner registry, which
authentication and the areas build on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, func, select, update

from gateway.alerts.models import WatchEntry
from gateway.audit_trail.events import AuditTag
from gateway.errors import ConflictError, InvalidRequestError
from gateway.freetext import refuse_identifiers
from gateway.indicators.models import Indicator
from gateway.partners.models import ClientStatus, PartnerStatus
from gateway.partners.service import PartnerRegistry

MAX_REASON_LENGTH = 300


class RetentionDecision(StrEnum):
    """What happens to a departing partner's indicators."""

    EXPIRE = "expire"
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class OffboardReport:
    partner_id: str
    clients_suspended: tuple[str, ...]
    watch_entries_deleted: int
    indicators: int
    decision: RetentionDecision


def _check_reason(decision: RetentionDecision, reason: str | None) -> str | None:
    text = (reason or "").strip()
    if decision is RetentionDecision.KEEP and not text:
        raise InvalidRequestError(
            "keeping a departing partner's indicators needs the partnership's reason "
            "(cite its decision)",
            field="reason",
        )
    if len(text) > MAX_REASON_LENGTH or not text.isprintable():
        raise InvalidRequestError(
            f"must be at most {MAX_REASON_LENGTH} printable characters", field="reason"
        )
    # The reason is written to the audit log: like the help desk's register, never an
    # identifier in it.
    refuse_identifiers(text, "reason")
    return text or None


def offboard(
    registry: PartnerRegistry,
    partner_id: str,
    *,
    decision: RetentionDecision,
    reason: str | None = None,
) -> OffboardReport:
    """Suspend the clients, mark the partner left, apply the retention decision; audited."""
    checked = _check_reason(decision, reason)
    partner = registry.get(partner_id)
    if partner.status == PartnerStatus.LEFT:
        raise ConflictError(f"partner {partner.id!r} has left already", field="partner")
    now = registry.clock.now()
    suspended = []
    for client in registry.clients_of(partner.id):
        if client.status != ClientStatus.SUSPENDED:
            registry.suspend_client(client.id)
            suspended.append(client.id)
    session = registry.session
    watched = session.execute(delete(WatchEntry).where(WatchEntry.partner_id == partner.id))
    partner.status = PartnerStatus.LEFT.value
    partner.status_changed_at = now
    session.flush()
    deleted = int(getattr(watched, "rowcount", 0) or 0)
    registry.record(
        AuditTag.PARTNER_OFFBOARD,
        partner.id,
        {"clients_suspended": suspended, "decision": decision.value},
        counts={"clients_suspended": len(suspended), "watch_entries_deleted": deleted},
    )
    live = (Indicator.partner_id == partner.id, Indicator.expires_at > now)
    if decision is RetentionDecision.EXPIRE:
        result = session.execute(update(Indicator).where(*live).values(expires_at=now))
        count = int(getattr(result, "rowcount", 0) or 0)
        registry.record(
            AuditTag.PARTNER_INDICATORS_EXPIRE, partner.id, {}, counts={"indicators": count}
        )
    else:
        count = int(session.scalar(select(func.count()).select_from(Indicator).where(*live)) or 0)
        registry.record(
            AuditTag.PARTNER_INDICATORS_KEEP,
            partner.id,
            {"reason": checked},
            counts={"indicators": count},
        )
    return OffboardReport(partner.id, tuple(suspended), deleted, count, decision)
