"""The overview page: activity, rates, the log's integrity and what needs attention."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.auth.permissions import Permission
from gateway.auth.principal import Principal
from gateway.console import charts, integrity
from gateway.console.access import AuditAccess, audit_access
from gateway.console.bundles import live_bundle
from gateway.console.deps import PageUser, needs
from gateway.console.i18n import Translator, period_label
from gateway.console.names import Names
from gateway.console.overview import build_overview
from gateway.console.period import choices, current_quarter_key, parse_period
from gateway.console.web import PREFIX, ConsoleRoute, language_of, render
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.errors import PermissionDeniedError

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

PeriodField = Annotated[str | None, Query(max_length=16)]
READS_AUDIT = frozenset({Permission.AUDIT_READ_OWN, Permission.AUDIT_READ_ALL})


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
    chosen = parse_period(
        f"{days}d" if days and not period else period,
        since=since,
        until=until,
        now=now,
        default=current_quarter_key(now),
    )
    access: AuditAccess | None = None
    refused: PermissionDeniedError | None = None
    if principal.permissions & READS_AUDIT:
        try:
            access = audit_access(services, request_id, principal)
        except PermissionDeniedError as exc:  # audited by audit_access; shown on the page
            refused = exc
    with transaction(services.session_factory) as session:
        stats = names = None
        if access is not None:
            stats = build_overview(session, scope=access.scope, period=chosen)
            names = Names.of(t, live_bundle(services, session), session)
            services.audit.record(
                session,
                AuditEvent(
                    tag=AuditTag.CONSOLE_OVERVIEW_VIEW,
                    request_id=request_id,
                    actor_partner=principal.partner_id,
                    actor_user=principal.user,
                    purpose=access.grant.purpose,
                    legal_basis=access.grant.legal_basis,
                    decision="allow",
                    policy_digest=access.grant.decision.policy_digest,
                    counts={"days": chosen.days},
                    detail={"scope": access.scope or "all", "period": chosen.key},
                ),
            )
        status = (
            integrity.status(session)
            if Permission.AUDIT_INTEGRITY_READ in principal.permissions
            else None
        )
    labels = {"allow": t("decision.allow"), "deny": t("decision.deny"), "other": t("decision.none")}
    quarters, months = choices(now)
    context = {
        "period": chosen,
        "period_label": period_label(t, chosen),
        "quarters": [(item, period_label(t, item)) for item in quarters],
        "months": [(item, period_label(t, item)) for item in months],
        "names": names,
        "access": access,
        "refused": refused,
        "stats": stats,
        "status": status,
        "labels": labels,
        "chart_days": charts.stacked_days(
            stats.days, title=t("overview.requests_per_day"), labels=labels
        )
        if stats
        else None,
        "chart_partners": charts.horizontal_bars(
            [(names.partner(key), count) for key, count in stats.by_partner],
            title=t("overview.by_partner"),
            chart_id="chart-partners",
        )
        if stats and names
        else None,
        "chart_purposes": charts.horizontal_bars(
            [(names.purpose(key), count) for key, count in stats.by_purpose],
            title=t("overview.by_purpose"),
            chart_id="chart-purposes",
        )
        if stats and names
        else None,
    }
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
            AuditEvent(
                tag=AuditTag.AUDIT_INTEGRITY_VERIFY,
                request_id=request_id,
                actor_partner=principal.partner_id,
                actor_user=principal.user,
                reason_codes=result.codes,
                counts={
                    "tree_size": result.tree_size,
                    "previous_size": result.previous_size,
                    "cosignatures": result.cosignatures,
                },
            ),
        )
    return RedirectResponse(f"{PREFIX}/overview#integrity", status_code=303)
