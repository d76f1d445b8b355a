"""The console's router and static files, mounted by the app factory.

Pages are split by area (one module each); this module only assembles them. Static files
(one stylesheet, one small script) are served by the gateway itself, so the console loads
nothing from another host and its CSP can be ``'self'`` only.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from gateway.console import (
    audit_routes,
    helpdesk_routes,
    lookup_routes,
    overview_routes,
    policies_routes,
    register_routes,
    report_routes,
    session_routes,
)
from gateway.console.web import PREFIX

STATIC_PATH = f"{PREFIX}/static"

router = APIRouter()
for area in (
    session_routes,
    overview_routes,
    policies_routes,
    lookup_routes,
    audit_routes,
    report_routes,
    register_routes,
    helpdesk_routes,
):
    router.include_router(area.router)


def mount_console(app: FastAPI) -> None:
    """Add the console pages and their static files to ``app``."""
    app.include_router(router)
    folder = resources.files("gateway.console") / "static"
    app.mount(STATIC_PATH, StaticFiles(directory=str(folder)), name="console-static")
