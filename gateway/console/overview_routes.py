"""The overview page: activity, rates, the log's integrity and what needs attention."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from gateway.audit_trail.events import AuditTag
from gateway.auth.permissions import Permission
from gateway.auth.principal import Principal
from gateway.console import charts, integrity
from gateway.console.access import AuditAccess, audit_access
from gateway.console.bundles import live_bundle
from gateway.console.deps import PageUser, needs
from gateway.console.i18n import Translator, period_label
from gateway.console.names import Names
from gateway.console.overview import Overview, build_overview
from gateway.console.period import Period, choices, current_quarter_key, parse_period
from gateway.console.read_events import audit_read_event
from gateway.console.web import PREFIX, ConsoleRoute, language_of, render
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.errors import PermissionDeniedError
from gateway.services import Services

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

PeriodField = Annotated[str | None, Query(max_length=16)]
READS_AUDIT = frozenset({Permission.AUDIT_READ_OWN, Permission.AUDIT_READ_ALL})


def _chosen_period(
    period: str | None, since: str | None, until: str | None, days: int | None, now: datetime
) -> Period:
    """The picked period; ``days`` (the older link form) counts when no period is named."""
    return parse_period(
        f"{days}d" if days and not period else period,
        since=since,
        until=until,
        now=now,
        default=current_quarter_key(now),
    )


def _optional_access(
    services: Services, request_id: str, principal: Principal
) -> tuple[AuditAccess | None, PermissionDeniedError | None]:
    """The reader's audit access if the role reads the log, or the (audited) refusal to show."""
    if not principal.permissions & READS_AUDIT:
        return None, None
    try:
        return audit_access(services, request_id, principal), None
    except PermissionDeniedError as exc:  # audited by audit_access; shown on the page
        return None, exc


def _period_choices(t: Translator, chosen: Period, now: datetime) -> dict[str, object]:
    quarters, months = choices(now)
    return {
        "period": chosen,
        "period_label": period_label(t, chosen),
        "quarters": [(item, period_label(t, item)) for item in quarters],
        "months": [(item, period_label(t, item)) for item in months],
    }


def _charts(t: Translator, stats: Overview | None, names: Names | None) -> dict[str, object]:
    """The decision labels and the page's three charts (none without statistics)."""
    labels = {"allow": t("decision.allow"), "deny": t("decision.deny"), "other": t("decision.none")}
    drawn: dict[str, object] = {"labels": labels}
    drawn["chart_days"] = (
        charts.stacked_days(stats.days, title=t("overview.requests_per_day"), labels=labels)
        if stats
        else None
    )
    drawn["chart_partners"] = drawn["chart_purposes"] = None
    if stats and names:
        partners = [(names.partner(key), count) for key, count in stats.by_partner]
        purposes = [(names.purpose(key), count) for key, count in stats.by_purpose]
        drawn["chart_partners"] = charts.horizontal_bars(
            partners, title=t("overview.by_partner"), chart_id="chart-partners"
        )
        drawn["chart_purposes"] = charts.horizontal_bars(
            purposes, title=t("overview.by_purpose"), chart_id="chart-purposes"
        )
    return drawn


@router.get("/overview", response_class=HTMLResponse)
def overview(
    *,
    request: Request,
    principal: PageUser,
    services: ServicesDep,
    request_id: RequestIdDep,
    period: PeriodField = None,
    since: PeriodField = None,
    until: PeriodField = None,
    days: Annotated[int | None, Query(ge=1, le=90)] = None,
) -> HTMLResponse:
    t = Translator(language_of(request))
    now = services.clock.now()
    chosen = _chosen_period(period, since, until, days, now)
    access, refused = _optional_access(services, request_id, principal)
    with transaction(services.session_factory) as session:
        stats = names = None
        if access is not None:
            stats = build_overview(session, scope=access.scope, period=chosen)
            names = Names.of(t, live_bundle(services, session), session)
            services.audit.record(
                session,
                audit_read_event(
                    access,
                    request_id,
                    AuditTag.CONSOLE_OVERVIEW_VIEW,
                    counts={"days": chosen.days},
                    detail={"scope": access.scope or "all", "period": chosen.key},
                ),
            )
        status = (
            integrity.status(session)
            if Permission.AUDIT_INTEGRITY_READ in principal.permissions
            else None
        )
    context = _period_choices(t, chosen, now)
    context.update(names=names, access=access, refused=refused, stats=stats, status=status)
    context.update(_charts(t, stats, names))
    return render(request, "overview.html", context, principal=principal)


@router.post("/integrity/verify")
def verify_now(
    services: ServicesDep,
    request_id: RequestIdDep,
    principal: Annotated[Principal, needs(Permission.AUDIT_INTEGRITY_READ)],
) -> RedirectResponse:
    """Check the log now; the result (good or bad) is an audit entry naming the checker."""
    with transaction(services.session_factory) as session:
        result = integrity.verify(session, services.audit)
        services.audit.record(
            session,
            principal.actor(request_id).event(
                AuditTag.AUDIT_INTEGRITY_VERIFY,
                reason_codes=result.codes,
                counts={
                    "tree_size": result.tree_size,
                    "previous_size": result.previous_size,
                    "cosignatures": result.cosignatures,
                },
            ),
        )
    return RedirectResponse(f"{PREFIX}/overview#integrity", status_code=303)
