"""Subject access finds every disclosure from the identifier's token (both backends).

GDPR Art. 15(1)(c): the data subject may learn who received their data. A partner told
something through an alert, a webhook push or a retraction notice is a recipient as much as
one told by a match answer, so every delivery is audited with the peppered token and what it
said, and ``POST /v1/audit/subject-access`` lists recipient, content and time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway import Gateway, Partner, running_gateway

MULE = "NL91ABNA0417164300"
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
WATCH = {"purpose": "watchlist_alerts", "legal_basis": "art6_1_f"}


@contextmanager
def _webhook_receiver() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()


def _report(gw: Gateway, partner: Partner, reference: str) -> None:
    item = {
        **partner.item("iban", MULE),
        "category": "money_mule",
        "role": "mule",
        "observed_at": (gw.clock.now() - timedelta(hours=1)).isoformat(),
        "reference": reference,
    }
    partner.post("/v1/indicators", {**SUBMIT, "items": [item]})


def _subject_access(gw: Gateway) -> list[dict[str, Any]]:
    dpo = gw.partner("dpo-pps", scopes=("audit:read",), sector="partnership_dpo")
    body = gw.partner("bank-a").item("iban", MULE)
    report = dpo.post("/v1/audit/subject-access", {"token": body["token"], "epoch": body["epoch"]})
    return list(report["records"])


@pytest.fixture
def loopback_hooks(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    """A gateway that may deliver webhooks to a receiver on loopback (a test-only setting)."""
    with running_gateway(database_url, tmp_path / "data", unsafe_webhook_loopback=True) as running:
        yield running


def test_recipients_of_alerts_webhooks_and_retraction_notices_are_listed(
    loopback_hooks: Gateway,
) -> None:
    gateway = loopback_hooks
    marketplace, bank, pusher = (gateway.partner(p) for p in ("marketplace-a", "bank-a", "bank-b"))
    for watcher in (bank, pusher):
        watcher.call("PUT", "/v1/watchlist", {**WATCH, "items": [watcher.item("iban", MULE)]})
    with _webhook_receiver() as (url, received):
        pusher.call("PUT", "/v1/alerts/webhook", {"url": url})
        for n in range(3):
            _report(gateway, marketplace, f"case-{n}")
        (alert,) = bank.call("GET", "/v1/alerts")["alerts"]
        assert alert["type"] == "alert"
        bank.post("/v1/alerts/ack", {"cursor": alert["cursor"]})
        deadline = time.monotonic() + 20
        while not received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert received, "no webhook delivery"
    marketplace.post(
        "/v1/indicators/retract",
        {
            **SUBMIT,
            "reason": "account holder was a victim",
            "items": [marketplace.item("iban", MULE)],
        },
    )
    assert [a["type"] for a in bank.call("GET", "/v1/alerts")["alerts"]] == ["retraction"]

    records = _subject_access(gateway)
    told = [(r["partner"], r["tag"], r["disclosed"]) for r in records if r["disclosed"]]
    polled = [d for p, tag, d in told if (p, tag) == ("bank-a", "alert:delivery:send")]
    assert len(polled) == 2
    ((alert,), (notice,)) = polled
    assert alert["alert"] == "alert"
    assert (alert["categories"], alert["reports"], alert["sectors"]) == (
        ["money_mule"],
        3,
        ["marketplace"],
    )
    assert alert["purpose"] == "watchlist_alerts"
    assert (notice["alert"], notice["reason"]) == ("retraction", "retracted by the reporter")
    pushed = [d for p, tag, d in told if (p, tag) == ("bank-b", "alert:webhook:deliver")]
    assert pushed, "the webhook push is not listed"
    assert pushed[0][0]["categories"] == ["money_mule"]
    assert all(r["time"] for r in records)
    assert "marketplace-a" not in str(polled + pushed)  # never the reporter's name


def test_readers_of_audit_exports_with_detail_records_are_listed(gateway: Gateway) -> None:
    marketplace, bank = gateway.partner("marketplace-a"), gateway.partner("bank-a")
    bank.call("PUT", "/v1/watchlist", {**WATCH, "items": [bank.item("iban", MULE)]})
    for n in range(3):
        _report(gateway, marketplace, f"case-{n}")
    assert len(bank.call("GET", "/v1/alerts")["alerts"]) == 1
    dpo = gateway.partner("dpo-pps", scopes=("audit:read",), sector="partnership_dpo")
    for details in ("true", "false"):
        params = {"details": details, "action": "alert:delivery:send"}
        assert dpo.client.request("GET", "/v1/audit/export", params=params).status_code == 200
    records = _subject_access(gateway)
    (delivery,) = [r for r in records if r["tag"] == "alert:delivery:send"]
    exports = [r for r in records if r["tag"] == "audit:export:download"]
    assert [(r["partner"], r["disclosed"]) for r in exports] == [
        ("dpo-pps", {"exported_records": [delivery["leaf_index"]]})
    ]
