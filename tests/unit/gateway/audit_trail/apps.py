"""The gateway's own app with the audit router, for the API and end-to-end audit tests."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from gateway.app import create_app
from gateway.audit_api.readers import api_audit_reader
from gateway.audit_api.routes import router as audit_router
from gateway.audit_trail.deps import AuditReader
from gateway.bootstrap import build_services
from gateway.clock import Clock
from gateway.config import Settings
from gateway.services import Services
from tests.unit.gateway.audit_trail.helpers import TickingClock


def build_app(
    settings: Settings,
    *,
    reader: AuditReader | None = None,
    clock: Clock | None = None,
) -> tuple[FastAPI, Services]:
    """The gateway's own app (real services) with the audit router mounted if needed."""
    services = build_services(settings, clock=clock or TickingClock())
    services.audit.clock = services.clock
    app = create_app(settings, services=services)
    if "/v1/audit/sth" not in app.openapi()["paths"]:
        app.include_router(audit_router)
        app.openapi_schema = None
    if reader is not None:
        override: Callable[[], AuditReader] = lambda: reader  # noqa: E731
        app.dependency_overrides[api_audit_reader] = override
    return app, services
