"""Sign-in, sign-out and the language switch.

The sign-in form has no session yet, so it is protected against login CSRF with a
double-submit token: a random value in a ``__Host-`` cookie (``SameSite=Strict``) that the
form must echo. Sign-in itself is :meth:`ConsoleAccounts.sign_in` (Argon2id + TOTP,
lockout, audited either way); its refusal is committed, then shown on the form.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from gateway.auth.console_deps import (
    SESSION_COOKIE,
    clear_session_cookie,
    set_session_cookie,
)
from gateway.auth.console_users import ConsoleAccounts, SignInOutcome
from gateway.console.deps import FormUser
from gateway.console.i18n import LANGUAGE_COOKIE, LANGUAGES, Translator
from gateway.console.web import PREFIX, ConsoleRoute, language_of, render, safe_next
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.errors import PermissionDeniedError, TooManyRequestsError
from gateway.services import Services

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

SIGNIN_COOKIE = "__Host-ppsgate-signin"
SIGNIN_FIELD = "signin_token"
LANGUAGE_MAX_AGE = 365 * 86400
MAX_FIELD = 1024


def _name_key(services: Services, name: str) -> bytes:
    """The attempted name as the sign-in throttle keeps it: peppered with K_gw, never plain
    (a password typed into the name field must not be stored)."""
    return services.pepper.newest.reference("console-signin:" + name)


def _signin_page(
    request: Request,
    *,
    next_path: str,
    error: str | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> HTMLResponse:
    token = request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "signin.html",
        {"signin_token": token, "next_path": next_path, "error": error, "notice": notice},
        status_code=status_code,
    )
    response.set_cookie(
        SIGNIN_COOKIE, token, path="/", secure=True, httponly=True, samesite="strict"
    )
    return response


@router.get("", response_class=HTMLResponse)
def console_root() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/overview", status_code=303)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str | None = None, out: int = 0) -> HTMLResponse:
    notice = Translator(language_of(request))("signin.signed_out") if out else None
    return _signin_page(request, next_path=safe_next(next), notice=notice)


@router.post("/signin", response_class=HTMLResponse)
def signin(
    *,
    request: Request,
    services: ServicesDep,
    request_id: RequestIdDep,
    username: Annotated[str, Form(max_length=MAX_FIELD)],
    password: Annotated[str, Form(max_length=MAX_FIELD)],
    totp: Annotated[str, Form(max_length=16)],
    signin_token: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    next: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, signin_token):
        with transaction(services.session_factory) as session:
            ConsoleAccounts(
                session,
                services.audit,
                services.settings,
                clock=services.clock,
                request_id=request_id,
            ).refuse_signin_form(username.strip().lower())
        raise PermissionDeniedError(
            "the sign-in form expired or came from another site; reload it and sign in again",
            field=SIGNIN_FIELD,
            reasons=("csrf-mismatch",),
            audited=True,
        )
    name = username.strip().lower()
    with transaction(services.session_factory) as session:
        outcome: SignInOutcome = ConsoleAccounts(
            session, services.audit, services.settings, clock=services.clock, request_id=request_id
        ).sign_in(name, password, totp, name_key=_name_key(services, name))
    if outcome.error is not None or outcome.session_token is None:
        error = outcome.error
        t = Translator(language_of(request))
        reason = error.reason if error else "unknown"
        page = _signin_page(
            request,
            next_path=safe_next(next),
            error=t("signin.failed", reason=reason),
            status_code=error.status if error else 401,
        )
        if isinstance(error, TooManyRequestsError):
            page.headers["Retry-After"] = str(error.retry_after)
        return page
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, outcome.session_token, services.settings)
    response.delete_cookie(SIGNIN_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.post("/signout")
def signout(
    request: Request, _user: FormUser, services: ServicesDep, request_id: RequestIdDep
) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    with transaction(services.session_factory) as session:
        ConsoleAccounts(
            session, services.audit, services.settings, clock=services.clock, request_id=request_id
        ).sign_out(token)
    response = RedirectResponse(f"{PREFIX}/signin?out=1", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/language/{language}")
def switch_language(language: str, next: str | None = None) -> Response:
    """Remember the language and go back; a link, not a form: it changes nothing stored."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=LANGUAGE_MAX_AGE,
            path="/",
            secure=True,
            httponly=True,
            samesite="lax",
        )
    return response
