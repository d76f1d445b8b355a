"""FastAPI dependencies for console pages: session cookie, CSRF check, permissions.

The session cookie is ``__Host-`` prefixed, ``Secure``, ``HttpOnly`` and ``SameSite=Strict``:
scripts cannot read it, other sites cannot make the browser send it, and it cannot be set
for a sub-domain. State-changing requests must also present the session's CSRF token (form
field ``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from gateway.audit_trail.events import AuditTag
from gateway.auth.console_users import ConsoleAccounts, verify_csrf
from gateway.auth.errors import CredentialRefusedError
from gateway.auth.permissions import Permission
from gateway.auth.principal import Principal
from gateway.config import Settings
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.errors import PermissionDeniedError
from gateway.services import Services

SESSION_COOKIE = "__Host-ppsgate-session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.console_session_lifetime_seconds,
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")


def console_user(request: Request, services: ServicesDep, request_id: RequestIdDep) -> Principal:
    """The signed-in console user; 401 (audited when a stale cookie was sent) otherwise."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise CredentialRefusedError("session-missing", "sign in first", field="session")
    with transaction(services.session_factory) as session:
        return ConsoleAccounts(
            session,
            services.audit,
            services.settings,
            clock=services.clock,
            request_id=request_id,
        ).resolve_session(token)


CurrentConsoleUser = Annotated[Principal, Depends(console_user)]


def _audit_console_denial(
    services: Services, request_id: str, principal: Principal, code: str, detail: dict[str, object]
) -> None:
    with transaction(services.session_factory) as session:
        services.audit.record(
            session,
            principal.actor(request_id).event(
                AuditTag.CONSOLE_SIGNIN_DENY,
                decision="deny",
                reason_codes=(code,),
                detail=detail,
            ),
        )


async def csrf_protected(
    request: Request, principal: CurrentConsoleUser, services: ServicesDep, request_id: RequestIdDep
) -> Principal:
    """The console user, after checking the CSRF token on state-changing requests."""
    if request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER)
        if presented is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            value = (await request.form()).get(CSRF_FIELD)
            presented = value if isinstance(value, str) else None
        try:
            verify_csrf(request.cookies.get(SESSION_COOKIE, ""), presented)
        except PermissionDeniedError as refusal:
            await run_in_threadpool(
                _audit_console_denial,
                services,
                request_id,
                principal,
                "csrf-mismatch",
                {"method": request.method},
            )
            refusal.audited = True
            raise
    return principal


CsrfCheckedConsoleUser = Annotated[Principal, Depends(csrf_protected)]


def require_permission(*permissions: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency: signed-in console user holding all ``permissions`` (CSRF-checked)."""
    needed = frozenset(Permission(permission) for permission in permissions)

    async def dependency(
        principal: CsrfCheckedConsoleUser, services: ServicesDep, request_id: RequestIdDep
    ) -> Principal:
        missing = sorted(needed - principal.permissions)
        if missing:
            await run_in_threadpool(
                _audit_console_denial,
                services,
                request_id,
                principal,
                "permission-missing",
                {"missing": missing},
            )
            raise PermissionDeniedError(
                f"your role lacks permission(s) {', '.join(missing)}",
                field="role",
                reasons=("permission-missing",),
                audited=True,
            )
        return principal

    return dependency
