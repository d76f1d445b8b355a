"""Charging a request's items against the partner's and the client's quota for its purpose.

The quota comes from the policy decision (``Decision.quota``, data in
``policies/data/quotas.json``). Usage is one row per (scope, subject, purpose, window),
each charged with a conditional upsert::

    INSERT ... ON CONFLICT (pk) DO UPDATE SET used = used + excluded.used
        WHERE used + excluded.used <= :limit RETURNING scope, used

so a row's check and increment are atomic, the same for every worker, and concurrent
requests never overshoot a limit; no row comes back when the charge would pass the limit.

The client's and the partner's rows are charged in ONE statement on the counter engine
(:mod:`gateway.abuse.counters`), committed before the request does its work. On PostgreSQL
it runs in autocommit (``synchronous_commit`` off: one round trip) and chains the upserts
as data-modifying CTEs, the partner's fed by the client's ``RETURNING``: the partner is
charged only if the client was, so a client at its limit never touches its partner's row
(its siblings keep their headroom). If the partner then refuses, the client's charge is
given back at once by a second statement (the refusal path only; meanwhile the client's
row over-counts, the safe side). On SQLite the two rows are one multi-row upsert in a short
transaction that rolls back on a refusal. Rows are locked in one order everywhere (the
client's, then the partner's), so two charges cannot deadlock, and only for that statement,
so one partner's concurrent requests do not wait for each other's work to commit. A refused
request writes only the refusal's audit entry, in the request's transaction.

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

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Integer,
    String,
    bindparam,
    case,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from gateway.abuse.counters import (
    counter_statement,
    counter_transaction,
    dialect_insert,
    give_back_unless_committed,
)
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
    """A counter would pass its limit: nothing of the charge stays."""

    def __init__(self, scope: QuotaScope, limit: int) -> None:
        super().__init__(scope.value)
        self.scope = scope
        self.limit = limit


def _meter_row(meter: int) -> dict[str, Any]:
    """The values of meter ``meter``'s usage row (bound per request; the rest fixed)."""
    return {
        "scope": bindparam(f"meter{meter}_scope", type_=String),
        "subject": bindparam(f"meter{meter}_subject", type_=String),
        "purpose": bindparam("purpose", type_=String),
        "window_start": bindparam("window_start", type_=BigInteger),
        "partner_id": bindparam("partner_id", type_=String),
        "window_seconds": bindparam("window_seconds", type_=Integer),
        "used": bindparam("items", type_=BigInteger),
        "distinct_tokens": literal(0, BigInteger),
        "hits": literal(0, BigInteger),
        "alerted": literal(False, Boolean),
    }


def _upsert(insert: Any, limit: Any) -> Any:
    """``insert`` adding to ``used`` unless that passes ``limit``; (scope, used) come back."""
    return insert.on_conflict_do_update(
        index_elements=["scope", "subject", "purpose", "window_start"],
        set_={"used": QuotaUsage.used + insert.excluded.used},
        where=QuotaUsage.used + insert.excluded.used <= limit,
    ).returning(QuotaUsage.scope, QuotaUsage.used)


def _limit(meter: int, meters: int) -> Any:
    """The last meter is the partner's (lock order: the client's, then the partner's)."""
    name = "partner_limit" if meter == meters - 1 else "client_limit"
    return bindparam(name, type_=BigInteger)


@cache
def _charge_statement(dialect: str, meters: int) -> Any:
    """The conditional upserts of every meter's row in ONE statement, in lock order, each
    against its own limit; rows come back as (scope, used) for the meters charged. Built
    once per dialect and number of meters (building it per call cost more CPU than running
    it).

    PostgreSQL: each meter's upsert is a data-modifying CTE fed by the previous one's
    ``RETURNING``, so a meter is charged only if every meter before it was: a client at its
    limit never touches the partner's row. Elsewhere (SQLite, no data-modifying CTEs): one
    multi-row upsert, run in a transaction that rolls back on a refusal."""
    if dialect != "postgresql":
        insert = dialect_insert(dialect)(QuotaUsage).values([_meter_row(m) for m in range(meters)])
        limit = case(
            (insert.excluded.scope == QuotaScope.PARTNER.value, _limit(meters - 1, meters)),
            else_=_limit(0, meters),
        )
        return _upsert(insert, limit)
    charged: list[Any] = []
    for meter in range(meters):
        row = _meter_row(meter)
        insert = postgresql.insert(QuotaUsage)
        if charged:  # one row if the previous meter was charged, none if it refused
            source = select(*row.values()).select_from(charged[-1])
            insert = insert.from_select(list(row), source)
        else:
            insert = insert.values(row)
        charged.append(_upsert(insert, _limit(meter, meters)).cte(f"meter{meter}"))
    return union_all(*(select(cte.c.scope, cte.c.used) for cte in charged))


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


def _charge_rows(connection: Connection, charge: Charge) -> dict[str, int]:
    """Add the charge's items to every meter whose limit they fit in, in one statement:
    the usage after the charge by scope, for the meters charged."""
    meters = charge.meters()
    params: dict[str, Any] = {
        "purpose": charge.purpose,
        "window_start": charge.window.start,
        "partner_id": charge.partner_id,
        "window_seconds": charge.window.seconds,
        "items": charge.items,
        "partner_limit": charge.quota.partner,
        "client_limit": charge.quota.client,
    }
    for meter, (scope, subject) in enumerate(meters):
        params[f"meter{meter}_scope"] = scope.value
        params[f"meter{meter}_subject"] = subject
    statement = _charge_statement(connection.dialect.name, len(meters))
    rows: list[Any] = list(execute_compiled(connection, statement, params))
    return {str(row[0]): int(row[1]) for row in rows}


def _give_back(
    charge: Charge, connection: Connection, scopes: frozenset[str] | None = None
) -> None:
    """Subtract a charge whose request did not commit (in the same lock order); only the
    meters of ``scopes`` if given."""
    for scope, subject in charge.meters():
        if scopes is not None and scope.value not in scopes:
            continue
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
    """Charge every meter in one statement: on PostgreSQL one round trip, in autocommit;
    elsewhere in a short transaction. The charge with the partner's usage after it. Raises
    :class:`_RefusedError` at a limit, with nothing of the charge left."""
    limits = {QuotaScope.PARTNER: charge.quota.partner, QuotaScope.CLIENT: charge.quota.client}
    for scope, _subject in charge.meters():
        if charge.items > limits[scope]:  # can never fit: no round trip
            raise _RefusedError(scope, limits[scope])
    autocommit = services.counter_engine.dialect.name == "postgresql"
    with (counter_statement if autocommit else counter_transaction)(services) as connection:
        used = _charge_rows(connection, charge)
        refused = [scope for scope, _subject in charge.meters() if scope.value not in used]
        if refused and autocommit:
            # The client's row was charged and the partner's refused (the statement charges
            # the partner only after the client): give the client's back at once; meanwhile
            # it over-counts, the safe side. A transaction rolls back instead.
            _give_back(charge, connection, frozenset(used))
        if refused:
            raise _RefusedError(refused[0], limits[refused[0]])
    return replace(charge, partner_used=used[QuotaScope.PARTNER.value])


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
