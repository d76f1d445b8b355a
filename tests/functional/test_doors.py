"""Bad input at every door is a 4xx problem+json, never a 500 with a traceback in the log.

Each case here once answered 500 (PostgreSQL refuses NUL characters in text, Python's JSON
parser recurses once per nested array, unbounded integers overflow the database's). The
refusals at the unauthenticated token endpoint are audited, and the log stays short.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from gateway.clock import FixedClock
from gateway.db import transaction
from gateway.errors import InvalidRequestError
from gateway.partners.models import PartnerClient
from gateway.services import Services
from tests.functional.auth_helpers import (
    START,
    assertion,
    audit_entries,
    build_app,
    get_token,
    make_settings,
    onboard,
    token_request,
)
from tests.functional.console_support import console_app


class Doors:
    def __init__(self, http: TestClient, services: Services, clock: FixedClock) -> None:
        self.http = http
        self.services = services
        self.clock = clock
        self.bank = onboard(
            services, "bank-a", "bank", "audit:read alerts:read match:query indicators:write"
        )

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {get_token(self.http, self.bank, self.clock.now())}"}


@pytest.fixture
def doors(database_url: str, tmp_path: Path) -> Iterator[Doors]:
    clock = FixedClock(START)
    app, services = build_app(make_settings(database_url, tmp_path), clock)
    try:
        with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as http:
            yield Doors(http, services, clock)
    finally:
        services.engine.dispose()


def problem(response: Any, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["field"]
    assert body["detail"]
    return body


def _segment(data: Any) -> str:
    raw = data if isinstance(data, str) else json.dumps(data)
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def forged(header: dict[str, Any], payload: Any) -> str:
    """A compact JWS whose payload may be any JSON text; the signature does not matter."""
    return f"{_segment(header)}.{_segment(payload)}.{_segment('x' * 64)}"


def test_nul_in_the_assertion_subject_is_a_logged_once_401(
    doors: Doors, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    signed = forged({"alg": "ES256", "kid": "k"}, {"iss": "a\x00b", "sub": "a\x00b"})
    body = problem(token_request(doors.http, signed), 401)
    assert body["reasons"] == ["assertion-malformed"]
    assert audit_entries(doors.services, "auth:token:deny")[-1]["reasons"] == [
        "assertion-malformed"
    ]
    assert "Traceback" not in caplog.text
    assert len(caplog.text) < 4000


def test_deeply_nested_assertion_is_refused_and_audited(
    doors: Doors, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    nested = "[" * 1500 + "]" * 1500
    for signed in (
        forged({"alg": "ES256"}, nested),
        f"{_segment(nested)}.{_segment({'sub': 'x'})}.{_segment('x')}",
    ):
        body = problem(token_request(doors.http, signed), 401)
        assert body["reasons"] == ["assertion-malformed"]
    assert len(audit_entries(doors.services, "auth:token:deny")) == 2
    assert "Traceback" not in caplog.text


def test_nul_in_a_jti_is_refused(doors: Doors) -> None:
    signed = assertion(doors.bank, doors.clock.now(), jti="a\x00b")
    body = problem(token_request(doors.http, signed), 401)
    assert body["field"] == "client_assertion.jti"


def test_nul_in_a_query_parameter_is_a_400(doors: Doors) -> None:
    response = doors.http.get("/v1/audit/search", params={"purpose": "a\x00b"}, **_h(doors))
    assert problem(response, 400)["field"] == "purpose"


def test_nul_in_the_webhook_url_is_a_422(doors: Doors) -> None:
    response = doors.http.put(
        "/v1/alerts/webhook", json={"url": "https://hooks.example/\x00x"}, **_h(doors)
    )
    assert problem(response, 422)["field"] == "url"


def test_console_audit_routes_bound_their_integers(database_url: str, tmp_path: Path) -> None:
    with console_app(database_url, tmp_path) as console:
        http = console.sign_in("dora")
        for path in (
            "/console/audit/entries/99999999999999999999",
            "/console/audit?before=99999999999999999999",
        ):
            response = http.get(path, follow_redirects=False)
            assert 400 <= response.status_code < 500, (path, response.status_code)


def _h(doors: Doors) -> dict[str, Any]:
    return {"headers": doors.bearer()}


def test_token_refusals_are_all_audited_but_sampled_in_the_log(
    doors: Doors, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    before = len(audit_entries(doors.services, "auth:token:deny"))
    for _ in range(20):
        token_request(doors.http, forged({"alg": "ES256"}, {"sub": "nobody"}))
    assert len(audit_entries(doors.services, "auth:token:deny")) == before + 20
    lines = [r for r in caplog.records if "token request refused" in r.getMessage()]
    assert len(lines) <= 1


# -- smaller gaps: refusals audited with the client, strict times, Allow, custodian scopes --


def test_a_refused_token_form_is_audited_with_the_claimed_client(doors: Doors) -> None:
    client_id = doors.bank.client_id
    form = f"client_id={client_id}&client_id={client_id}&grant_type=client_credentials"
    response = doors.http.post(
        "/oauth/token",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert problem(response, 422)["field"] == "client_id"
    entry = audit_entries(doors.services, "auth:token:deny")[-1]
    assert entry["reasons"] == ["invalid-request"]
    assert entry["actor"]["client"] == client_id


def test_a_too_large_token_request_is_audited(database_url: str, tmp_path: Path) -> None:
    clock = FixedClock(START)
    settings = make_settings(database_url, tmp_path, max_body_bytes=2048)
    app, services = build_app(settings, clock)
    try:
        with TestClient(app, base_url="https://testserver") as http:
            response = http.post(
                "/oauth/token",
                content="x=" + "a" * 4096,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert response.status_code == 413
        assert audit_entries(services, "auth:token:deny")[-1]["reasons"] == ["payload-too-large"]
    finally:
        services.engine.dispose()


def test_a_cross_partner_audit_refusal_names_the_client(doors: Doors) -> None:
    onboard(doors.services, "bank-b", "bank", "audit:read")
    response = doors.http.get("/v1/audit/search", params={"partner": "bank-b"}, **_h(doors))
    assert response.status_code == 403
    entry = audit_entries(doors.services, "audit:access:deny")[-1]
    assert entry["actor"]["client"] == doors.bank.client_id


@pytest.mark.parametrize("value", ["0.5", "1700000000", "yesterday"])
def test_audit_times_are_iso_dates_not_numbers(doors: Doors, value: str) -> None:
    response = doors.http.get("/v1/audit/search", params={"until": value}, **_h(doors))
    assert problem(response, 422)["field"] == "until"


def test_method_not_allowed_lists_every_method_of_the_path(doors: Doors) -> None:
    for path, allowed in (("/console/signin", "GET, POST"), ("/v1/watchlist", "DELETE, PUT")):
        response = doors.http.request("PATCH", path)
        assert response.status_code == 405
        assert response.headers["Allow"] == allowed


def test_a_custodian_client_gets_no_partner_scopes(doors: Doors) -> None:
    custodian = onboard(doors.services, "custodian-pps", "partnership_dpo", "keys:custody")
    with pytest.raises(InvalidRequestError) as refused:
        onboard(doors.services, "custodian-b", "partnership_dpo", "keys:custody match:query")
    assert refused.value.field == "scopes"
    # A client registered before the rule still gets no partner scope from the token endpoint.
    with transaction(doors.services.session_factory) as session:
        session.execute(
            update(PartnerClient)
            .where(PartnerClient.id == custodian.client_id)
            .values(scopes="keys:custody match:query")
        )
    for extra in ({}, {"scope": "match:query"}):
        signed = assertion(custodian, doors.clock.now())
        body = problem(token_request(doors.http, signed, **extra), 403)
        assert body["reasons"] == ["scope-custodian"]


def test_a_sign_in_with_a_forged_form_token_is_audited(database_url: str, tmp_path: Path) -> None:
    with console_app(database_url, tmp_path) as console:
        client = console.client()
        client.get("/console/signin")
        response = client.post(
            "/console/signin",
            data={"username": "petra", "password": "x", "totp": "000000", "signin_token": "forged"},
            follow_redirects=False,
        )
        assert response.status_code == 403
        entry = audit_entries(console.services, "console:signin:deny")[-1]
        assert entry["reasons"] == ["csrf-mismatch"]
        assert entry["actor"]["user"] == "petra"
