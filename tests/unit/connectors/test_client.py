"""The connector client's own token, retry and idempotency logic, against httpx.MockTransport.

MockTransport is used here only, as the project allows, to script transient failures that a
real gateway cannot be made to produce on demand. The handler still verifies every client
assertion with the connector's public key, so a malformed assertion fails these tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from connectors.client import (
    CLIENT_ASSERTION_TYPE,
    GatewayAPIError,
    GatewayClient,
    GatewayUnavailableError,
)
from connectors.keystore import ConnectorKeys

BASE = "https://gateway.test"
TOKEN_URL = f"{BASE}/oauth/token"


@dataclass
class FakeClock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Script:
    """A scripted gateway: token endpoint plus API answers taken from a queue."""

    keys: ConnectorKeys
    clock: FakeClock
    api_answers: list[Callable[[httpx.Request], httpx.Response]] = field(default_factory=list)
    token_answers: list[Callable[[httpx.Request], httpx.Response]] = field(default_factory=list)
    token_lifetime: int = 300
    jtis: list[str] = field(default_factory=list)
    api_requests: list[httpx.Request] = field(default_factory=list)
    issued: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            if self.token_answers:
                return self.token_answers.pop(0)(request)
            return self.token(request)
        self.api_requests.append(request)
        if self.api_answers:
            return self.api_answers.pop(0)(request)
        return httpx.Response(200, json={"ok": True, "auth": request.headers["authorization"]})

    def token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        assert form["grant_type"] == "client_credentials"
        assert form["client_assertion_type"] == CLIENT_ASSERTION_TYPE
        public = ECKey.import_key(self.keys.public_signing_jwk())
        decoded = jwt.decode(form["client_assertion"], public, algorithms=["ES256"])
        claims = decoded.claims
        assert decoded.header["alg"] == "ES256"
        assert decoded.header["kid"] == self.keys.key_id
        assert claims["iss"] == claims["sub"] == "bank-1"
        assert claims["aud"] == TOKEN_URL
        assert claims["exp"] - self.clock.now <= 60
        assert claims["jti"] not in self.jtis, "a jti was reused"
        self.jtis.append(claims["jti"])
        self.issued += 1
        body = {
            "access_token": f"tok-{self.issued}",
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
        }
        if "scope" in form:
            body["scope"] = form["scope"]
        return httpx.Response(200, json=body)


@pytest.fixture
def keys() -> ConnectorKeys:
    return ConnectorKeys.generate()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def script(keys: ConnectorKeys, clock: FakeClock) -> Script:
    return Script(keys=keys, clock=clock)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(
    keys: ConnectorKeys, clock: FakeClock, script: Script, sleeps: list[float]
) -> GatewayClient:
    return GatewayClient(
        BASE,
        "bank-1",
        keys,
        transport=httpx.MockTransport(script),
        sleep=sleeps.append,
        clock=clock,
        scopes=["match:query", "indicators:write"],
    )


def status(
    code: int, headers: dict[str, str] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(code, headers=headers, json={"detail": f"status {code}"})

    return answer


def fail_with(exc: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc("scripted failure", request=request)

    return answer


def test_first_call_gets_a_token_with_a_signed_assertion(
    client: GatewayClient, script: Script
) -> None:
    body = client.get_json("/v1/alerts")
    assert body["auth"] == "Bearer tok-1"
    assert script.issued == 1


def test_token_is_reused_until_shortly_before_it_expires(
    client: GatewayClient, script: Script, clock: FakeClock
) -> None:
    client.get_json("/v1/a")
    clock.now += 260  # 40 s left of 300: more than the 30 s margin
    assert client.get_json("/v1/a")["auth"] == "Bearer tok-1"
    clock.now += 15  # 25 s left: refresh now rather than fail mid-request
    assert client.get_json("/v1/a")["auth"] == "Bearer tok-2"
    assert script.issued == 2
    assert len(set(script.jtis)) == 2


def test_short_lived_tokens_refresh_at_half_life(
    client: GatewayClient, script: Script, clock: FakeClock
) -> None:
    script.token_lifetime = 40
    client.get_json("/v1/a")
    clock.now += 21
    assert client.get_json("/v1/a")["auth"] == "Bearer tok-2"


def test_writes_carry_one_idempotency_key_across_retries(
    client: GatewayClient, script: Script, sleeps: list[float]
) -> None:
    script.api_answers = [status(503), fail_with(httpx.ReadTimeout), status(502)]
    result = client.post_json("/v1/indicators", {"items": []})
    assert result["ok"] is True
    keys = {request.headers["idempotency-key"] for request in script.api_requests}
    assert len(script.api_requests) == 4
    assert len(keys) == 1
    assert len(sleeps) == 3
    assert sleeps[0] < sleeps[2]  # exponential backoff (with jitter of at most half)


def test_explicit_idempotency_key_is_sent(client: GatewayClient, script: Script) -> None:
    client.submit_indicators({"items": []}, idempotency_key="batch-2026-11-29")
    assert script.api_requests[0].headers["idempotency-key"] == "batch-2026-11-29"


def test_reads_have_no_idempotency_key(client: GatewayClient, script: Script) -> None:
    client.get_json("/v1/alerts")
    assert "idempotency-key" not in script.api_requests[0].headers


def test_retry_after_is_honoured(
    client: GatewayClient, script: Script, sleeps: list[float]
) -> None:
    script.api_answers = [status(429, {"Retry-After": "7"})]
    client.get_json("/v1/a")
    assert sleeps == [7.0]


def test_gives_up_after_max_attempts(
    client: GatewayClient, script: Script, sleeps: list[float]
) -> None:
    script.api_answers = [fail_with(httpx.ConnectError)] * 4
    with pytest.raises(GatewayUnavailableError, match="4 attempt"):
        client.get_json("/v1/a")
    assert len(sleeps) == 3


def test_persistent_503_surfaces_as_api_error(client: GatewayClient, script: Script) -> None:
    script.api_answers = [status(503)] * 4
    with pytest.raises(GatewayAPIError) as caught:
        client.get_json("/v1/a")
    assert caught.value.status == 503


def test_client_errors_are_not_retried_and_carry_the_problem(
    client: GatewayClient, script: Script, sleeps: list[float]
) -> None:
    def forbidden(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403,
            headers={"x-request-id": "abc123"},
            json={
                "detail": "this endpoint needs scope(s) audit:read",
                "field": "scope",
                "code": "forbidden",
                "reasons": ["scope-missing"],
            },
        )

    script.api_answers = [forbidden]
    with pytest.raises(GatewayAPIError) as caught:
        client.get_json("/v1/audit")
    error = caught.value
    assert (error.status, error.field, error.reasons, error.request_id) == (
        403,
        "scope",
        ("scope-missing",),
        "abc123",
    )
    assert sleeps == []
    assert len(script.api_requests) == 1


def test_a_401_gets_one_fresh_token_and_one_retry(client: GatewayClient, script: Script) -> None:
    script.api_answers = [status(401)]
    assert client.get_json("/v1/a")["auth"] == "Bearer tok-2"
    script.api_answers = [status(401), status(401)]
    with pytest.raises(GatewayAPIError) as caught:
        client.get_json("/v1/a")
    assert caught.value.status == 401


def test_token_request_retries_sign_a_new_assertion(
    client: GatewayClient, script: Script, sleeps: list[float]
) -> None:
    def remember_then_fail(request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        seen.append(form["client_assertion"][0])
        return httpx.Response(503, json={})

    seen: list[str] = []
    script.token_answers = [remember_then_fail, remember_then_fail]
    client.get_json("/v1/a")
    assert script.issued == 1
    assert len(set(seen)) == 2  # every attempt carried its own assertion
    assert len(sleeps) == 2


def test_refused_token_request_names_the_reason(client: GatewayClient, script: Script) -> None:
    def refused(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401,
            json={
                "error": "invalid_client",
                "error_description": "the assertion has expired",
                "reasons": ["assertion-expired"],
                "field": "client_assertion.exp",
            },
        )

    script.token_answers = [refused]
    with pytest.raises(GatewayAPIError) as caught:
        client.get_json("/v1/a")
    assert caught.value.reasons == ("assertion-expired",)
    assert "expired" in caught.value.reason
    assert script.api_requests == []


def test_scopes_are_requested(client: GatewayClient, script: Script) -> None:
    captured: list[dict[str, list[str]]] = []

    def capture(request: httpx.Request) -> httpx.Response:
        captured.append(parse_qs(request.content.decode()))
        return script.token(request)

    script.token_answers = [capture]
    client.get_json("/v1/a")
    assert captured[0]["scope"] == ["indicators:write match:query"]


def test_raw_cryptography_key_is_accepted(clock: FakeClock, keys: ConnectorKeys) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    raw = ec.generate_private_key(ec.SECP256R1())
    with GatewayClient(
        BASE,
        "bank-1",
        raw,
        transport=httpx.MockTransport(lambda r: httpx.Response(500)),
        clock=clock,
    ) as client:
        assertion = client.client_assertion()
    public = ECKey.import_key(raw.public_key())
    claims = jwt.decode(assertion, public, algorithms=["ES256"]).claims
    assert claims["sub"] == "bank-1"
    assert json.loads(json.dumps(claims))["aud"] == TOKEN_URL
