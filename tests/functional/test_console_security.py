"""Console security over HTTP: headers, CSRF on every state-changing form, sign-in guards."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest

from tests.functional.console_support import ConsoleApp, console_app, csrf_of

PAGES = (
    "/console/overview",
    "/console/policies",
    "/console/audit",
    "/console/register",
    "/console/helpdesk",
    "/console/helpdesk/cases",
    "/console/helpdesk/cases/new",
)
POST_FORM = re.compile(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', re.S)


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Iterator[ConsoleApp]:
    with console_app(database_url, tmp_path / "data") as running:
        yield running


def test_pages_carry_the_console_security_headers(console: ConsoleApp) -> None:
    client = console.sign_in("dora")
    for path in ("/console/signin", "/console/overview", "/console/static/console.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
    page = client.get("/console/overview").text
    for inline in ("<script>", " style=", "onclick"):
        assert inline not in page
    assert re.findall(r'(?:src|href)="(https?:)?//', page) == []


def test_api_responses_keep_their_headers_without_the_console_policy(
    console: ConsoleApp,
) -> None:
    response = console.http.get("/health")
    assert "content-security-policy" not in response.headers
    assert response.headers["referrer-policy"] == "no-referrer"


def test_session_cookie_is_host_only_secure_httponly_strict(console: ConsoleApp) -> None:
    client = console.client()
    token = re.search(r'name="signin_token" value="([^"]+)"', client.get("/console/signin").text)
    assert token is not None
    console.clock.current += timedelta(seconds=31)
    response = client.post(
        "/console/signin",
        data={
            "username": "petra",
            "password": "a sufficiently long password",
            "totp": pyotp.TOTP(console.users["petra"].totp_secret).at(console.clock.now()),
            "signin_token": token.group(1),
        },
        follow_redirects=False,
    )
    cookie = next(
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith("__Host-ppsgate-session=")
    )
    lowered = cookie.lower()
    for attribute in ("secure", "httponly", "samesite=strict", "path=/"):
        assert attribute in lowered
    assert "domain=" not in lowered


def test_sign_in_form_refuses_a_post_without_its_token(console: ConsoleApp) -> None:
    client = console.client()
    response = client.post(
        "/console/signin",
        data={"username": "petra", "password": "x" * 20, "totp": "123456"},
    )
    assert response.status_code == 403
    assert "csrf-mismatch" in response.text


def test_every_post_form_needs_the_session_csrf_token(console: ConsoleApp) -> None:
    forms: dict[str, str] = {}
    for user in ("dora", "hanna"):
        client = console.sign_in(user)
        for path in PAGES:
            page = client.get(path)
            for action, body in POST_FORM.findall(page.text):
                assert 'name="csrf_token"' in body, f"form {action} on {path} lacks a token"
                forms[action] = user
    assert {"/console/signout", "/console/integrity/verify", "/console/helpdesk/cases"} <= set(
        forms
    )
    tags_before = console.audit_tags().count("console:signin:deny")
    for action, user in forms.items():
        client = console.sign_in(user)
        for data in ({}, {"csrf_token": "forged"}):
            response = client.post(action, data=data, follow_redirects=False)
            assert response.status_code == 403, (action, data)
            assert "csrf-mismatch" in response.text
    assert console.audit_tags().count("console:signin:deny") >= tags_before + 2 * len(forms)


def test_a_form_with_its_token_goes_through(console: ConsoleApp) -> None:
    client = console.sign_in("petra")
    token = csrf_of(client.get("/console/overview").text)
    response = client.post(
        "/console/integrity/verify", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert "audit:integrity:verify" in console.audit_tags()
    assert "by petra (bank-a)" in client.get("/console/overview").text


def test_sign_out_ends_the_session(console: ConsoleApp) -> None:
    client = console.sign_in("petra")
    token = csrf_of(client.get("/console/overview").text)
    assert (
        client.post(
            "/console/signout", data={"csrf_token": token}, follow_redirects=False
        ).status_code
        == 303
    )
    response = client.get("/console/overview", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/signin")


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/console\\@evil", "/v1/audit/sth"]
)
def test_redirect_targets_stay_in_the_console(console: ConsoleApp, target: str) -> None:
    response = console.client().get(f"/console/language/nl?next={target}", follow_redirects=False)
    assert response.headers["location"] == "/console/overview"


def test_unauthenticated_pages_redirect_to_sign_in_with_the_target(console: ConsoleApp) -> None:
    response = console.client().get("/console/audit?decision=deny", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/signin?next=/console/audit%3Fdecision%3Ddeny"
