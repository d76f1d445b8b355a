"""The regulator's report for a period (PDF), in the console's language.

The report is true by construction: it first signs a checkpoint of everything written so
far, then counts only the entries below that checkpoint's tree size, and attaches the
signed checkpoint and the verifier key. Reading is decided by the policy like every audit
read (:func:`audit_access`) and the download itself is an audit entry (written after the
checkpoint, so it is not one of the entries it counts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.audit_trail import checkpoints
from gateway.audit_trail.checkpoints import PublishedCheckpoint
from gateway.audit_trail.events import Activity, AuditTag
from gateway.audit_trail.models import AuditEntry
from gateway.console import audit_view, report_pdf
from gateway.console.access import audit_access
from gateway.console.bundles import live_bundle
from gateway.console.deps import PageUser
from gateway.console.i18n import Translator, period_label
from gateway.console.names import Names
from gateway.console.overview import alerts_raised
from gateway.console.period import Period, current_quarter_key, parse_period
from gateway.console.read_events import audit_read_event
from gateway.console.review import Scope, build_review, by_action, in_scope
from gateway.console.web import PREFIX, ConsoleRoute, language_of
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.services import Services

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Field = Annotated[str | None, Query(max_length=128)]


def _checkpoint(services: Services) -> PublishedCheckpoint | None:
    """A checkpoint covering every entry committed so far (signed now if the log grew)."""
    with transaction(services.session_factory) as session:
        return services.audit.sign_checkpoint(session) or checkpoints.latest(session)


def _integrity(
    services: Services, published: PublishedCheckpoint | None
) -> report_pdf.Integrity | None:
    if published is None:
        return None
    signature_ok, cosigners = audit_view.checkpoint_signature(published, services.audit)
    return report_pdf.Integrity(
        note=published.note,
        tree_size=published.tree_size,
        root_b64=audit_view.b64(published.root_hash),
        signed_at=published.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        signature_ok=signature_ok,
        cosigners=cosigners,
        verifier_key=services.audit.verifier_key,
    )


def _span(session: Session, scope: Scope) -> tuple[int | None, int | None]:
    query = in_scope(select(func.min(AuditEntry.seq), func.max(AuditEntry.seq)), scope, None)
    first, last = session.execute(query).one()
    return (None if first is None else int(first)), (None if last is None else int(last))


def _period(period: str | None, since: str | None, until: str | None, now: datetime) -> Period:
    named = period or ("custom" if since or until else None)
    return parse_period(named, since=since, until=until, now=now, default=current_quarter_key(now))


@router.get("/audit/report.pdf")
def audit_report(
    *,
    request: Request,
    principal: PageUser,
    services: ServicesDep,
    request_id: RequestIdDep,
    partner: Field = None,
    period: Annotated[str | None, Query(max_length=16)] = None,
    since: Field = None,
    until: Field = None,
) -> Response:
    """The period's report for the regulator, for one partner or (the DPO) all."""
    t = Translator(language_of(request))
    now = services.clock.now()
    chosen = _period(period, since, until, now)
    wanted = audit_view.parse_filters(
        partner=partner, action=None, purpose=None, decision=None, since=None, until=None
    ).partner
    access = audit_access(services, request_id, principal, target_partner=wanted)
    published = _checkpoint(services)
    scope = Scope(chosen, access.scope or wanted, published.tree_size if published else 0)
    with transaction(services.session_factory) as session:
        names = Names.of(t, live_bundle(services, session), session)
        review = build_review(session, scope)
        first, last = _span(session, scope)
        oversight = by_action(session, scope, Activity.OVERSIGHT)
        alerts = alerts_raised(session, chosen.start, chosen.end, scope.partner)
        services.audit.record(
            session,
            audit_read_event(
                access,
                request_id,
                AuditTag.AUDIT_REPORT_DOWNLOAD,
                counts={"entries": review.exchange_total, "tree_size": scope.upto or 0},
                detail={"period": chosen.key, "partner": scope.partner or "all", "format": "pdf"},
            ),
        )
    data = report_pdf.ReportData(
        period_label=period_label(t, chosen),
        partner=names.partner(scope.partner) if scope.partner else t("report.all_partners"),
        generated_at=now.strftime("%Y-%m-%d %H:%M UTC"),
        generated_by=f"{principal.user} ({names.partner(principal.partner_id)})",
        review=review,
        alerts=alerts,
        oversight_by_action=sorted(oversight.items(), key=lambda item: (-item[1], item[0])),
        first_seq=first,
        last_seq=last,
        integrity=_integrity(services, published),
    )
    name = f"audit-report-{scope.partner or 'all'}-{chosen.key.replace('..', '-')}.pdf"
    return Response(
        report_pdf.audit_report(data, names),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
