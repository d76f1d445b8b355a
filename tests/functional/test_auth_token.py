"""POST /oauth/token through the real app: private_key_jwt, every attack refused and audited."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey

from connectors.client import GatewayAPIError, GatewayClient
from gateway.auth.keys import load_token_signing_key
from gateway.clock import FixedClock
from gateway.services import Services
from tests.functional.auth_helpers import (
    ASSERTION_TYPE,
    PUBLIC_URL,
    START,
    Client,
    assertion,
    audit_entries,
    build_app,
    make_settings,
    onboard,
    other_key,
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
        self.bank = onboard(services, "bank", "bank", "indicators:write match:query")
        self.telco = onboard(services, "telco", "telecom", "match:query")


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    clock = FixedClock(START)
    app, services = build_app(make_settings(database_url, tmp_path), clock)
    try:
        with serve(app) as http:
            yield World(http, services, clock)
    finally:
        services.engine.dispose()


def refused(response: Any, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["reasons"] == [reason]
    assert body["detail"]
    assert body["error"] in {
        "invalid_client",
        "invalid_scope",
        "unsupported_grant_type",
        "unauthorized_client",
        "invalid_request",
    }
    return dict(body)


def last_denial(world: World) -> dict[str, Any]:
    entries = audit_entries(world.services, "auth:token:deny")
    assert entries, "the refusal was not audited"
    return entries[-1]


def test_valid_assertion_gets_a_300_second_rfc9068_token(world: World) -> None:
    response = token_request(world.http, assertion(world.bank, START))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300  # not Authlib's 864000 (10 days)
    assert body["scope"] == "indicators:write match:query"
    key = load_token_signing_key(world.services.settings)
    decoded = jwt.decode(body["access_token"], key.private, algorithms=["ES256"])
    claims = decoded.claims
    assert decoded.header == {"alg": "ES256", "typ": "at+jwt", "kid": key.kid}
    assert claims["exp"] - claims["iat"] == 300
    assert claims["iat"] == int(START.timestamp())
    assert claims["iss"] == claims["aud"] == PUBLIC_URL
    assert claims["sub"] == claims["client_id"] == "bank-1"
    assert claims["partner_id"] == "bank"
    assert claims["key_version"] == 1
    issued = audit_entries(world.services, "auth:token:issue")
    assert [(e["actor"]["partner"], e["actor"]["client"], e["decision"]) for e in issued] == [
        ("bank", "bank-1", "allow")
    ]


def test_token_lifetime_follows_the_setting(database_url: str, tmp_path: Path) -> None:
    app, services = build_app(
        make_settings(database_url, tmp_path, access_token_lifetime_seconds=120),
        FixedClock(START),
    )
    try:
        bank = onboard(services, "bank", "bank", "match:query")
        with serve(app) as http:
            body = token_request(http, assertion(bank, START)).json()
            claims = jwt.decode(
                body["access_token"], load_token_signing_key(services.settings).private
            ).claims
            assert body["expires_in"] == 120 == claims["exp"] - claims["iat"]
    finally:
        services.engine.dispose()


def test_narrower_scope_can_be_requested(world: World) -> None:
    response = token_request(world.http, assertion(world.bank, START), scope="match:query")
    assert response.json()["scope"] == "match:query"


BAD_CLAIMS: list[tuple[dict[str, Any], str, str]] = [
    (
        {
            "exp": int((START - timedelta(minutes=2)).timestamp()),
            "iat": int((START - timedelta(minutes=3)).timestamp()),
        },
        "assertion-expired",
        "client_assertion.exp",
    ),
    (
        {"nbf": int((START + timedelta(minutes=5)).timestamp())},
        "assertion-not-yet-valid",
        "client_assertion.nbf",
    ),
    (
        {
            "iat": int((START + timedelta(minutes=5)).timestamp()),
            "exp": int((START + timedelta(minutes=6)).timestamp()),
        },
        "assertion-not-yet-valid",
        "client_assertion.iat",
    ),
    ({"aud": f"{PUBLIC_URL}/v1/match"}, "assertion-audience", "client_assertion.aud"),
    (
        {"aud": "https://other-gateway.test/oauth/token"},
        "assertion-audience",
        "client_assertion.aud",
    ),
    (
        {"exp": int((START + timedelta(hours=1)).timestamp())},
        "assertion-lifetime",
        "client_assertion.exp",
    ),
    ({"jti": None}, "assertion-claims", "client_assertion.jti"),
    ({"exp": None}, "assertion-claims", "client_assertion.exp"),
    ({"iss": "telco-1"}, "client-mismatch", "iss"),
]


def test_bad_assertion_claims_are_refused(world: World) -> None:
    # One app and database for all cases: each refusal must leave its own audit entry.
    for number, (claims, reason, field) in enumerate(BAD_CLAIMS, start=1):
        response = token_request(world.http, assertion(world.bank, START, **claims))
        body = refused(response, 401, reason)
        assert body["error"] == "invalid_client", reason
        assert body["field"] == field, reason
        denials = audit_entries(world.services, "auth:token:deny")
        assert len(denials) == number, reason
        assert denials[-1]["reasons"] == [reason]
        assert denials[-1]["decision"] == "deny"
    assert audit_entries(world.services, "auth:token:issue") == []


def test_assertion_signed_by_another_partners_key_is_refused(world: World) -> None:
    forged = assertion(world.bank, START, key=world.telco.keys.signing_key)
    refused(token_request(world.http, forged), 401, "assertion-signature")
    forged = assertion(world.bank, START, key=other_key())
    refused(token_request(world.http, forged), 401, "assertion-signature")
    denial = last_denial(world)
    assert denial["actor"]["client"] == "bank-1"  # a registered id, claimed but unproven


def test_replayed_assertion_is_refused(world: World) -> None:
    signed = assertion(world.bank, START)
    assert token_request(world.http, signed).status_code == 200
    refused(token_request(world.http, signed), 401, "assertion-replayed")
    world.clock.current = START + timedelta(seconds=20)
    refused(token_request(world.http, signed), 401, "assertion-replayed")


def test_same_jti_of_two_clients_does_not_collide(world: World) -> None:
    assert token_request(world.http, assertion(world.bank, START, jti="shared")).status_code == 200
    assert token_request(world.http, assertion(world.telco, START, jti="shared")).status_code == 200


def test_alg_none_is_refused(world: World) -> None:
    t = int(START.timestamp())
    payload = {
        "iss": "bank-1",
        "sub": "bank-1",
        "aud": f"{PUBLIC_URL}/oauth/token",
        "iat": t,
        "exp": t + 60,
        "jti": "none-1",
    }
    for alg in ("none", "None", "NONE"):
        refused(
            token_request(world.http, unsigned_token({"alg": alg}, payload)),
            401,
            "assertion-algorithm",
        )
    assert audit_entries(world.services, "auth:token:issue") == []


def test_hmac_keyed_with_the_public_key_is_refused(world: World) -> None:
    # The classic key-confusion forgery: HMAC keyed with the public key's PEM bytes.
    public_pem = ECKey.import_key(world.bank.keys.public_signing_jwk()).as_pem(private=False)
    unsigned = unsigned_token(
        {"alg": "HS256", "typ": "JWT"},
        {
            "iss": "bank-1",
            "sub": "bank-1",
            "aud": f"{PUBLIC_URL}/oauth/token",
            "exp": int(START.timestamp()) + 60,
            "jti": "hs-1",
        },
    )
    signing_input = unsigned.rstrip(".")
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    refused(token_request(world.http, forged), 401, "assertion-algorithm")


def test_other_asymmetric_algorithms_are_refused(world: World) -> None:
    p384 = ECKey.generate_key("P-384")
    forged = assertion(world.bank, START, key=p384, header={"alg": "ES384"})
    refused(token_request(world.http, forged), 401, "assertion-algorithm")


def test_unknown_client_is_refused_and_not_named_in_the_audit(world: World) -> None:
    stranger = Client("nobody", "nobody-1", world.bank.keys)
    refused(token_request(world.http, assertion(stranger, START)), 401, "client-unknown")
    denial = last_denial(world)
    assert denial["actor"] == {"partner": None, "client": None, "user": None}


def test_scope_escalation_is_refused(world: World) -> None:
    body = refused(
        token_request(
            world.http, assertion(world.telco, START), scope="match:query indicators:write"
        ),
        403,
        "scope-not-registered",
    )
    assert body["error"] == "invalid_scope"
    assert "indicators:write" in body["detail"]
    refused(
        token_request(world.http, assertion(world.telco, START), scope="admin"),
        403,
        "scope-not-registered",
    )
    refused(
        token_request(world.http, assertion(world.telco, START), scope="root:all"),
        403,
        "scope-unknown",
    )
    assert last_denial(world)["actor"]["client"] == "telco-1"


def test_suspended_partner_and_client_get_no_tokens(world: World) -> None:
    registry_call(world.services, "suspend", "bank")
    refused(token_request(world.http, assertion(world.bank, START)), 401, "partner-suspended")
    registry_call(world.services, "reinstate", "bank")
    assert token_request(world.http, assertion(world.bank, START)).status_code == 200
    registry_call(world.services, "suspend_client", "bank-1")
    refused(token_request(world.http, assertion(world.bank, START)), 401, "client-suspended")


def test_client_secrets_do_not_exist(world: World) -> None:
    response = world.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "bank-1", "client_secret": "guess"},
    )
    refused(response, 401, "assertion-missing")
    response = world.http.post(
        "/oauth/token", auth=("bank-1", "guess"), data={"grant_type": "client_credentials"}
    )
    refused(response, 401, "assertion-missing")


def test_wrong_assertion_type_and_client_id_mismatch(world: World) -> None:
    response = world.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:other",
            "client_assertion": assertion(world.bank, START),
        },
    )
    refused(response, 401, "assertion-type")
    response = token_request(world.http, assertion(world.bank, START), client_id="telco-1")
    refused(response, 401, "client-mismatch")


def test_malformed_assertion(world: World) -> None:
    refused(token_request(world.http, "not-a-jwt"), 401, "assertion-malformed")


def test_only_the_client_credentials_grant_exists(world: World) -> None:
    response = world.http.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "username": "u",
            "password": "p",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(world.bank, START),
        },
    )
    refused(response, 400, "grant-type-unsupported")


def test_token_request_must_be_a_form(world: World) -> None:
    response = world.http.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 422
    assert response.json()["field"] == "Content-Type"


def test_repeated_parameters_are_refused(world: World) -> None:
    response = world.http.post(
        "/oauth/token",
        content="grant_type=client_credentials&scope=a&scope=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "scope"


def test_jwks_and_metadata_publish_the_public_key(world: World) -> None:
    jwks = world.http.get("/.well-known/jwks.json").json()
    (key,) = jwks["keys"]
    assert key["kid"] == load_token_signing_key(world.services.settings).kid
    assert "d" not in key
    metadata = world.http.get("/.well-known/oauth-authorization-server").json()
    assert metadata["token_endpoint"] == f"{PUBLIC_URL}/oauth/token"
    assert metadata["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert metadata["token_endpoint_auth_signing_alg_values_supported"] == ["ES256"]
    assert metadata["grant_types_supported"] == ["client_credentials"]


def test_connector_names_the_url_it_used_and_the_one_the_gateway_expects(world: World) -> None:
    # A connector pointed at the gateway's internal address instead of its public URL.
    connector = GatewayClient(
        "http://127.0.0.1:8102",
        world.bank.client_id,
        world.bank.keys,
        http_client=world.http,
        clock=START.timestamp,
        max_attempts=1,
    )
    with pytest.raises(GatewayAPIError) as refusal:
        connector.access_token()
    message = refusal.value.diagnostics()
    assert refusal.value.status == 401
    assert "http://127.0.0.1:8102/oauth/token" in message
    assert f"{PUBLIC_URL}/oauth/token" in message
    assert "PPSGATE_PUBLIC_URL" in message
