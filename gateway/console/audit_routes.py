"""Audit trail pages: search with keyset paging, entry detail with proof, exports.

Every page and download asks the policy (through :func:`audit_access`) whose entries the
person may read, with the partner they asked for as the target, and is itself recorded in
the audit log with the filters used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit_trail import queries
from gateway.audit_trail.events import Activity, AuditTag
from gateway.audit_trail.queries import AuditFilter
from gateway.audit_trail.store import format_time
from gateway.console import audit_view, lookup
from gateway.console.access import AuditAccess, audit_access, refused
from gateway.console.bundles import bundle_for_entry, live_bundle
from gateway.console.deps import PageUser
from gateway.console.i18n import Translator
from gateway.console.i18n_review import PROOF_PROBLEMS
from gateway.console.names import Names
from gateway.console.read_events import audit_read_event
from gateway.console.web import PREFIX, ConsoleRoute, language_of, render
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.errors import PermissionDeniedError
from gateway.partners.models import Partner
from gateway.policy.bundle import PolicyBundle
from gateway.services import Services

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Field = Annotated[str | None, Query(max_length=128)]


def _filter_fields(
    *,
    partner: Field = None,
    action: Field = None,
    purpose: Field = None,
    decision: Field = None,
    since: Field = None,
    until: Field = None,
    activity: Field = None,
) -> dict[str, str | None]:
    """The search filter's query fields, as typed (checked by ``audit_view.parse_filters``)."""
    return {
        "partner": partner,
        "action": action,
        "purpose": purpose,
        "decision": decision,
        "since": since,
        "until": until,
        "activity": activity,
    }


FilterFields = Annotated[dict[str, str | None], Depends(_filter_fields)]


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
        activity=fields["activity"],
    )
    access = audit_access(services, request_id, principal, target_partner=filters.partner)
    return filters, access


def _search_choices(
    request: Request, services: Services, session: Session, access: AuditAccess
) -> dict[str, object]:
    """What the search form offers: the partners in scope, the purposes, the names."""
    partners = (
        [access.scope]
        if access.scope
        else list(session.scalars(select(Partner.id).order_by(Partner.id)))
    )
    bundle = live_bundle(services, session)
    purposes = sorted(bundle.data.get("purposes", {}))
    names = Names.of(Translator(language_of(request)), bundle, session)
    return {"partners": partners, "purposes": purposes, "names": names}


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    *,
    request: Request,
    principal: PageUser,
    services: ServicesDep,
    request_id: RequestIdDep,
    fields: FilterFields,
    before: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> HTMLResponse:
    filters, access = _filtered_access(services, request_id, principal, fields)
    with transaction(services.session_factory) as session:
        page = queries.search(
            session, filters, scope=access.scope, before=before, limit=audit_view.PAGE_SIZE
        )
        services.audit.record(
            session,
            audit_read_event(
                access,
                request_id,
                AuditTag.AUDIT_ENTRIES_VIEW,
                counts={"returned": len(page.entries)},
                detail={"filters": filters.as_detail(), "view": "console"},
            ),
        )
        offered = _search_choices(request, services, session, access)
    kept = audit_view.filter_fields(filters)
    context = {
        "access": access,
        "page": page,
        "filters": kept,
        "report_query": audit_view.report_fields(kept),
        "actions": sorted(tag.value for tag in AuditTag),
        "activities": [item.value for item in Activity],
        "before": before,
        **offered,
    }
    return render(request, "audit.html", context, principal=principal)


def _out_of_scope(
    services: Services, request_id: str, principal: PageUser, access: AuditAccess, seq: int
) -> PermissionDeniedError:
    """Audit the refusal of another partner's entry and return the error to raise."""
    return refused(
        services,
        request_id,
        principal,
        AuditTag.AUDIT_ACCESS_DENY,
        f"you may only read entries of partner {access.scope}",
        field="leaf_index",
        codes=("audit-scope-exceeded",),
        grant=access.grant,
        detail={"leaf_index": seq},
    )


def _entry_context(
    request: Request,
    services: Services,
    view: audit_view.EntryView,
    bundle: PolicyBundle,
    *,
    names: Names,
    related: list[lookup.Found],
) -> dict[str, object]:
    """The entry page: the entry, its reasons and obligations in the policy it cites."""
    reasons = [(code, bundle.catalog.entries.get(code)) for code in view.entry.get("reasons", [])]
    duties = _obligations(bundle.data, view.entry)
    return {
        "view": view,
        "reasons": reasons,
        "obligations": duties,
        "names": names,
        "related": related,
        "proof_problems": {
            english: pair[1 if language_of(request) == "nl" else 0]
            for english, pair in PROOF_PROBLEMS.items()
        },
        "bundle_digest": bundle.digest,
        "verifier_key": services.audit.verifier_key,
    }


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
        raise _out_of_scope(services, request_id, principal, access, seq)
    with transaction(services.session_factory) as session:
        view = audit_view.load_entry(session, seq, services.audit)
        bundle = bundle_for_entry(services, session, view.entry.get("policy_digest"))
        names = Names.of(Translator(language_of(request)), bundle, session)
        related = lookup.related(session, seq, access.scope)
        services.audit.record(
            session,
            audit_read_event(
                access,
                request_id,
                AuditTag.AUDIT_ENTRIES_VIEW,
                counts={"returned": 1},
                detail={"leaf_index": seq, "view": "console-entry"},
            ),
        )
    context = _entry_context(request, services, view, bundle, names=names, related=related)
    return render(request, "audit_entry.html", context, principal=principal)


DISCLOSING_TAGS = frozenset(
    {
        AuditTag.MATCH_QUERY_ALLOW.value,
        AuditTag.ALERT_DELIVERY_SEND.value,
        AuditTag.ALERT_WEBHOOK_DELIVER.value,
    }
)


def _obligations(data: Mapping[str, Any], entry: Mapping[str, Any]) -> list[str]:
    """The obligations that came with a disclosure: its purpose's, in the version it cites."""
    if entry.get("tag") not in DISCLOSING_TAGS or entry.get("decision") != "allow":
        return []
    purpose = data.get("purposes", {}).get(entry.get("purpose") or "", {})
    return list(purpose.get("obligations", []))


@router.get("/audit/export.{export_format}")
def audit_export(
    *,
    principal: PageUser,
    services: ServicesDep,
    request_id: RequestIdDep,
    export_format: Annotated[str, Path(pattern="^(csv|jsonl)$")],
    fields: FilterFields,
) -> StreamingResponse:
    """The current filter as CSV or JSONL (the JSONL verifies with ``ppsgate audit verify``)."""
    filters, access = _filtered_access(services, request_id, principal, fields)
    with transaction(services.session_factory) as session:
        services.audit.record(
            session,
            audit_read_event(
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
