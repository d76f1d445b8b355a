"""Rendering console pages: templates, the page context, and errors shown as pages.

Routes return :func:`render` results; every page gets the signed-in person, the navigation
their role allows, their language and the CSRF token of their session. A domain error
raised anywhere in a console route (including its dependencies) becomes an HTML page with
the same status, its field and reasons, and a 401 becomes a redirect to the sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from gateway.auth.console_deps import SESSION_COOKIE, clear_session_cookie
from gateway.auth.console_users import csrf_token_for
from gateway.auth.permissions import Permission
from gateway.auth.principal import Principal
from gateway.console.i18n import LANGUAGE_COOKIE, Translator, negotiate
from gateway.errors import GatewayError, PermissionDeniedError

PREFIX = "/console"
SIGNIN_PATH = f"{PREFIX}/signin"


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str
    path: str
    needs: frozenset[Permission]


NAVIGATION = (
    NavItem("nav.overview", f"{PREFIX}/overview", frozenset()),
    NavItem("nav.policies", f"{PREFIX}/policies", frozenset({Permission.POLICY_READ})),
    NavItem(
        "nav.audit",
        f"{PREFIX}/audit",
        frozenset({Permission.AUDIT_READ_OWN, Permission.AUDIT_READ_ALL}),
    ),
    NavItem("nav.register", f"{PREFIX}/register", frozenset({Permission.REGISTER_EXPORT})),
    NavItem(
        "nav.helpdesk",
        f"{PREFIX}/helpdesk",
        frozenset({Permission.POLICY_SIMULATE, Permission.HELPDESK_ANSWER_READ}),
    ),
)


def _environment() -> jinja2.Environment:
    folder = resources.files("gateway.console") / "templates"
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["qs"] = lambda pairs: urlencode(pairs, doseq=True)
    return environment


TEMPLATES = _environment()


def language_of(request: Request) -> str:
    return negotiate(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))


def navigation(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    held = principal.permissions
    return [item for item in NAVIGATION if not item.needs or item.needs & held]


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    principal: Principal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A console page in the person's language, with navigation and CSRF token."""
    language = language_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    page = TEMPLATES.get_template(template).render(
        t=Translator(language),
        lang=language,
        user=principal,
        nav=navigation(principal),
        current=request.url.path,
        here=_here(request),
        csrf_token=csrf_token_for(token) if token and principal else "",
        **context,
    )
    return HTMLResponse(page, status_code=status_code)


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(target: str | None) -> str:
    """A redirect target inside the console, never another site (open-redirect guard)."""
    default = f"{PREFIX}/overview"
    if not target or not target.startswith(f"{PREFIX}/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    return target


def error_page(request: Request, exc: GatewayError) -> Response:
    """The HTML form of a domain error (401 redirects to sign-in, keeping the target)."""
    if exc.status == 401:
        target = _here(request) if request.method == "GET" else f"{PREFIX}/overview"
        response: Response = RedirectResponse(
            f"{SIGNIN_PATH}?next={quote(safe_next(target), safe='/')}", status_code=303
        )
        if request.cookies.get(SESSION_COOKIE):
            clear_session_cookie(response)
        return response
    reasons = [str(code) for code in getattr(exc, "reasons", ())]
    cited = exc.cited() if isinstance(exc, PermissionDeniedError) else []
    return render(
        request,
        "error.html",
        {
            "status": exc.status,
            "title": exc.title,
            "reason": exc.reason,
            "field": exc.field,
            "reasons": reasons,
            "cited": cited,
            "request_id": str(request.scope.get("state", {}).get("request_id", "-")),
        },
        principal=getattr(request.state, "console_principal", None),
        status_code=exc.status,
    )


class ConsoleRoute(APIRoute):
    """A route whose domain errors are answered as pages instead of problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except GatewayError as exc:
                return error_page(request, exc)

        return handler
