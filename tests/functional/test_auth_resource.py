"""RFC 8707 resource indicators: tokens for one VOPRF evaluator are good there and nowhere else.

Without them every access token's audience is the gateway, and evaluator A, which receives a
partner's bearer token, could replay it at evaluator B and use the partner's quota there as
an oracle (A holds k_A: with B's answers it could compute any token). A token requested with
``resource=<evaluator URL>`` names that evaluator as its audience, carries ``oprf:evaluate``
alone, and the gateway's own API refuses it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from sqlalchemy import select

from gateway.audit_trail.models import AuditDetail, AuditEntry
from gateway.auth.keys import load_token_signing_key
from gateway.clock import FixedClock
from gateway.db import transaction
from gateway.errors import ConfigurationError
from gateway.services import Services
from tests.functional.auth_helpers import (
    START,
    Client,
    assertion,
    audit_entries,
    build_app,
    make_settings,
    onboard,
    serve,
    token_request,
)

EVALUATOR_A = "https://evaluator-a.test"
EVALUATOR_B = "https://evaluator-b.test/v2"


class World:
    def __init__(self, http: TestClient, services: Services) -> None:
        self.http = http
        self.services = services
        self.bank = onboard(services, "bank", "bank", "match:query oprf:evaluate")


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    settings = make_settings(
        database_url, tmp_path, token_resources=[EVALUATOR_A, f"{EVALUATOR_B}/"]
    )
    app, services = build_app(settings, FixedClock(START))
    try:
        with serve(app) as http:
            yield World(http, services)
    finally:
        services.engine.dispose()


def _claims(world: World, token: str) -> dict[str, Any]:
    key = load_token_signing_key(world.services.settings)
    return dict(jwt.decode(token, key.private, algorithms=["ES256"]).claims)


def _issued_audiences(world: World) -> list[str | None]:
    """The ``audience`` of each ``auth:token:issue`` entry's detail record, in order."""
    with transaction(world.services.session_factory) as session:
        rows = session.execute(
            select(AuditDetail.body)
            .join(AuditEntry, AuditEntry.seq == AuditDetail.seq)
            .where(AuditEntry.tag == "auth:token:issue")
            .order_by(AuditEntry.seq)
        ).scalars()
        return [json.loads(body).get("audience") for body in rows]


def _ask(world: World, client: Client, **form: str) -> Any:
    return token_request(world.http, assertion(client, START), **form)


def test_a_resource_token_names_the_evaluator_as_its_audience(world: World) -> None:
    answer = _ask(world, world.bank, resource=EVALUATOR_A, scope="oprf:evaluate")
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "oprf:evaluate"
    claims = _claims(world, answer.json()["access_token"])
    assert claims["aud"] == EVALUATOR_A
    assert claims["scope"] == "oprf:evaluate"
    trailing = _ask(world, world.bank, resource=f"{EVALUATOR_B}/", scope="oprf:evaluate")
    assert _claims(world, trailing.json()["access_token"])["aud"] == EVALUATOR_B
    assert _issued_audiences(world) == [EVALUATOR_A, EVALUATOR_B]


def test_the_gateway_refuses_a_token_made_for_an_evaluator(world: World) -> None:
    token = _ask(world, world.bank, resource=EVALUATOR_A, scope="oprf:evaluate").json()[
        "access_token"
    ]
    answer = world.http.get("/v1/keys/epochs", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401, answer.text
    assert answer.json()["reasons"] == ["token-audience"]


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"resource": "https://evaluator-c.test", "scope": "oprf:evaluate"}, "resource-unknown"),
        ({"resource": f"{EVALUATOR_A}#frag", "scope": "oprf:evaluate"}, "resource-unknown"),
        ({"resource": EVALUATOR_A, "scope": "oprf:evaluate match:query"}, "resource-scope"),
        ({"resource": EVALUATOR_A}, "resource-scope"),
    ],
)
def test_unknown_resources_and_wider_scopes_are_refused(
    world: World, form: dict[str, str], reason: str
) -> None:
    answer = _ask(world, world.bank, **form)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "invalid_target"
    assert body["reasons"] == [reason]
    assert body["field"] == "resource"
    (denied,) = audit_entries(world.services, "auth:token:deny")
    assert (denied["decision"], denied["reasons"]) == ("deny", [reason])
    assert not audit_entries(world.services, "auth:token:issue")


def test_without_a_resource_the_audience_is_the_gateway(world: World) -> None:
    answer = _ask(world, world.bank, scope="oprf:evaluate")
    assert (
        _claims(world, answer.json()["access_token"])["aud"] == world.services.settings.public_url
    )


def test_resource_urls_are_checked_at_start(database_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"PPSGATE_TOKEN_RESOURCES: .*RFC 8707"):
        make_settings(database_url, tmp_path, token_resources=["evaluator-a.test"])


def test_the_gateway_itself_and_queries_are_not_resources(
    database_url: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match="own URL"):
        make_settings(database_url, tmp_path, token_resources=["https://gateway.test"])
    with pytest.raises(ConfigurationError, match="query"):
        make_settings(database_url, tmp_path, token_resources=[f"{EVALUATOR_A}?x=1"])


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "ES256", "typ": "at+jwt", "crit": 5},
        {"alg": "ES256", "typ": "at+jwt", "crit": [["exp"]]},
    ],
)
def test_hostile_token_headers_are_refused_not_crashed_on(
    world: World, header: dict[str, Any]
) -> None:
    """joserfc fails on a malformed ``crit`` before it checks a signature: a 401, never a 500."""
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    token = f"{encoded}.e30.AAAA"
    answer = world.http.get("/v1/keys/epochs", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401, answer.text
    assert answer.json()["reasons"] == ["token-malformed"]
    nested = base64.urlsafe_b64encode(b"[" * 1000).rstrip(b"=").decode() + ".e30.AAAA"
    deep = world.http.get("/v1/keys/epochs", headers={"Authorization": f"Bearer {nested}"})
    assert deep.status_code == 401, deep.text
