"""The GDPR Art. 30 register, rendered from the live policy data as HTML, PDF and CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from gateway.audit_trail.events import AuditTag
from gateway.auth.permissions import Permission
from gateway.auth.principal import Principal
from gateway.console import pdf, policies_view, register_view
from gateway.console.bundles import live_bundle
from gateway.console.deps import needs
from gateway.console.i18n import Translator
from gateway.console.web import PREFIX, ConsoleRoute, language_of, render
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.policy.register import general_safeguards, register_rows, render_csv

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Exporter = Annotated[Principal, needs(Permission.REGISTER_EXPORT)]


@router.get("/register", response_class=HTMLResponse)
def register_page(
    request: Request,
    principal: Exporter,
    services: ServicesDep,
    purpose: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    language = language_of(request)
    with transaction(services.session_factory) as session:
        bundle = live_bundle(services, session)
        data = bundle.data
        found = register_view.controllers(session, data)
        signed = register_view.sign_off(session, bundle.digest, data)
    rows = register_rows(data, language)
    every = policies_view.purposes(data)
    return render(
        request,
        "register.html",
        {
            "digest": bundle.digest,
            "controllers": found,
            "registry_names": {item.partner_id: item.name for item in found},
            "sign_off": signed,
            "sectors": data.get("sectors", {}),
            "all_purposes": every,
            "chosen": purpose or "",
            "purposes": policies_view.only(every, purpose),
            "rows": rows,
            "general": general_safeguards(language),
        },
        principal=principal,
    )


@router.get("/register.{export_format}")
def register_download(
    request: Request,
    principal: Exporter,
    services: ServicesDep,
    request_id: RequestIdDep,
    export_format: Annotated[str, Path(pattern="^(csv|pdf)$")],
) -> Response:
    now = services.clock.now()
    t = Translator(language_of(request))
    with transaction(services.session_factory) as session:
        bundle = live_bundle(services, session)
        found = register_view.controllers(session, bundle.data)
        signed = register_view.sign_off(session, bundle.digest, bundle.data)
        services.audit.record(
            session,
            principal.actor(request_id).event(
                AuditTag.REGISTER_EXPORT_DOWNLOAD,
                policy_digest=bundle.digest,
                detail={"format": export_format},
            ),
        )
    name = f"art30-register-{now.date()}.{export_format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if export_format == "csv":
        return Response(
            render_csv(bundle.data), media_type="text/csv; charset=utf-8", headers=headers
        )
    body = pdf.register_pdf(
        register_rows(bundle.data, t.language),
        t=t,
        controllers=found,
        sign_off=signed,
        digest=bundle.digest,
        generated_at=now.strftime("%Y-%m-%d %H:%M UTC"),
    )
    return Response(body, media_type="application/pdf", headers=headers)
