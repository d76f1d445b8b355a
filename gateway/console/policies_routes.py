"""Policies pages: purposes, Rego source with METADATA, test results, versions and diffs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from gateway.auth.permissions import Permission
from gateway.auth.principal import Principal
from gateway.console import policies_view
from gateway.console.bundles import live_bundle, version_bundle
from gateway.console.deps import needs
from gateway.console.web import PREFIX, ConsoleRoute, render
from gateway.db import transaction
from gateway.deps import ServicesDep
from gateway.policy.models import PolicyApproval, PolicyVersion

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

Reader = Annotated[Principal, needs(Permission.POLICY_READ)]
PurposeField = Annotated[str | None, Query(max_length=64)]
Digest = Annotated[str | None, Query(max_length=64, pattern="^[0-9a-f]*$")]


@router.get("/policies", response_class=HTMLResponse)
def purposes_page(
    request: Request, principal: Reader, services: ServicesDep, purpose: PurposeField = None
) -> HTMLResponse:
    with transaction(services.session_factory) as session:
        bundle = live_bundle(services, session)
    data = bundle.data
    every = policies_view.purposes(data)
    return render(
        request,
        "policies.html",
        {
            "tab": "purposes",
            "digest": bundle.digest,
            "all_purposes": every,
            "chosen": purpose or "",
            "purposes": policies_view.only(every, purpose),
            "sectors": data.get("sectors", {}),
            "taxonomy": data.get("taxonomy", {}).get("categories", {}),
            "obligations": data.get("obligations", {}),
        },
        principal=principal,
    )


@router.get("/policies/rego", response_class=HTMLResponse)
def rego_page(
    request: Request,
    principal: Reader,
    services: ServicesDep,
    file: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    with transaction(services.session_factory) as session:
        bundle = live_bundle(services, session)
    return render(
        request,
        "policies_rego.html",
        {
            "tab": "rego",
            "digest": bundle.digest,
            "files": [module.path for module in bundle.modules],
            "source": policies_view.source(bundle, file),
        },
        principal=principal,
    )


@router.get("/policies/tests", response_class=HTMLResponse)
def tests_page(request: Request, principal: Reader, services: ServicesDep) -> HTMLResponse:
    with transaction(services.session_factory) as session:
        bundle = live_bundle(services, session)
    return render(
        request,
        "policies_tests.html",
        {
            "tab": "tests",
            "digest": bundle.digest,
            "results": policies_view.run_policy_tests(bundle),
        },
        principal=principal,
    )


@router.get("/policies/history", response_class=HTMLResponse)
def history_page(
    *,
    request: Request,
    principal: Reader,
    services: ServicesDep,
    before: Annotated[Digest, Query(alias="from")] = None,
    after: Annotated[Digest, Query(alias="to")] = None,
) -> HTMLResponse:
    with transaction(services.session_factory) as session:
        bundle = live_bundle(services, session)
        versions = list(
            session.scalars(select(PolicyVersion).order_by(PolicyVersion.created_at.desc()))
        )
        approvals: dict[str, list[str]] = {}
        for approval in session.scalars(select(PolicyApproval)):
            approvals.setdefault(approval.digest, []).append(approval.approver)
        diff = None
        if before and after:
            diff = policies_view.diff_versions(
                version_bundle(session, before), version_bundle(session, after)
            )
    return render(
        request,
        "policies_history.html",
        {
            "tab": "history",
            "digest": bundle.digest,
            "versions": versions,
            "approvals": approvals,
            "chosen_from": before or (versions[1].digest if len(versions) > 1 else ""),
            "chosen_to": after or (versions[0].digest if versions else ""),
            "diff": diff,
        },
        principal=principal,
    )
