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

from gateway.clock import FixedClock
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
