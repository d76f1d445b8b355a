"""The lookup page: every entry concerning one token or one request id, within scope.

A request id is asked with GET (it is no personal data); a token is posted with the
session's CSRF token, so it never appears in a URL or an access log, and is peppered at
once. Each lookup asks the policy whose entries the reader may see (:func:`audit_access`)
and is itself an audit entry: a token lookup as a subject access (the peppered token in
its purgeable detail, as the API's subject access records it), a request-id lookup as an
entries view.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from gateway.audit_trail.events import AuditTag
from gateway.auth.principal import Principal
from gateway.console import lookup
from gateway.console.access import AuditAccess, audit_access
from gateway.console.bundles import live_bundle
from gateway.console.deps import FormUser, PageUser
from gateway.console.i18n import Translator
from gateway.console.names import Names
from gateway.console.read_events import audit_read_event
from gateway.console.web import PREFIX, ConsoleRoute, language_of, render
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.epochs.models import EpochState, KeyEpoch
from gateway.services import Services

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def _page(
    request: Request,
    services: Services,
    principal: Principal,
    *,
    access: AuditAccess,
    results: list[lookup.Found] | None,
    asked: dict[str, str],
) -> HTMLResponse:
    with transaction(services.session_factory) as session:
        names = Names.of(Translator(language_of(request)), live_bundle(services, session), session)
        epoch = session.scalar(
            select(func.max(KeyEpoch.epoch)).where(KeyEpoch.state == EpochState.ACTIVE.value)
        )
    context = {
        "access": access,
        "results": results,
        "asked": asked,
        "names": names,
        "epoch": asked.get("epoch") or (str(epoch) if epoch else "1"),
    }
    return render(request, "audit_lookup.html", context, principal=principal)


@router.get("/audit/lookup", response_class=HTMLResponse)
def lookup_page(
    *,
    request: Request,
    principal: PageUser,
    services: ServicesDep,
    request_id: RequestIdDep,
    request_ref: Annotated[str | None, Query(alias="request_id", max_length=128)] = None,
) -> HTMLResponse:
    access = audit_access(services, request_id, principal)
    if not request_ref:
        return _page(request, services, principal, access=access, results=None, asked={})
    wanted = lookup.checked_request_id(request_ref)
    with transaction(services.session_factory) as session:
        results = lookup.by_request_id(session, wanted, access.scope)
        services.audit.record(
            session,
            audit_read_event(
                access,
                request_id,
                AuditTag.AUDIT_ENTRIES_VIEW,
                counts={"returned": len(results)},
                detail={"view": "console-lookup", "request_id": wanted},
            ),
        )
    return _page(
        request, services, principal, access=access, results=results, asked={"request_id": wanted}
    )


@router.post("/audit/lookup", response_class=HTMLResponse)
def lookup_token(
    *,
    request: Request,
    principal: FormUser,
    services: ServicesDep,
    request_id: RequestIdDep,
    token: Annotated[str, Form(max_length=80)],
    epoch: Annotated[int, Form(ge=1, le=1_000_000)],
) -> HTMLResponse:
    access = audit_access(services, request_id, principal)
    token_hash = services.pepper.token(lookup.checked_token(token), epoch=epoch)
    with transaction(services.session_factory) as session:
        results = lookup.by_token_hash(session, token_hash, access.scope)
        services.audit.record(
            session,
            audit_read_event(
                access,
                request_id,
                AuditTag.AUDIT_SUBJECT_ACCESS,
                counts={"returned": len(results)},
                detail={"view": "console-lookup", "tokens": [token_hash.hex()]},
            ),
        )
    asked = {"by": "token", "epoch": str(epoch)}
    return _page(request, services, principal, access=access, results=results, asked=asked)
