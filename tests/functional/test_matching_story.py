"""The matching stories end to end over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.client import GatewayAPIError
from gateway.db import transaction
from gateway.indicators.models import Indicator
from gateway.retention import purge
from tests.support.gateway import Gateway, Partner, running_gateway

SELLER = "NL91 ABNA 0417 1643 00"
HONEST = "NL44RABO0123456789"
HELPDESK = "020-1234567"
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
WATCH = {"purpose": "watchlist_alerts", "legal_basis": "art6_1_f"}
SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}
BATCH = {"purpose": "batch_screening", "legal_basis": "art6_1_c"}
SPOOF = {"purpose": "spoofing_prevention", "legal_basis": "art6_1_f"}


def report(
    gw: Gateway,
    partner: Partner,
    value: str,
    *,
    reference: str,
    category: str = "purchase_fraud",
    kind: str = "iban",
    role: str = "suspect",
    **extra: Any,
) -> dict[str, Any]:
    item = {
        **partner.item(kind, value),
        "category": category,
        "role": role,
        "observed_at": (gw.clock.now() - timedelta(hours=1)).isoformat(),
        "reference": reference,
        **extra,
    }
    return partner.post("/v1/indicators", {**SUBMIT, "items": [item]})


def screen(
    partner: Partner, value: str, purpose: dict[str, str] = SCREEN, kind: str = "iban"
) -> dict[str, Any]:
    answer = partner.post("/v1/match", {**purpose, "items": [partner.item(kind, value)]})
    return answer["results"][0]


def alerts(partner: Partner) -> list[dict[str, Any]]:
    return partner.call("GET", "/v1/alerts")["alerts"]


def test_protected_number_is_all_the_telecom_learns(gateway: Gateway) -> None:
    bank, telecom = gateway.partner("bank-a"), gateway.partner("telecom-a")
    answer = report(
        gateway,
        bank,
        HELPDESK,
        reference="service-numbers",
        kind="phone",
        category="spoofing",
        role="victim",
    )
    assert answer["accepted"] == 1
    result = screen(telecom, HELPDESK, SPOOF, kind="phone")
    assert result == {"row": 0, "hit": True, "roles": ["victim"]}
    assert screen(telecom, "+31 6 12345678", SPOOF, kind="phone") == {"row": 0, "hit": False}


def test_three_marketplace_reports_alert_the_sellers_bank(gateway: Gateway) -> None:
    marketplace, bank, other = (gateway.partner(p) for p in ("marketplace-a", "bank-a", "bank-b"))
    watched = bank.call("PUT", "/v1/watchlist", {**WATCH, "items": [bank.item("iban", SELLER)]})
    assert watched["results"][0]["status"] == "added"

    for buyer in (1, 2):
        assert report(gateway, marketplace, SELLER, reference=f"case-{buyer}")["accepted"] == 1
    # Two reports: below the threshold, no alert and no category across sectors.
    assert alerts(bank) == []
    assert screen(other, SELLER) == {"row": 0, "hit": True}

    assert report(gateway, marketplace, SELLER, reference="case-3")["accepted"] == 1
    (alert,) = alerts(bank)
    assert alert["type"] == "alert"
    assert alert["watch_id"] == watched["results"][0]["watch_id"]
    assert alert["disclosed"]["categories"] == ["purchase_fraud"]
    assert alert["disclosed"]["reports"] == 3
    assert alert["disclosed"]["reporters"] == 1
    assert alert["disclosed"]["sectors"] == ["marketplace"]
    assert "reporting_partners" not in alert["disclosed"]  # never the marketplace's name
    # Real-time payment screening: hit with category and count, as the policy allows.
    result = screen(other, SELLER)
    assert result["categories"] == ["purchase_fraud"]
    assert result["reports"] == 3
    assert "sectors" not in result
    assert "reporting_partners" not in result
    assert screen(other, HONEST) == {"row": 0, "hit": False}


def test_same_report_twice_is_a_duplicate_and_new_reference_a_new_report(gateway: Gateway) -> None:
    marketplace = gateway.partner("marketplace-a")
    assert report(gateway, marketplace, SELLER, reference="a")["accepted"] == 1
    again = report(gateway, marketplace, SELLER, reference="a")
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert report(gateway, marketplace, SELLER, reference="b")["accepted"] == 1


def test_batch_screen_needs_two_partners(gateway: Gateway) -> None:
    marketplace, bank, screener = (
        gateway.partner(p) for p in ("marketplace-a", "bank-b", "bank-a")
    )
    for n in range(3):
        report(gateway, marketplace, SELLER, reference=f"m{n}")
    batch = screener.post(
        "/v1/match",
        {
            **BATCH,
            "items": [
                screener.item("iban", SELLER),
                screener.item("iban", HONEST),
            ],
        },
    )
    # Three reports but one partner: batch screening demands two, so nothing beyond a hit.
    assert [r.get("categories") for r in batch["results"]] == [None, None]
    report(gateway, bank, SELLER, reference="b1")
    batch = screener.post("/v1/match", {**BATCH, "items": [screener.item("iban", SELLER)]})
    assert batch["results"][0]["reporters"] == 2


def test_dispute_hides_category_until_reporter_decides(gateway: Gateway) -> None:
    marketplace, bank, other = (gateway.partner(p) for p in ("marketplace-a", "bank-a", "bank-b"))
    for n in range(3):
        report(gateway, marketplace, SELLER, reference=f"m{n}")
    assert "categories" in screen(other, SELLER)
    # The seller is bank-a's customer: its IBAN is on bank-a's watch list (standing to dispute).
    bank.call("PUT", "/v1/watchlist", {**WATCH, "items": [bank.item("iban", SELLER)]})
    dispute = bank.post(
        "/v1/disputes",
        {
            "purpose": "dispute_handling",
            "legal_basis": "art6_1_c",
            **bank.item("iban", SELLER),
            "grounds": "identity-misuse",
        },
    )
    assert dispute["status"] == "filed"
    assert "disputed_reports" not in dispute  # the filer learns nothing about the reports
    assert screen(other, SELLER) == {
        "row": 0,
        "hit": True,
        "disputed": True,
        "obligations": ["disputed-do-not-act"],
    }
    # Bank-b was told the category before: it gets a notice that it is now disputed.
    assert [a["type"] for a in alerts(other)] == ["retraction"]
    (open_case,) = marketplace.call("GET", "/v1/disputes")
    assert len(open_case["your_reports"]) == 3
    resolved = marketplace.post(
        f"/v1/disputes/{dispute['dispute_id']}/resolve", {"outcome": "retract"}
    )
    assert resolved["status"] == "closed"
    assert screen(other, SELLER) == {"row": 0, "hit": False}


def test_retraction_reaches_everyone_who_was_told(gateway: Gateway) -> None:
    marketplace, bank = gateway.partner("marketplace-a"), gateway.partner("bank-a")
    bank.call("PUT", "/v1/watchlist", {**WATCH, "items": [bank.item("iban", SELLER)]})
    for n in range(3):
        report(gateway, marketplace, SELLER, reference=f"m{n}")
    assert [a["type"] for a in alerts(bank)] == ["alert"]
    answer = marketplace.post(
        "/v1/indicators/retract",
        {
            **SUBMIT,
            "reason": "seller delivered after all",
            "items": [marketplace.item("iban", SELLER)],
        },
    )
    assert answer["retracted"] == 3
    assert answer["notices"] == 1
    assert [a["type"] for a in alerts(bank)] == ["alert", "retraction"]
    assert screen(gateway.partner("bank-b"), SELLER) == {"row": 0, "hit": False}


def test_expired_indicators_are_purged(gateway: Gateway) -> None:
    marketplace = gateway.partner("marketplace-a")
    report(
        gateway,
        marketplace,
        SELLER,
        reference="x",
        expires_at=(gateway.clock.now() + timedelta(days=1)).isoformat(),
    )
    gateway.clock.current += timedelta(days=2)
    with transaction(gateway.services.session_factory) as session:
        counts = purge(session, gateway.services, request_id="t", actor="test")
    assert counts.counts["indicators"] == 1
    with transaction(gateway.services.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Indicator)) == 0


def test_idempotent_retry_returns_first_answer(gateway: Gateway) -> None:
    marketplace = gateway.partner("marketplace-a")
    body = {
        **SUBMIT,
        "items": [
            {
                **marketplace.item("iban", SELLER),
                "category": "phishing",
                "observed_at": gateway.clock.now().isoformat(),
            }
        ],
    }
    first = marketplace.post("/v1/indicators", body, idempotency_key="batch-0001")
    second = marketplace.post("/v1/indicators", body, idempotency_key="batch-0001")
    assert first == second
    assert first["accepted"] == 1
    other_body = {**body, "items": [{**body["items"][0], "category": "spoofing"}]}
    with pytest.raises(GatewayAPIError) as refused:
        marketplace.post("/v1/indicators", other_body, idempotency_key="batch-0001")
    assert refused.value.status == 409


def test_bad_rows_are_reported_and_the_rest_stored(gateway: Gateway) -> None:
    marketplace = gateway.partner("marketplace-a")
    good = {
        **marketplace.item("iban", SELLER),
        "category": "phishing",
        "observed_at": gateway.clock.now().isoformat(),
    }
    answer = marketplace.post(
        "/v1/indicators",
        {
            **SUBMIT,
            "items": [
                good,
                {**good, "token": "NL91ABNA0417164300"},
                {**good, "category": "not-a-category"},
                {**good, "observed_at": (gateway.clock.now() + timedelta(days=3)).isoformat()},
            ],
        },
    )
    statuses = [(r["status"], r.get("field")) for r in answer["results"]]
    assert statuses == [
        ("accepted", None),
        ("rejected", "token"),
        ("rejected", "category"),
        ("rejected", "observed_at"),
    ]
    assert "NL91" not in str(answer)


@pytest.fixture
def loopback_hooks(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    """A gateway that may deliver webhooks to a receiver on loopback (a test-only setting)."""
    with running_gateway(database_url, tmp_path / "data", unsafe_webhook_loopback=True) as running:
        yield running


def test_webhook_receives_signed_alerts_with_retries(loopback_hooks: Gateway) -> None:
    gateway = loopback_hooks
    received: list[tuple[dict[str, str], bytes]] = []
    failures = [1]  # the first delivery fails: the dispatcher must retry

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if failures[0]:
                failures[0] -= 1
                self.send_response(503)
            else:
                received.append((dict(self.headers), body))
                self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        marketplace, bank = gateway.partner("marketplace-a"), gateway.partner("bank-a")
        hook = bank.call(
            "PUT", "/v1/alerts/webhook", {"url": f"http://127.0.0.1:{server.server_port}/hook"}
        )
        bank.call("PUT", "/v1/watchlist", {**WATCH, "items": [bank.item("iban", SELLER)]})
        for n in range(3):
            report(gateway, marketplace, SELLER, reference=f"m{n}")
        deadline = time.monotonic() + 20
        while not received and time.monotonic() < deadline:
            gateway.clock.current += timedelta(seconds=5)  # let the backoff elapse
            time.sleep(0.3)
        assert received, "no webhook delivery"
        headers, body = received[0]
        expected = hmac.new(
            bytes.fromhex(hook["secret"]),
            headers["X-PPSGate-Timestamp"].encode() + b"." + body,
            hashlib.sha256,
        ).hexdigest()
        assert headers["X-PPSGate-Signature"] == f"v1={expected}"
        (alert,) = json.loads(body)["alerts"]
        assert alert["type"] == "alert"
        assert alert["disclosed"]["categories"] == ["purchase_fraud"]
    finally:
        server.shutdown()
