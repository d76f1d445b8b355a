"""Every refusal cites what it rests on: the legal references of its reasons' METADATA.

A partner refused by the policy sees over HTTP (problem+json ``legal_references``), on the
command line (the connector's error line) and in the console (the error page) the same
articles that ``ppsgate policy explain`` shows for the same question.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from connectors.client import GatewayAPIError
from gateway.cli import app as gateway_cli
from gateway.policy.bundle import load_bundle
from tests.functional.console_support import console_app
from tests.support.gateway import Gateway

SUBMISSION = {"purpose": "indicator_submission", "legal_basis": "art6_1_a"}


def _explained(partner: str, purpose: str, basis: str) -> str:
    result = CliRunner().invoke(
        gateway_cli,
        [
            "policy",
            "explain",
            "--partner",
            partner,
            "--action",
            "indicators:submit",
            "--purpose",
            purpose,
            "--legal-basis",
            basis,
            "--kind",
            "iban",
            "--category",
            "purchase_fraud",
        ],
    )
    return result.output


def _item(gateway: Gateway) -> dict[str, Any]:
    return {
        **gateway.partner("marketplace-a").item("iban", "NL91ABNA0417164300"),
        "category": "purchase_fraud",
        "observed_at": gateway.clock.now().isoformat(),
    }


def _submit(gateway: Gateway) -> GatewayAPIError:
    marketplace = gateway.partner("marketplace-a")
    with pytest.raises(GatewayAPIError) as refused:
        marketplace.call("POST", "/v1/indicators", {**SUBMISSION, "items": [_item(gateway)]})
    return refused.value


def test_a_policy_refusal_carries_the_articles_explain_shows(gateway: Gateway) -> None:
    refused = _submit(gateway)
    assert refused.status == 403
    assert refused.reasons
    cited = dict(refused.references)
    assert set(cited) == set(refused.reasons)
    catalog = load_bundle().catalog
    explained = _explained("marketplace-a", SUBMISSION["purpose"], SUBMISSION["legal_basis"])
    for code in refused.reasons:
        basis = catalog.entries[code].reason.basis
        assert cited[code][: len(basis)] == basis
        assert code in explained
        for reference in cited[code]:
            assert reference in explained
    # The connector's one-line error shows them too.
    assert "rests on" in refused.diagnostics()
    assert cited[refused.reasons[0]][0] in refused.diagnostics()


def test_the_problem_member_is_documented_and_ordered(gateway: Gateway) -> None:
    marketplace = gateway.partner("marketplace-a")
    response = httpx.post(
        f"{gateway.url}/v1/indicators",
        json={**SUBMISSION, "items": [_item(gateway)]},
        headers={"Authorization": f"Bearer {marketplace.client.access_token()}"},
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 403
    assert [entry["code"] for entry in body["legal_references"]] == body["reasons"]
    assert all(entry["references"] for entry in body["legal_references"])


def test_a_console_refusal_page_cites_the_articles(database_url: str, tmp_path: Path) -> None:
    with console_app(database_url, tmp_path) as console:
        client = console.sign_in("petra")
        response = client.get("/console/audit?partner=bank-b")
        assert response.status_code == 403
        catalog = load_bundle().catalog
        codes = [code for code in catalog.entries if f">{code}<" in response.text]
        assert codes, response.text[:2000]
        for code in codes:
            for reference in catalog.entries[code].reason.basis:
                assert reference in response.text
