"""The evaluator's HTTP API through the ASGI app (TestClient), on both storage backends."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from bench.evaluators import GatewayTokenIssuer
from connectors.canonical import Kind
from connectors.oprf import protocol
from connectors.oprf.answers import check_answer
from connectors.oprf.suite import oprf_input
from evaluator.app import create_app
from evaluator.keyring import KeyRing
from evaluator.storage import VolumeRecord
from tests.unit.evaluator.support import evaluator_settings


@pytest.fixture(scope="module")
def issuer() -> GatewayTokenIssuer:
    return GatewayTokenIssuer()


@pytest.fixture
def setup(
    tmp_path: Path, issuer: GatewayTokenIssuer, database_url: str
) -> Iterator[tuple[TestClient, Any]]:
    settings = evaluator_settings(
        tmp_path / "ev",
        "alpha",
        issuer,
        epochs=(4,),
        database_url=database_url,
        partner_quotas={"small": 3},
        max_batch=5,
    )
    with TestClient(create_app(settings)) as client:
        yield client, settings


def _blind(values: list[str]) -> tuple[list[bytes], str]:
    pairs = [protocol.blind(oprf_input(Kind.PHONE, value), protocol.Mode.VOPRF) for value in values]
    elements = b"".join(blinded for _blind, blinded in pairs)
    return [blind for blind, _b in pairs], base64.b64encode(elements).decode()


def _auth(issuer: GatewayTokenIssuer, partner: str = "bank-a") -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.mint(partner)}"}


def test_evaluates_with_a_verifiable_batch_proof(
    setup: tuple[TestClient, Any], issuer: GatewayTokenIssuer
) -> None:
    client, settings = setup
    blinds, blob = _blind(["+31612345678", "+31687654321"])
    response = client.post(
        "/v2/evaluate",
        json={"epoch": 4, "kind": "phone", "blinded_elements": blob},
        headers=_auth(issuer),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["suite"], body["evaluator"], body["count"]) == ("ristretto255-SHA512", "alpha", 2)
    ring = KeyRing(settings.effective_seed_file)
    evaluated = base64.b64decode(body["evaluated_elements"])
    check_answer(
        base64.b64decode(blob),
        evaluated,
        base64.b64decode(body["proof"]),
        ring.public_key(4, Kind.PHONE),
    )
    message = oprf_input(Kind.PHONE, "+31612345678")
    expected = ring.evaluator(4, Kind.PHONE).evaluate_known_input(message)
    assert protocol.finalize(message, blinds[0], evaluated[:32]) == expected


def test_volume_log_holds_counts_not_elements(
    setup: tuple[TestClient, Any], issuer: GatewayTokenIssuer, database_url: str
) -> None:
    client, _settings = setup
    _blinds, blob = _blind(["+31612345678", "+31687654321", "+31611111111"])
    client.post(
        "/v2/evaluate",
        json={"epoch": 4, "kind": "phone", "blinded_elements": blob},
        headers={**_auth(issuer), "X-Request-Id": "req-1"},
    )
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(select(VolumeRecord.__table__)).mappings().all()
    engine.dispose()
    assert len(rows) == 1
    row = dict(rows[0])
    assert (row["partner_id"], row["count"], row["kind"], row["epoch"]) == ("bank-a", 3, "phone", 4)
    assert (row["outcome"], row["request_id"]) == ("evaluated", "req-1")
    raw = base64.b64decode(blob)
    dumped = repr(row).encode()
    assert all(raw[i : i + 32].hex().encode() not in dumped for i in range(0, len(raw), 32))


def test_over_quota_answers_429_with_retry_after(
    setup: tuple[TestClient, Any], issuer: GatewayTokenIssuer
) -> None:
    client, settings = setup
    _blinds, blob = _blind(["+31612345678", "+31687654321"])
    request = {"epoch": 4, "kind": "phone", "blinded_elements": blob}
    assert (
        client.post("/v2/evaluate", json=request, headers=_auth(issuer, "small")).status_code == 200
    )
    response = client.post("/v2/evaluate", json=request, headers=_auth(issuer, "small"))
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert 0 < int(response.headers["retry-after"]) <= settings.quota_window_seconds
    assert response.json()["code"] == "quota-exceeded"
    # Another partner still has its own quota.
    assert client.post("/v2/evaluate", json=request, headers=_auth(issuer)).status_code == 200


@pytest.mark.parametrize(
    ("request_body", "status", "code", "field"),
    [
        ({"epoch": 9, "kind": "phone", "blinded_elements": "AA=="}, 404, "epoch-unknown", "epoch"),
        ({"epoch": 4, "kind": "fax", "blinded_elements": "AA=="}, 400, "invalid-request", "kind"),
        (
            {"epoch": 4, "kind": "phone", "blinded_elements": "!!"},
            400,
            "invalid-request",
            "blinded_elements",
        ),
        (
            {
                "epoch": 4,
                "kind": "phone",
                "blinded_elements": base64.b64encode(b"\0" * 32).decode(),
            },
            400,
            "invalid-request",
            "blinded_elements",
        ),
        (
            {
                "epoch": 4,
                "kind": "phone",
                "blinded_elements": base64.b64encode(b"\1" * 192).decode(),
            },
            413,
            "payload-too-large",
            "blinded_elements",
        ),
    ],
)
def test_bad_requests_name_the_field(
    setup: tuple[TestClient, Any],
    issuer: GatewayTokenIssuer,
    request_body: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    client, _settings = setup
    response = client.post("/v2/evaluate", json=request_body, headers=_auth(issuer))
    assert response.status_code == status, response.text
    assert (response.json()["code"], response.json()["field"]) == (code, field)


def test_authentication_is_required(setup: tuple[TestClient, Any]) -> None:
    client, _settings = setup
    _blinds, blob = _blind(["+31612345678"])
    request = {"epoch": 4, "kind": "phone", "blinded_elements": blob}
    response = client.post("/v2/evaluate", json=request)
    assert response.status_code == 401
    assert response.json()["code"] == "token-missing"
    assert response.headers["www-authenticate"].startswith("Bearer")
    stranger = GatewayTokenIssuer()
    response = client.post("/v2/evaluate", json=request, headers=_auth(stranger))
    assert response.status_code == 401


def test_body_limit_applies_before_parsing(
    setup: tuple[TestClient, Any], issuer: GatewayTokenIssuer
) -> None:
    client, settings = setup
    response = client.post(
        "/v2/evaluate",
        content=b"{" + b" " * settings.max_body_bytes + b"}",
        headers={**_auth(issuer), "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_keys_and_health(setup: tuple[TestClient, Any]) -> None:
    client, settings = setup
    keys = client.get("/v2/keys").json()
    ring = KeyRing(settings.effective_seed_file)
    assert keys["public_keys"] == ring.public_keys()
    assert client.get("/health").json() == {"status": "ok", "evaluator": "alpha", "epochs": [4]}
