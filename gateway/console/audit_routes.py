"""Audit trail pages: search with keyset paging, entry detail with proof, exports, report.

Every page and download asks the policy (through :func:`audit_access`) whose entries the
person may read, with the partner they asked for as the target, and is itself recorded in
the audit log with the filters used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import select

from gateway.audit_trail import checkpoints, queries
from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.audit_trail.queries import AuditFilter
from gateway.audit_trail.store import format_time
from gateway.console import audit_view, pdf
from gateway.console.access import AuditAccess, audit_access, record_refusal
from gateway.console.bundles import bundle_for_entry, live_bundle
from gateway.console.deps import PageUser
from gateway.console.web import PREFIX, ConsoleRoute, render
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.errors import PermissionDeniedError
from gateway.partners.models import Partner
from gateway.services import Services

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Field = Annotated[str | None, Query(max_length=128)]


def _event(
    access: AuditAccess,
    request_id: str,
    tag: AuditTag,
    *,
    counts: dict[str, int] | None = None,
    detail: dict[str, object] | None = None,
) -> AuditEvent:
    return AuditEvent(
        tag=tag,
        request_id=request_id,
        actor_partner=access.reader.partner_id,
        actor_user=access.reader.user,
        purpose=access.grant.purpose,
        legal_basis=access.grant.legal_basis,
        decision="allow",
        policy_digest=access.grant.decision.policy_digest,
        counts=counts or {},
        detail=detail,
    )


def _filtered_access(
    services: Services,
    request_id: str,
    principal: PageUser,
    fields: dict[str, str | None],
) -> tuple[AuditFilter, AuditAccess]:
    filters = audit_view.parse_filters(
        partner=fields["partner"],
        action=fields["action"],
        purpose=fields["purpose"],
        decision=fields["decision"],
        since=fields["since"],
        until=fields["until"],
    )
    access = audit_access(services, request_id, principal, target_partner=filters.partner)
    return filters, access


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    *,
    request: Request,
    principal: PageUser,
    services: ServicesDep,
    request_id: RequestIdDep,
    partner: Field = None,
    action: Field = None,
    purpose: Field = None,
    decision: Field = None,
    since: Field = None,
    until: Field = None,
    before: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> HTMLResponse:
    fields = {
        "partner": partner,
        "action": action,
        "purpose": purpose,
        "decision": decision,
        "since": since,
        "until": until,
    }
    filters, access = _filtered_access(services, request_id, principal, fields)
    with transaction(services.session_factory) as session:
        page = queries.search(
            session, filters, scope=access.scope, before=before, limit=audit_view.PAGE_SIZE
        )
        services.audit.record(
            session,
            _event(
                access,
                request_id,
                AuditTag.AUDIT_ENTRIES_VIEW,
                counts={"returned": len(page.entries)},
                detail={"filters": filters.as_detail(), "view": "console"},
            ),
        )
        partners = (
            [access.scope]
            if access.scope
            else list(session.scalars(select(Partner.id).order_by(Partner.id)))
        )
        purposes = sorted(live_bundle(services, session).data.get("purposes", {}))
    kept = audit_view.filter_fields(filters)
    return render(
        request,
        "audit.html",
        {
            "access": access,
            "page": page,
            "filters": kept,
            "partners": partners,
            "actions": sorted(tag.value for tag in AuditTag),
            "purposes": purposes,
            "before": before,
        },
        principal=principal,
    )


@router.get("/audit/entries/{seq}", response_class=HTMLResponse)
def audit_entry(
    *,
    request: Request,
    principal: PageUser,
    services: ServicesDep,
    request_id: RequestIdDep,
    seq: Annotated[int, Path(ge=0, le=2**63 - 1)],
) -> HTMLResponse:
    with transaction(services.session_factory) as session:
        exists, owner = audit_view.entry_partner(session, seq)
    access = audit_access(services, request_id, principal, target_partner=owner)
    if exists and access.scope is not None and owner != access.scope:
        record_refusal(
            services,
            request_id,
            principal,
            AuditTag.AUDIT_ACCESS_DENY,
            codes=("audit-scope-exceeded",),
            grant=access.grant,
            detail={"leaf_index": seq},
        )
        raise PermissionDeniedError(
            f"you may only read entries of partner {access.scope}",
            field="leaf_index",
            reasons=("audit-scope-exceeded",),
            audited=True,
        )
    with transaction(services.session_factory) as session:
        view = audit_view.load_entry(session, seq, services.audit)
        bundle = bundle_for_entry(services, session, view.entry.get("policy_digest"))
        services.audit.record(
            session,
            _event(
                access,
                request_id,
                AuditTag.AUDIT_ENTRIES_VIEW,
                counts={"returned": 1},
                detail={"leaf_index": seq, "view": "console-entry"},
            ),
        )
    reasons = [(code, bundle.catalog.entries.get(code)) for code in view.entry.get("reasons", [])]
    return render(
        request,
        "audit_entry.html",
        {
            "view": view,
            "reasons": reasons,
            "bundle_digest": bundle.digest,
            "verifier_key": services.audit.verifier_key,
        },
        principal=principal,
    )


@router.get("/audit/export.{export_format}")
def audit_export(
    *,
    principal: PageUser,
    services: ServicesDep,
    request_id: RequestIdDep,
    export_format: Annotated[str, Path(pattern="^(csv|jsonl)$")],
    partner: Field = None,
    action: Field = None,
    purpose: Field = None,
    decision: Field = None,
    since: Field = None,
    until: Field = None,
) -> StreamingResponse:
    """The current filter as CSV or JSONL (the JSONL verifies with ``ppsgate audit verify``)."""
    fields = {
        "partner": partner,
        "action": action,
        "purpose": purpose,
        "decision": decision,
        "since": since,
        "until": until,
    }
    filters, access = _filtered_access(services, request_id, principal, fields)
    with transaction(services.session_factory) as session:
        services.audit.record(
            session,
            _event(
                access,
                request_id,
                AuditTag.AUDIT_EXPORT_DOWNLOAD,
                detail={"filters": filters.as_detail(), "format": export_format, "view": "console"},
            ),
        )

    def stream() -> Iterator[str]:
        with transaction(services.session_factory) as session:
            if export_format == "csv":
                yield from queries.export_csv(session, filters, scope=access.scope)
            else:
                yield from queries.export_jsonl(
                    session,
                    filters,
                    scope=access.scope,
                    origin=services.audit.origin,
                    exported_at=format_time(services.clock.now()),
                )

    media = "text/csv; charset=utf-8" if export_format == "csv" else "application/x-ndjson"
    name = f"audit-{access.scope or 'all'}.{export_format}"
    return StreamingResponse(
        stream(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/audit/report.pdf")
def audit_report(
    *,
    principal: PageUser,
    services: ServicesDep,
    request_id: RequestIdDep,
    partner: Field = None,
    action: Field = None,
    purpose: Field = None,
    decision: Field = None,
    since: Field = None,
    until: Field = None,
) -> Response:
    """A printable report for the regulator over the current filter."""
    fields = {
        "partner": partner,
        "action": action,
        "purpose": purpose,
        "decision": decision,
        "since": since,
        "until": until,
    }
    filters, access = _filtered_access(services, request_id, principal, fields)
    now = services.clock.now()
    with transaction(services.session_factory) as session:
        counts = audit_view.report_counts(session, filters, scope=access.scope)
        digests = audit_view.policy_digests(session, filters, scope=access.scope)
        published = checkpoints.latest(session)
        services.audit.record(
            session,
            _event(
                access,
                request_id,
                AuditTag.AUDIT_REPORT_DOWNLOAD,
                counts={"entries": counts.total},
                detail={"filters": filters.as_detail(), "format": "pdf"},
            ),
        )
    signature_ok, cosigners = audit_view.checkpoint_signature(published, services.audit)
    shown = audit_view.filter_fields(filters)
    period = f"{shown.get('since', 'start of the log')} to {shown.get('until', now.date())}"
    data = pdf.ReportData(
        period=period,
        partner=access.scope or filters.partner or "all partners",
        filters=", ".join(f"{k}={v}" for k, v in shown.items() if k not in {"since", "until"}),
        generated_at=now.strftime("%Y-%m-%d %H:%M UTC"),
        generated_by=f"{principal.user} ({principal.partner_id})",
        total=counts.total,
        first_seq=counts.first_seq,
        last_seq=counts.last_seq,
        by_purpose=counts.by_purpose,
        by_action=counts.by_action,
        policy_digests=digests,
        checkpoint_note=published.note if published else None,
        tree_size=published.tree_size if published else None,
        root_b64=audit_view.b64(published.root_hash) if published else None,
        signature_ok=signature_ok,
        cosigners=cosigners,
        verifier_key=services.audit.verifier_key,
    )
    name = f"audit-report-{access.scope or 'all'}-{now.date()}.pdf"
    return Response(
        pdf.audit_report(data),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
