"""Pinned partner keys and DPoP proofs: a token the gateway mints alone does not get answers.

Every refusal is a 401 naming its reason; a good proof works once; the pins file is re-read
when it changes. On both storage backends (the used-proof table is the evaluator's).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bench.evaluators import GatewayTokenIssuer
from connectors.canonical import Kind
from connectors.keystore import ConnectorKeys
from connectors.oprf import protocol
from connectors.oprf.client import possession_proof
from connectors.oprf.suite import oprf_input
from evaluator.app import create_app
from evaluator.client_keys import client_entry, empty_document
from evaluator.errors import EvaluatorConfigurationError
from tests.unit.evaluator.support import evaluator_settings

URL = "https://evaluator-a.test"
PATH = "/v2/evaluate"


@pytest.fixture(scope="module")
def issuer() -> GatewayTokenIssuer:
    made = GatewayTokenIssuer()
    made.audience = URL  # RFC 8707 resource tokens for this evaluator
    return made


@pytest.fixture(scope="module")
def bank_keys() -> ConnectorKeys:
    return ConnectorKeys.generate()


def _write_pins(path: Path, *entries: dict[str, Any]) -> None:
    document = empty_document()
    document["clients"] = list(entries)
    path.write_text(json.dumps(document), encoding="utf-8")


@pytest.fixture
def setup(
    tmp_path: Path, issuer: GatewayTokenIssuer, bank_keys: ConnectorKeys, database_url: str
) -> Iterator[tuple[TestClient, Path]]:
    pins = tmp_path / "clients.json"
    _write_pins(pins, client_entry("bank-a-connector", "bank-a", bank_keys.public_jwks()))
    settings = evaluator_settings(
        tmp_path / "ev",
        "alpha",
        issuer,
        database_url=database_url,
        token_audience=URL,
        client_keys_file=pins,
    )
    with TestClient(create_app(settings), base_url=URL) as client:
        yield client, pins


def _body() -> dict[str, Any]:
    _blind, element = protocol.blind(oprf_input(Kind.PHONE, "+31612345678"), protocol.Mode.VOPRF)
    return {"epoch": 1, "kind": "phone", "blinded_elements": base64.b64encode(element).decode()}


def _token(issuer: GatewayTokenIssuer, partner: str = "bank-a") -> str:
    return issuer.mint(partner, client_id=f"{partner}-connector")


def _send(client: TestClient, token: str, proof: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return client.post(PATH, json=_body(), headers=headers)


def _proof(keys: ConnectorKeys, token: str, **changes: Any) -> str:
    options: dict[str, Any] = {
        "method": "POST",
        "url": URL + PATH,
        "access_token": token,
        "now": __import__("time").time(),
    }
    options.update(changes)
    return possession_proof(keys.signing_key, **options)


def _refused(response: Any, code: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == code


def test_the_partners_own_proof_is_accepted_once(
    setup: tuple[TestClient, Path], issuer: GatewayTokenIssuer, bank_keys: ConnectorKeys
) -> None:
    client, _pins = setup
    token = _token(issuer)
    proof = _proof(bank_keys, token)
    assert _send(client, token, proof).status_code == 200
    _refused(_send(client, token, proof), "proof-replayed")
    assert _send(client, token, _proof(bank_keys, token)).status_code == 200


def test_a_token_minted_without_the_partners_key_gets_nothing(
    setup: tuple[TestClient, Path], issuer: GatewayTokenIssuer
) -> None:
    """What the gateway's operator could do: a valid token, but no proof from the partner."""
    client, _pins = setup
    token = _token(issuer)
    _refused(_send(client, token, None), "proof-missing")
    operator = ConnectorKeys.generate()
    _refused(_send(client, token, _proof(operator, token)), "proof-key")


def test_a_proof_made_for_something_else_is_refused(
    setup: tuple[TestClient, Path], issuer: GatewayTokenIssuer, bank_keys: ConnectorKeys
) -> None:
    client, _pins = setup
    token = _token(issuer)
    other_evaluator = _proof(bank_keys, token, url="https://evaluator-b.test" + PATH)
    _refused(_send(client, token, other_evaluator), "proof-target")
    _refused(_send(client, token, _proof(bank_keys, token, method="GET")), "proof-target")
    _refused(_send(client, token, _proof(bank_keys, _token(issuer))), "proof-token")
    stale = _proof(bank_keys, token, now=__import__("time").time() - 600)
    _refused(_send(client, token, stale), "proof-expired")
    _refused(_send(client, token, "not.a.proof"), "proof-malformed")


def test_unpinned_clients_and_partner_mismatches_are_refused(
    setup: tuple[TestClient, Path], issuer: GatewayTokenIssuer, bank_keys: ConnectorKeys
) -> None:
    client, pins = setup
    stranger = _token(issuer, "bank-b")
    _refused(_send(client, stranger, _proof(bank_keys, stranger)), "client-not-pinned")
    # The gateway names the pinned client but for another partner.
    swapped = issuer.mint("bank-b", client_id="bank-a-connector")
    _refused(_send(client, swapped, _proof(bank_keys, swapped)), "client-partner-mismatch")
    # Unpinning takes effect from the next request, without a restart.
    _write_pins(pins)
    token = _token(issuer)
    _refused(_send(client, token, _proof(bank_keys, token)), "client-not-pinned")


def _jws(header: dict[str, Any] | bytes) -> str:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + ".e30.AAAA"


def test_hostile_headers_are_refused_not_crashed_on(
    setup: tuple[TestClient, Path], issuer: GatewayTokenIssuer
) -> None:
    client, _pins = setup
    for header in (
        {"alg": "ES256", "typ": "at+jwt", "crit": 5},
        {"alg": "ES256", "typ": "at+jwt", "crit": [{}]},
        b"[" * 1000,
    ):
        _refused(_send(client, _jws(header), None), "token-malformed")
    token = _token(issuer)
    hostile_proof = _jws({"alg": "ES256", "typ": "dpop+jwt", "crit": 5})
    _refused(_send(client, token, hostile_proof), "proof-malformed")


def test_a_broken_or_unsafe_pins_file_fails_closed_until_fixed(
    setup: tuple[TestClient, Path], issuer: GatewayTokenIssuer, bank_keys: ConnectorKeys
) -> None:
    client, pins = setup
    good = pins.read_text(encoding="utf-8")
    token = _token(issuer)
    pins.write_text(good[:-5], encoding="utf-8")  # a typo while revoking someone
    broken = _send(client, token, _proof(bank_keys, token))
    assert broken.status_code == 503
    assert broken.json()["code"] == "client-keys-unavailable"
    pins.write_text(good, encoding="utf-8")
    assert _send(client, token, _proof(bank_keys, token)).status_code == 200
    pins.chmod(0o666)  # anyone could pin a key for any client now
    assert _send(client, token, _proof(bank_keys, token)).status_code == 503
    pins.chmod(0o644)
    pins.unlink()
    assert _send(client, token, _proof(bank_keys, token)).status_code == 503


def test_an_unsafe_pins_file_stops_the_start(tmp_path: Path, issuer: GatewayTokenIssuer) -> None:
    pins = tmp_path / "clients.json"
    _write_pins(pins)
    pins.chmod(0o664)
    settings = evaluator_settings(
        tmp_path / "ev", "alpha", issuer, token_audience=URL, client_keys_file=pins
    )
    with pytest.raises(EvaluatorConfigurationError, match="writable by group or others"):
        create_app(settings)
