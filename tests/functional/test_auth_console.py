"""Console session dependencies through the real app: cookie, CSRF, permissions, lockout."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import nacl.pwhash
import pyotp
import pytest
from fastapi import Depends, FastAPI, Form
from fastapi.testclient import TestClient

from gateway.audit_trail.events import Actor
from gateway.auth.console_deps import (
    SESSION_COOKIE,
    CsrfCheckedConsoleUser,
    CurrentConsoleUser,
    require_permission,
)
from gateway.auth.console_users import ConsoleAccounts, NewConsoleUser, PasswordHashing
from gateway.auth.permissions import Permission
from gateway.auth.principal import Principal
from gateway.clock import FixedClock
from gateway.db import transaction
from gateway.partners.service import PartnerRegistry
from gateway.services import Services
from tests.functional.auth_helpers import START, audit_entries, build_app, make_settings, serve

FAST = PasswordHashing(
    opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN, memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN
)
PASSWORD = "a sufficiently long password"


@dataclass
class Console:
    http: TestClient
    services: Services
    user: NewConsoleUser

    def sign_in(self) -> tuple[str, str]:
        with transaction(self.services.session_factory) as session:
            outcome = ConsoleAccounts(
                session,
                self.services.audit,
                self.services.settings,
                clock=self.services.clock,
                request_id="signin",
                hashing=FAST,
            ).sign_in(self.user.username, PASSWORD, pyotp.TOTP(self.user.totp_secret).at(START))
        outcome.raise_for_failure()
        assert outcome.session_token is not None
        assert outcome.csrf_token is not None
        self.http.cookies.set(SESSION_COOKIE, outcome.session_token)
        return outcome.session_token, outcome.csrf_token


def add_routes(app: FastAPI) -> None:
    @app.get("/test-only/console/me")
    def me(principal: CurrentConsoleUser) -> dict[str, Any]:
        return {"user": principal.user, "roles": sorted(principal.roles)}

    @app.post("/test-only/console/answer")
    def answer(
        principal: CsrfCheckedConsoleUser, text: Annotated[str, Form()] = ""
    ) -> dict[str, str]:
        return {"user": principal.user or "", "text": text}

    @app.post("/test-only/console/users")
    def manage(
        principal: Annotated[Principal, Depends(require_permission(Permission.USERS_MANAGE))],
    ) -> dict[str, str]:
        return {"user": principal.user or ""}


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Iterator[Console]:
    app, services = build_app(make_settings(database_url, tmp_path), FixedClock(START))
    add_routes(app)
    with transaction(services.session_factory) as session:
        PartnerRegistry(session, services.audit, actor=Actor(request_id="setup")).add_partner(
            name="Help desk", sector="helpdesk", partner_id="helpdesk"
        )
        user = ConsoleAccounts(
            session,
            services.audit,
            services.settings,
            clock=services.clock,
            request_id="setup",
            hashing=FAST,
        ).add_user(username="hanna", role="helpdesk", partner_id="helpdesk", password=PASSWORD)
    try:
        with serve(app) as http:
            yield Console(http, services, user)
    finally:
        services.engine.dispose()


def test_no_cookie_is_a_401(console: Console) -> None:
    response = console.http.get("/test-only/console/me")
    assert response.status_code == 401
    assert response.json()["field"] == "session"


def test_stale_cookie_is_refused_and_audited(console: Console) -> None:
    console.http.cookies.set(SESSION_COOKIE, "not-a-session")
    assert console.http.get("/test-only/console/me").status_code == 401
    assert audit_entries(console.services, "console:signin:deny")[-1]["reasons"] == [
        "session-unknown"
    ]


def test_session_cookie_identifies_the_user(console: Console) -> None:
    console.sign_in()
    assert console.http.get("/test-only/console/me").json() == {
        "user": "hanna",
        "roles": ["helpdesk"],
    }


def test_forms_need_the_csrf_token(console: Console) -> None:
    _token, csrf = console.sign_in()
    refused = console.http.post("/test-only/console/answer", data={"text": "yes"})
    assert refused.status_code == 403
    assert refused.json()["reasons"] == ["csrf-mismatch"]
    assert audit_entries(console.services, "console:signin:deny")[-1]["reasons"] == [
        "csrf-mismatch"
    ]
    wrong = console.http.post("/test-only/console/answer", data={"text": "yes", "csrf_token": "x"})
    assert wrong.status_code == 403
    by_field = console.http.post(
        "/test-only/console/answer", data={"text": "yes", "csrf_token": csrf}
    )
    assert by_field.json() == {"user": "hanna", "text": "yes"}
    by_header = console.http.post(
        "/test-only/console/answer", data={"text": "ok"}, headers={"X-CSRF-Token": csrf}
    )
    assert by_header.status_code == 200


def test_permissions_follow_the_role(console: Console) -> None:
    _token, csrf = console.sign_in()
    response = console.http.post("/test-only/console/users", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 403
    body = response.json()
    assert body["reasons"] == ["permission-missing"]
    assert "users:manage" in body["detail"]
    assert audit_entries(console.services, "console:signin:deny")[-1]["reasons"] == [
        "permission-missing"
    ]


def test_session_cookie_attributes(console: Console) -> None:
    from fastapi import Response

    from gateway.auth.console_deps import clear_session_cookie, set_session_cookie

    response = Response()
    set_session_cookie(response, "token-value", console.services.settings)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=token-value;")
    for attribute in ("HttpOnly", "Path=/", "SameSite=strict", "Secure", "Max-Age=28800"):
        assert attribute in cookie
    assert "Domain" not in cookie
    cleared = Response()
    clear_session_cookie(cleared)
    assert "Max-Age=0" in cleared.headers["set-cookie"]
