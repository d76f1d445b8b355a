"""Bearer tokens on API routes: verified, re-checked against the registry on every request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from sqlalchemy import create_engine, event, text

from connectors.client import GatewayAPIError, GatewayClient
from connectors.keystore import ConnectorKeys
from gateway.auth.keys import load_token_signing_key
from gateway.clock import FixedClock
from gateway.services import Services
from tests.functional.auth_helpers import (
    PUBLIC_URL,
    START,
    assertion,
    audit_entries,
    build_app,
    get_token,
    make_settings,
    onboard,
    registry_call,
    serve,
    token_request,
    unsigned_token,
)


class World:
    def __init__(self, http: TestClient, services: Services, clock: FixedClock) -> None:
        self.http = http
        self.services = services
        self.clock = clock
        self.bank = onboard(services, "bank", "bank", "indicators:write match:query audit:read")
        self.telco = onboard(services, "telco", "telecom", "match:query")

    def whoami(self, token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.http.get("/test-only/whoami", headers=headers)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    clock = FixedClock(START)
    app, services = build_app(make_settings(database_url, tmp_path), clock)
    try:
        with serve(app) as http:
            yield World(http, services, clock)
    finally:
        services.engine.dispose()


def denial_reasons(world: World) -> list[list[str]]:
    return [entry["reasons"] for entry in audit_entries(world.services, "auth:token:deny")]


def expect(world: World, response: Any, status: int, reason: str) -> dict[str, Any]:
    """A refusal with this status, a problem+json body and an audit entry naming ``reason``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["detail"]
    # 403s carry ``reasons`` in the body; 401s do once the app's problem handler renders the
    # reasons of every GatewayError (until then the audit entry below holds the code).
    assert body.get("reasons", [reason]) == [reason], body
    if status == 403:
        assert body["reasons"] == [reason]
    assert denial_reasons(world)[-1] == [reason]
    return dict(body)


def test_valid_token_yields_the_principal(world: World) -> None:
    response = world.whoami(get_token(world.http, world.bank, START))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "partner_id": "bank",
        "client_id": "bank-1",
        "sector": "bank",
        "scopes": ["audit:read", "indicators:write", "match:query"],
    }


def test_missing_or_non_bearer_token(world: World) -> None:
    body = expect(world, world.whoami(None), 401, "token-missing")
    assert body["field"] == "Authorization"
    response = world.http.get("/test-only/whoami", headers={"Authorization": "Basic YTpi"})
    expect(world, response, 401, "token-missing")


def test_expired_token_is_refused(world: World) -> None:
    token = get_token(world.http, world.bank, START)
    world.clock.current = START + timedelta(seconds=300 + 29)
    assert world.whoami(token).status_code == 200  # within the 30 s clock-skew leeway
    world.clock.current = START + timedelta(seconds=300 + 31)
    expect(world, world.whoami(token), 401, "token-expired")


def test_token_from_the_future_is_refused(world: World) -> None:
    world.clock.current = START + timedelta(minutes=5)
    token = get_token(world.http, world.bank, world.clock.current)
    world.clock.current = START
    expect(world, world.whoami(token), 401, "token-not-yet-valid")


def test_token_signed_with_a_partner_key_is_refused(world: World) -> None:
    claims = jwt.decode(
        get_token(world.http, world.bank, START),
        load_token_signing_key(world.services.settings).private,
    ).claims
    claims["scope"] = "indicators:write match:query audit:read admin"
    forged = jwt.encode({"alg": "ES256", "typ": "at+jwt"}, claims, world.telco.keys.signing_key)
    expect(world, world.whoami(forged), 401, "token-signature")


def test_alg_none_access_token_is_refused(world: World) -> None:
    t = int(START.timestamp())
    payload = {
        "iss": PUBLIC_URL,
        "aud": PUBLIC_URL,
        "sub": "bank-1",
        "client_id": "bank-1",
        "partner_id": "bank",
        "scope": "admin",
        "jti": "x",
        "key_version": 1,
        "iat": t,
        "exp": t + 300,
    }
    expect(
        world,
        world.whoami(unsigned_token({"alg": "none", "typ": "at+jwt"}, payload)),
        401,
        "token-algorithm",
    )


def test_client_assertion_is_not_an_access_token(world: World) -> None:
    expect(world, world.whoami(assertion(world.bank, START)), 401, "token-type")


def test_suspended_partners_still_valid_token_is_refused_at_once(world: World) -> None:
    token = get_token(world.http, world.bank, START)
    assert world.whoami(token).status_code == 200
    registry_call(world.services, "suspend", "bank")
    expect(world, world.whoami(token), 401, "partner-suspended")
    registry_call(world.services, "reinstate", "bank")
    assert world.whoami(token).status_code == 200


def test_suspended_client_is_refused_other_partners_are_not(world: World) -> None:
    bank_token = get_token(world.http, world.bank, START)
    telco_token = get_token(world.http, world.telco, START)
    registry_call(world.services, "suspend_client", "bank-1")
    expect(world, world.whoami(bank_token), 401, "client-suspended")
    assert world.whoami(telco_token).status_code == 200


def test_key_rotation_voids_old_tokens_and_the_old_key(world: World) -> None:
    old_token = get_token(world.http, world.bank, START)
    new_keys = ConnectorKeys.generate()
    client = registry_call(world.services, "rotate_key", "bank-1", new_keys.public_jwks())
    assert client.key_version == 2
    expect(world, world.whoami(old_token), 401, "client-key-rotated")
    old_key_response = token_request(world.http, assertion(world.bank, START))
    assert old_key_response.json()["reasons"] == ["assertion-signature"]
    world.bank.keys = new_keys
    assert world.whoami(get_token(world.http, world.bank, START)).status_code == 200


def test_missing_scope_is_a_403(world: World) -> None:
    bank_token = get_token(world.http, world.bank, START, scope="match:query")
    body = expect(
        world,
        world.http.get("/test-only/audit", headers={"Authorization": f"Bearer {bank_token}"}),
        403,
        "scope-missing",
    )
    assert body["field"] == "scope"
    assert "audit:read" in body["detail"]
    full = get_token(world.http, world.bank, START)
    response = world.http.get("/test-only/audit", headers={"Authorization": f"Bearer {full}"})
    assert response.status_code == 200


def test_connector_client_against_the_app(database_url: str, tmp_path: Path) -> None:
    from gateway.clock import SystemClock

    settings = make_settings(database_url, tmp_path)
    app, services = build_app(settings, SystemClock())  # type: ignore[arg-type]
    try:
        bank = onboard(services, "bank", "bank", "match:query")
        with serve(app) as http:
            client = GatewayClient(
                "https://testserver",
                "bank-1",
                bank.keys,
                http_client=http,
                token_url=f"{PUBLIC_URL}/oauth/token",
            )
            assert client.get_json("/test-only/whoami")["client_id"] == "bank-1"
            assert client.get_json("/test-only/whoami")["partner_id"] == "bank"
            with pytest.raises(GatewayAPIError) as caught:
                client.get_json("/test-only/audit")
            assert caught.value.status == 403
            assert caught.value.reasons == ("scope-missing",)
            registry_call(services, "suspend", "bank")
            with pytest.raises(GatewayAPIError) as suspended:
                client.get_json("/test-only/whoami")
            assert suspended.value.reasons == ("partner-suspended",)
        assert len(audit_entries(services, "auth:token:issue")) == 1
        # The API's 401 made the client ask for a fresh token, which was refused as well.
        denials = [e["reasons"] for e in audit_entries(services, "auth:token:deny")]
        assert denials[-2:] == [["partner-suspended"], ["partner-suspended"]]
    finally:
        services.engine.dispose()


def _statements(services: Services) -> list[str]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(services.engine, "before_cursor_execute", record)
    return seen


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_worker_remembers_the_registry_and_a_change_elsewhere_ends_it(
    world: World, database_url: str
) -> None:
    """PostgreSQL: the registration is read once per change, not per request; a suspension
    committed by another process (the CLI) is refused on the first request after its
    notification reached the worker."""
    services = world.services
    deadline = time.monotonic() + 20
    while not services.registry.listening:  # the lifespan started the listener
        assert time.monotonic() < deadline, "the registry watch never listened"
        time.sleep(0.01)
    token = get_token(world.http, world.bank, START)
    assert world.whoami(token).status_code == 200
    statements = _statements(services)
    assert world.whoami(token).status_code == 200
    assert not [s for s in statements if "partner_clients" in s], statements
    generation = services.registry.generation
    other = create_engine(database_url)  # another process's connection, not this worker's
    try:
        with other.begin() as connection:
            connection.execute(text("UPDATE partners SET status = 'suspended' WHERE id = 'bank'"))
    finally:
        other.dispose()
    while services.registry.generation == generation:
        assert time.monotonic() < deadline + 20, "the suspension was never notified"
        time.sleep(0.005)
    expect(world, world.whoami(token), 401, "partner-suspended")
