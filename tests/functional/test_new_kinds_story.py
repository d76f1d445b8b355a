"""Scenario 12 end to end over HTTP, on SQLite and PostgreSQL: a phishing page, a cash-out
address and a recruiting social media account, each reported by a bank and found by another
partner who wrote the identifier differently."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from connectors.client import GatewayAPIError
from gateway.db import transaction
from gateway.indicators.models import Indicator
from tests.support.gateway import Gateway, Partner

SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
WATCH = {"purpose": "watchlist_alerts", "legal_basis": "art6_1_f"}
SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}
BATCH = {"purpose": "batch_screening", "legal_basis": "art6_1_f"}

PHISHING_PAGE = "https://www.mijn-bank-verificatie.nl/inloggen?ref=sms"
CASH_OUT = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
RECRUITER = "Instagram:@Snel.Geld.Verdienen"


def report(
    gw: Gateway, partner: Partner, kind: str, value: str, category: str, reference: str
) -> dict[str, Any]:
    item = {
        **partner.item(kind, value),
        "category": category,
        "role": "suspect",
        "observed_at": (gw.clock.now() - timedelta(hours=1)).isoformat(),
        "reference": reference,
    }
    return partner.post("/v1/indicators", {**SUBMIT, "items": [item]})


def test_phishing_page_reported_by_a_bank_alerts_the_registry_watch_list(gateway: Gateway) -> None:
    bank, registry = gateway.partner("bank-a"), gateway.partner("registry-nl")
    # The registry watches the page as its abuse desk wrote it: other case, default port.
    watched = registry.call(
        "PUT",
        "/v1/watchlist",
        {
            **WATCH,
            "items": [
                registry.item("url", "HTTPS://WWW.Mijn-Bank-Verificatie.NL:443/inloggen?ref=sms")
            ],
        },
    )
    assert watched["results"][0]["status"] == "added"
    for customer in (1, 2, 3):
        answer = report(
            gateway, bank, "url", PHISHING_PAGE + "#stap2", "phishing", f"sms-{customer}"
        )
        assert answer["accepted"] == 1
    (alert,) = registry.call("GET", "/v1/alerts")["alerts"]
    assert alert["watch_id"] == watched["results"][0]["watch_id"]
    assert alert["disclosed"]["categories"] == ["phishing"]
    assert alert["disclosed"]["sectors"] == ["bank"]
    assert "reporting_partners" not in alert["disclosed"]


def test_cash_out_address_is_found_by_the_exchange(gateway: Gateway) -> None:
    bank, exchange = gateway.partner("bank-a"), gateway.partner("psp-a")
    for case in (1, 2, 3):
        assert report(gateway, bank, "crypto_address", CASH_OUT, "cash_out", f"c{case}")["accepted"]
    # The exchange holds the deposit address in lower case, with the network named.
    found = exchange.post(
        "/v1/match",
        {**SCREEN, "items": [exchange.item("crypto_address", "eth:" + CASH_OUT.lower())]},
    )["results"][0]
    assert found["hit"] is True
    assert found["categories"] == ["cash_out"]
    assert found["reports"] == 3
    other = exchange.item("crypto_address", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
    assert exchange.post("/v1/match", {**SCREEN, "items": [other]})["results"][0]["hit"] is False


def test_friend_in_need_social_account_is_found_by_the_marketplace(gateway: Gateway) -> None:
    bank_a, bank_b = gateway.partner("bank-a"), gateway.partner("bank-b")
    marketplace = gateway.partner("marketplace-a")
    for partner, reference in ((bank_a, "vin-1"), (bank_b, "vin-2"), (bank_b, "vin-3")):
        answer = report(
            gateway, partner, "social_account", RECRUITER, "friend_in_need_fraud", reference
        )
        assert answer["accepted"] == 1
    found = marketplace.post(
        "/v1/match",
        {**BATCH, "items": [marketplace.item("social_account", "ig:snel.geld.verdienen")]},
    )["results"][0]
    assert found == {"row": 0, "hit": True, "reports": 3, "reporters": 2, "disputed": False}


def test_new_kinds_are_stored_under_their_kind_on_both_databases(gateway: Gateway) -> None:
    bank = gateway.partner("bank-a")
    report(gateway, bank, "url", PHISHING_PAGE, "phishing", "t-1")
    report(gateway, bank, "crypto_address", CASH_OUT, "cash_out", "t-2")
    report(gateway, bank, "social_account", RECRUITER, "money_mule", "t-3")
    with transaction(gateway.services.session_factory) as session:
        rows = session.execute(select(Indicator.kind, Indicator.token_hash)).all()
    assert sorted(kind for kind, _ in rows) == ["crypto_address", "social_account", "url"]
    assert all(len(peppered) == 32 for _, peppered in rows)


def test_a_sector_without_the_kind_is_refused(gateway: Gateway) -> None:
    telecom = gateway.partner("telecom-a")
    with pytest.raises(GatewayAPIError) as refused:
        telecom.post("/v1/match", {**BATCH, "items": [telecom.item("crypto_address", CASH_OUT)]})
    assert refused.value.status == 403
    assert "kind-not-allowed-for-sector" in refused.value.reasons
