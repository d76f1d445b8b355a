"""Charging a request's items against the partner's and the client's quota for its purpose.

The quota comes from the policy decision (``Decision.quota``, data in
``policies/data/quotas.json``). Usage is one row per (scope, subject, purpose, window),
charged with one conditional upsert::

    INSERT ... ON CONFLICT (pk) DO UPDATE SET used = used + excluded.used
        WHERE used + excluded.used <= :limit RETURNING used

so the check and the increment are a single atomic statement on PostgreSQL and SQLite, the
same for every worker; no row comes back when the charge would pass the limit, and then
nothing was charged. Concurrent requests never overshoot a limit.

The charge is its own short transaction on its own connection (:mod:`gateway.abuse.counters`),
committed before the request does its work: the client is charged, then the partner (one
lock order everywhere, so two charges cannot deadlock), and if either refuses, that short
transaction rolls back and only the refusal's audit entry is written, in the request's
transaction. Counter rows are locked for that short transaction only, so one partner's
concurrent requests do not wait for each other's work to commit.

If the request's transaction then ends without committing (an error, a storage failure),
the charge is given back, again in a short transaction. The guarantee is one-sided: usage
never under-counts committed work, and may over-count by the items of requests that were
charged but never committed — a gateway killed between the charge and the commit (nothing
gives back), a failed give-back, or a commit whose outcome was unknown. A rate limit that
errs counts against the partner, never in its favour; the excess lasts until the window
ends. Usage rows are kept ``USAGE_HISTORY_SECONDS`` for ``ppsgate abuse usage`` and then
deleted by the retention purge (:mod:`gateway.abuse.housekeeping`), off the request path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import Connection, bindparam, update
from sqlalchemy.orm import Session

from gateway.abuse.counters import counter_transaction, dialect_insert, give_back_unless_committed
from gateway.abuse.errors import QuotaExceededError
from gateway.abuse.models import QuotaScope, QuotaUsage
from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.auth.principal import Principal
from gateway.dialect import execute_compiled
from gateway.policy.decision import Decision, Quota
from gateway.policy.refusals import gateway_refusal
from gateway.services import Services

QUOTA_EXCEEDED = "quota-exceeded"
QUOTA_UNDEFINED = "quota-undefined"


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

    def meters(self) -> list[tuple[QuotaScope, str]]:
        """The counters charged, in lock order: the client's (if any), then the partner's."""
        charged = [(QuotaScope.PARTNER, self.partner_id)]
        if self.client_id is not None:
            charged.insert(0, (QuotaScope.CLIENT, self.client_id))
        return charged


class _RefusedError(Exception):
    """A counter would pass its limit: rolls the charge's short transaction back."""

    def __init__(self, scope: QuotaScope, limit: int) -> None:
        super().__init__(scope.value)
        self.scope = scope
        self.limit = limit


@cache
def _charge_statement(dialect: str) -> Any:
    """The conditional upsert, built once per dialect: building it per call (the
    ``excluded`` columns, the cache key) cost more CPU than executing it."""
    insert = dialect_insert(dialect)(QuotaUsage).values(
        scope=bindparam("scope"),
        subject=bindparam("subject"),
        purpose=bindparam("purpose"),
        window_start=bindparam("window_start"),
        partner_id=bindparam("partner_id"),
        window_seconds=bindparam("window_seconds"),
        used=bindparam("items"),
        distinct_tokens=0,
        hits=0,
        alerted=False,
    )
    return insert.on_conflict_do_update(
        index_elements=["scope", "subject", "purpose", "window_start"],
        set_={"used": QuotaUsage.used + insert.excluded.used},
        where=QuotaUsage.used + insert.excluded.used <= bindparam("limit"),
    ).returning(QuotaUsage.used)


_GIVE_BACK = (
    update(QuotaUsage)
    .where(
        QuotaUsage.scope == bindparam("row_scope"),
        QuotaUsage.subject == bindparam("row_subject"),
        QuotaUsage.purpose == bindparam("row_purpose"),
        QuotaUsage.window_start == bindparam("row_window"),
    )
    .values(used=QuotaUsage.used - bindparam("items"))
)


def _charge_row(
    connection: Connection,
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
    used: int | None = execute_compiled(
        connection,
        _charge_statement(connection.dialect.name),
        {
            "scope": scope.value,
            "subject": subject,
            "purpose": purpose,
            "window_start": window.start,
            "partner_id": partner_id,
            "window_seconds": window.seconds,
            "items": items,
            "limit": limit,
        },
    ).scalar_one_or_none()
    return used


def _give_back(charge: Charge, connection: Connection) -> None:
    """Subtract a charge whose request did not commit (in the same lock order)."""
    for scope, subject in charge.meters():
        connection.execute(
            _GIVE_BACK,
            {
                "row_scope": scope.value,
                "row_subject": subject,
                "row_purpose": charge.purpose,
                "row_window": charge.window.start,
                "items": charge.items,
            },
        )


def _refuse(
    session: Session, services: Services, refusal: AuditEvent, *, code: str, counts: dict[str, int]
) -> None:
    """Audit a quota refusal: the request's refusal event with its code and counts."""
    services.audit.record(session, replace(refusal, reason_codes=(code,), counts=counts))


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

    Call it after the policy allowed the request and before the request writes anything:
    the charge commits on another connection, which on SQLite would wait for the write lock
    of the request's own transaction. The charge is given back if the session's
    transaction ends without committing.
    Raises :class:`QuotaExceededError` (429) when a quota is used up, and a
    :class:`PermissionDeniedError` when an allowed decision carries no quota (fail closed).
    """
    refusal = principal.actor(request_id).event(
        deny_tag,
        purpose=purpose,
        legal_basis=legal_basis,
        decision="deny",
        policy_digest=decision.policy_digest,
    )
    refuse = partial(_refuse, session, services, refusal)
    quota = decision.quota
    if quota is None:
        refuse(code=QUOTA_UNDEFINED, counts={"items": items})
        raise gateway_refusal(
            services.policy,
            QUOTA_UNDEFINED,
            "the policy decision carries no quota for this metered action (fail closed)",
            field="purpose",
        )
    now = services.clock.now()
    window = Window.containing(now, quota.window_seconds)
    charge = Charge(principal.partner_id, principal.client_id, purpose, quota, window, items, 0)
    try:
        charge = _charge_meters(services, charge)
    except _RefusedError as refused:
        counts = {"items": items, "limit": refused.limit, "window_seconds": window.seconds}
        refuse(code=QUOTA_EXCEEDED, counts=counts)
        raise _exceeded(charge, refused, now) from None
    give_back_unless_committed(session, services, partial(_give_back, charge))
    return charge


def _charge_meters(services: Services, charge: Charge) -> Charge:
    """Charge every meter in lock order in one short transaction; the charge with the
    partner's usage after it. Raises :class:`_RefusedError` (nothing charged) at a limit."""
    limits = {QuotaScope.PARTNER: charge.quota.partner, QuotaScope.CLIENT: charge.quota.client}
    with counter_transaction(services) as connection:
        for scope, subject in charge.meters():
            used = _charge_row(
                connection,
                scope=scope,
                subject=subject,
                partner_id=charge.partner_id,
                purpose=charge.purpose,
                window=charge.window,
                items=charge.items,
                limit=limits[scope],
            )
            if used is None:
                raise _RefusedError(scope, limits[scope])
            charge = replace(charge, partner_used=used)  # the partner is charged last
    return charge


def _exceeded(charge: Charge, refused: _RefusedError, now: datetime) -> QuotaExceededError:
    """The 429 of a charge that does not fit, with the seconds until its window ends."""
    window, retry = charge.window, charge.window.retry_after(now)
    return QuotaExceededError(
        f"the {refused.scope.value} quota for purpose {charge.purpose} is {refused.limit} "
        f"items per {window.seconds} s; this request of {charge.items} items does not fit in "
        f"what is left of the window; retry after {retry} s",
        retry_after=retry,
        field="items",
    )
