"""Charging a request's items against the partner's and the client's quota for its purpose.

The quota comes from the policy decision (``Decision.quota``, data in
``policies/data/quotas.json``). Usage is one row per (scope, subject, purpose, window),
charged with one conditional upsert::

    INSERT ... ON CONFLICT (pk) DO UPDATE SET used = used + excluded.used
        WHERE used + excluded.used <= :limit RETURNING used

so the check and the increment are a single atomic statement on PostgreSQL and SQLite, the
same for every worker; no row comes back when the charge would pass the limit, and then
nothing was charged. The client is charged before the partner (one lock order everywhere, so
two requests of one partner cannot deadlock); if the partner's quota refuses, the client's
charge is given back in the same transaction.

The charge runs in the request's transaction, before anything else is written: a request
that rolls back (crash, storage error) leaves no usage behind, and a refusal commits only
its audit entry. The partner row stays locked until the request commits, which orders one
partner's concurrent requests per purpose at commit time — the cost of exact, shared
counting; other partners and purposes are not affected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.abuse.errors import QuotaExceededError
from gateway.abuse.models import ProbeFingerprint, QuotaScope, QuotaUsage
from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.auth.principal import Principal
from gateway.errors import PermissionDeniedError
from gateway.policy.decision import Decision, Quota
from gateway.services import Services

QUOTA_EXCEEDED = "quota-exceeded"
QUOTA_UNDEFINED = "quota-undefined"
USAGE_HISTORY_SECONDS = 35 * 86_400  # kept for the console's usage charts, then deleted


@dataclass(frozen=True, slots=True)
class Window:
    """A fixed window aligned to the Unix epoch: every worker derives the same one."""

    start: int
    seconds: int

    @classmethod
    def containing(cls, moment: datetime, seconds: int) -> Window:
        now = math.floor(moment.timestamp())
        return cls(start=now - now % seconds, seconds=seconds)

    def retry_after(self, moment: datetime) -> int:
        """Whole seconds until the window ends (at least 1), for ``Retry-After``."""
        return max(1, math.ceil(self.start + self.seconds - moment.timestamp()))


@dataclass(frozen=True, slots=True)
class Charge:
    """What one request was charged: the partner's window and its usage after the charge."""

    partner_id: str
    client_id: str | None
    purpose: str
    quota: Quota
    window: Window
    items: int
    partner_used: int

    @property
    def opened_window(self) -> bool:
        """True for the partner's first charge in this window (the partner row is charged
        last and never given back, so its usage equals this request's items only then)."""
        return self.partner_used == self.items


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _charge_row(
    session: Session,
    *,
    scope: QuotaScope,
    subject: str,
    partner_id: str,
    purpose: str,
    window: Window,
    items: int,
    limit: int,
) -> int | None:
    """Add ``items`` to one counter unless that passes ``limit``; usage after, or None."""
    if items > limit:
        return None
    statement = _insert(session)(QuotaUsage).values(
        scope=scope.value,
        subject=subject,
        purpose=purpose,
        window_start=window.start,
        partner_id=partner_id,
        window_seconds=window.seconds,
        used=items,
        distinct_tokens=0,
        hits=0,
        alerted=False,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["scope", "subject", "purpose", "window_start"],
        set_={"used": QuotaUsage.used + statement.excluded.used},
        where=QuotaUsage.used + statement.excluded.used <= limit,
    ).returning(QuotaUsage.used)
    used: int | None = session.execute(statement).scalar_one_or_none()
    return used


def _give_back(
    session: Session, *, scope: QuotaScope, subject: str, purpose: str, window: Window, items: int
) -> None:
    session.execute(
        update(QuotaUsage)
        .where(
            QuotaUsage.scope == scope.value,
            QuotaUsage.subject == subject,
            QuotaUsage.purpose == purpose,
            QuotaUsage.window_start == window.start,
        )
        .values(used=QuotaUsage.used - items)
    )


def _forget_past_windows(session: Session, partner_id: str, purpose: str, window: Window) -> None:
    """Drop what past windows no longer need: fingerprints at once, usage after a while."""
    session.execute(
        delete(ProbeFingerprint).where(
            ProbeFingerprint.partner_id == partner_id,
            ProbeFingerprint.purpose == purpose,
            ProbeFingerprint.window_start < window.start,
        )
    )
    session.execute(
        delete(QuotaUsage).where(
            QuotaUsage.partner_id == partner_id,
            QuotaUsage.purpose == purpose,
            QuotaUsage.window_start < window.start - USAGE_HISTORY_SECONDS,
        )
    )


def _refuse(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    request_id: str,
    purpose: str,
    legal_basis: str | None,
    decision: Decision,
    deny_tag: AuditTag,
    code: str,
    counts: dict[str, int],
) -> None:
    services.audit.record(
        session,
        AuditEvent(
            tag=deny_tag,
            request_id=request_id,
            actor_partner=principal.partner_id,
            actor_client=principal.client_id,
            purpose=purpose,
            legal_basis=legal_basis,
            decision="deny",
            reason_codes=(code,),
            policy_digest=decision.policy_digest,
            counts=counts,
        ),
    )


def charge_quota(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    request_id: str,
    purpose: str,
    legal_basis: str | None,
    decision: Decision,
    items: int,
    deny_tag: AuditTag,
) -> Charge:
    """Charge ``items`` to the client's and the partner's quota, or refuse (audited).

    Call it after the policy allowed the request and before anything else is written.
    Raises :class:`QuotaExceededError` (429) when a quota is used up, and a
    :class:`PermissionDeniedError` when an allowed decision carries no quota (fail closed).
    """
    quota = decision.quota
    if quota is None:
        _refuse(
            session,
            services,
            principal,
            request_id=request_id,
            purpose=purpose,
            legal_basis=legal_basis,
            decision=decision,
            deny_tag=deny_tag,
            code=QUOTA_UNDEFINED,
            counts={"items": items},
        )
        raise PermissionDeniedError(
            "the policy decision carries no quota for this metered action (fail closed)",
            field="purpose",
            reasons=(QUOTA_UNDEFINED,),
            audited=True,
        )
    now = services.clock.now()
    window = Window.containing(now, quota.window_seconds)
    meters = [(QuotaScope.PARTNER, principal.partner_id, quota.partner)]
    if principal.client_id is not None:
        meters.insert(0, (QuotaScope.CLIENT, principal.client_id, quota.client))
    charged: list[tuple[QuotaScope, str]] = []
    used = 0
    for scope, subject, limit in meters:
        after = _charge_row(
            session,
            scope=scope,
            subject=subject,
            partner_id=principal.partner_id,
            purpose=purpose,
            window=window,
            items=items,
            limit=limit,
        )
        if after is None:
            for done_scope, done_subject in charged:
                _give_back(
                    session,
                    scope=done_scope,
                    subject=done_subject,
                    purpose=purpose,
                    window=window,
                    items=items,
                )
            _refuse(
                session,
                services,
                principal,
                request_id=request_id,
                purpose=purpose,
                legal_basis=legal_basis,
                decision=decision,
                deny_tag=deny_tag,
                code=QUOTA_EXCEEDED,
                counts={"items": items, "limit": limit, "window_seconds": window.seconds},
            )
            retry = window.retry_after(now)
            raise QuotaExceededError(
                f"the {scope.value} quota for purpose {purpose} is {limit} items per "
                f"{window.seconds} s; this request of {items} items does not fit in what is "
                f"left of the window; retry after {retry} s",
                retry_after=retry,
                field="items",
            )
        charged.append((scope, subject))
        used = after
    charge = Charge(
        partner_id=principal.partner_id,
        client_id=principal.client_id,
        purpose=purpose,
        quota=quota,
        window=window,
        items=items,
        partner_used=used,
    )
    if charge.opened_window:
        _forget_past_windows(session, principal.partner_id, purpose, window)
    return charge
