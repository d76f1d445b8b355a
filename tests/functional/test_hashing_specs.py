"""A deployment that requires hashing spec v2 for phone numbers, over HTTP on both databases.

The policy copy's ``specs.json`` requires v2 for ``phone``. The v2 tokens are computed the
way the connector's VOPRF tokeniser ends up with them (the RFC 9497 output under the product
of both evaluators' keys), here from the two evaluator keys directly, since the test plays
both evaluators: the gateway cannot tell how a token was made and only reads the
item's ``spec``. The evaluator round trip itself is covered by ``test_oprf_evaluators.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from connectors.canonical import Kind, canonicalize
from gateway.audit_trail.models import AuditEntry
from gateway.db import transaction
from tests.support.gateway import Gateway, Partner, running_gateway
from tests.support.oprf import seeded_token
from tests.support.policies import copy_policies

NUMBER = "+31 6 12345678"
IBAN = "NL91ABNA0417164300"
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
SCREEN = {"purpose": "spoofing_prevention", "legal_basis": "art6_1_f"}
EVALUATOR_SEEDS = (b"\x11" * 32, b"\x22" * 32)


def v2_item(partner: Partner, kind: Kind, value: str) -> dict[str, Any]:
    """A v2 token item (``"spec": "v2"``) for the partner's active epoch."""
    epoch = partner.tokeniser_for().epoch
    token = seeded_token(EVALUATOR_SEEDS, epoch, kind, canonicalize(kind, value))
    return {"kind": kind.value, "epoch": epoch, "token": token, "spec": "v2"}


def raw_post(partner: Partner, gw: Gateway, path: str, body: Any) -> httpx.Response:
    """A request whose refusal the test reads (the client raises on any error status)."""
    headers = {"Authorization": f"Bearer {partner.client.access_token()}"}
    return httpx.post(f"{gw.url}{path}", headers=headers, json=body, timeout=30)


def denials(gw: Gateway) -> list[dict[str, Any]]:
    with transaction(gw.services.session_factory) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.tag == "match:query:deny"))
        return [json.loads(entry.body) for entry in entries]


def reported(gw: Gateway, item: dict[str, Any], category: str) -> dict[str, Any]:
    return {**item, "category": category, "observed_at": gw.clock.now().isoformat()}


@pytest.fixture
def v2_phone_gateway(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    policies = copy_policies(tmp_path / "policies")
    path = policies / "data" / "specs.json"
    specs = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**specs, "minimum": {"phone": "v2"}}), encoding="utf-8")
    with running_gateway(database_url, tmp_path / "data", policy_dir=policies) as gateway:
        yield gateway


def test_phone_numbers_must_be_v2_and_ibans_stay_v1(v2_phone_gateway: Gateway) -> None:
    gw = v2_phone_gateway
    bank, telecom = gw.partner("bank-a"), gw.partner("telecom-a")
    v1_phone = bank.item("phone", NUMBER)
    v2_phone = v2_item(bank, Kind.PHONE, NUMBER)
    assert v1_phone["token"] != v2_phone["token"]  # one identifier, two specs: never a match

    answer = bank.post(
        "/v1/indicators",
        {
            **SUBMIT,
            "items": [
                reported(gw, {**v1_phone, "spec": "v1"}, "bank_helpdesk_fraud"),
                reported(gw, v2_phone, "bank_helpdesk_fraud"),
                reported(gw, v1_phone, "bank_helpdesk_fraud"),  # no spec: v1
                reported(gw, bank.item("iban", IBAN), "friend_in_need_fraud"),
            ],
        },
    )
    refused, accepted, unspecified, iban = answer["results"]
    for row in (refused, unspecified):
        assert row["status"] == "rejected"
        assert row["field"] == "spec"
        assert row["reason"].startswith("spec-too-weak: ")
        assert "kind phone, spec v1" in row["reason"]
    assert {k: v for k, v in accepted.items() if k != "expires_at"} == {
        "row": 1,
        "status": "accepted",
        "field": None,
        "reason": None,
    }
    assert accepted["expires_at"]  # each accepted report says when it expires
    assert iban["status"] == "accepted"

    hit = telecom.post("/v1/match", {**SCREEN, "items": [v2_item(telecom, Kind.PHONE, NUMBER)]})
    assert hit["results"][0]["hit"] is True

    response = raw_post(
        telecom, gw, "/v1/match", {**SCREEN, "items": [telecom.item("phone", NUMBER)]}
    )
    assert response.status_code == 403
    problem = response.json()
    assert (problem["field"], problem["reasons"]) == ("purpose", ["spec-too-weak"])
    assert [d["reasons"] for d in denials(gw)] == [["spec-too-weak"]]

    screen = bank.post(
        "/v1/match",
        {
            "purpose": "payment_screening",
            "legal_basis": "art6_1_c",
            "include_own": True,
            "items": [bank.item("iban", IBAN)],
        },
    )
    assert screen["results"][0]["hit"] is True


def test_watch_list_rows_name_the_spec(v2_phone_gateway: Gateway) -> None:
    telecom = v2_phone_gateway.partner("telecom-a")
    answer = telecom.call(
        "PUT",
        "/v1/watchlist",
        {
            "purpose": "watchlist_alerts",
            "legal_basis": "art6_1_f",
            "items": [telecom.item("phone", NUMBER), v2_item(telecom, Kind.PHONE, NUMBER)],
        },
    )
    weak, strong = answer["results"]
    assert (weak["status"], weak["field"]) == ("rejected", "spec")
    assert weak["reason"].startswith("spec-too-weak: ")
    assert strong["status"] == "added"


def test_unknown_spec_is_a_422_naming_the_item(gateway: Gateway) -> None:
    bank = gateway.partner("bank-a")
    for path, body in (
        ("/v1/match", {**SCREEN, "items": [{**bank.item("phone", NUMBER), "spec": "v3"}]}),
        (
            "/v1/indicators",
            {
                **SUBMIT,
                "items": [reported(gateway, {**bank.item("iban", IBAN), "spec": "V2"}, "x")],
            },
        ),
    ):
        response = raw_post(bank, gateway, path, body)
        assert response.status_code == 422, path
        assert response.json()["field"] == "items.0.spec", path


def test_default_deployment_accepts_both_specs(gateway: Gateway) -> None:
    """The shipped specs.json requires nothing: v1 and v2 phone tokens are both processed."""
    bank, telecom = gateway.partner("bank-a"), gateway.partner("telecom-a")
    answer = bank.post(
        "/v1/indicators",
        {
            **SUBMIT,
            "items": [
                reported(gateway, bank.item("phone", NUMBER), "bank_helpdesk_fraud"),
                reported(gateway, v2_item(bank, Kind.PHONE, NUMBER), "bank_helpdesk_fraud"),
            ],
        },
    )
    assert [r["status"] for r in answer["results"]] == ["accepted", "accepted"]
    both = telecom.post(
        "/v1/match",
        {**SCREEN, "items": [telecom.item("phone", NUMBER), v2_item(telecom, Kind.PHONE, NUMBER)]},
    )
    assert [r["hit"] for r in both["results"]] == [True, True]
