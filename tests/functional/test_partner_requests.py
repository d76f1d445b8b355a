"""Scenario 13 over HTTP, on SQLite and PostgreSQL: a bank that got a hit asks the reporters,
through the gateway, to recall a payment; the reporter answers within the deadline; neither
learns who the other is, and both acts are in the audit log and the subject access answer."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from connectors.cli import app
from connectors.client import GatewayAPIError
from connectors.hashing import TypeKeys
from connectors.keystore import save_keystore
from connectors.typekeys import EpochKeys, TypeKeyStore, save_typekeys
from gateway.audit_trail import queries
from gateway.console.overview import Attention, build_overview
from gateway.console.period import recent
from gateway.db import transaction
from gateway.partners.models import Partner as PartnerRow
from tests.support.gateway import Gateway, Partner

MULE = "NL91 ABNA 0417 1643 00"
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}


def report(gw: Gateway, partner: Partner, value: str = MULE) -> None:
    item = {
        **partner.item("iban", value),
        "category": "money_mule",
        "role": "mule",
        "observed_at": (gw.clock.now() - timedelta(days=1)).isoformat(),
        "reference": "case-17",
    }
    assert partner.post("/v1/indicators", {**SUBMIT, "items": [item]})["accepted"] == 1


def ask(partner: Partner, kind_type: str = "recall_funds", **extra: Any) -> dict[str, Any]:
    body = {**SCREEN, **partner.item("iban", MULE), "type": kind_type, **extra}
    return partner.post("/v1/requests", body)


def test_recall_request_is_answered_within_its_deadline(gateway: Gateway) -> None:
    reporter, requester = gateway.partner("bank-a"), gateway.partner("bank-b")
    report(gateway, reporter)
    sent = ask(requester, message="Betaling van gisteren, kan die nog terug?")
    assert (sent["status"], sent["recipients"]) == ("open", 1)
    assert sent["request_id"].startswith("rq_")

    (received,) = reporter.call("GET", "/v1/requests")["received"]
    assert received["request_id"] == sent["request_id"]
    assert (received["type"], received["status"]) == ("recall_funds", "open")
    assert [r["category"] for r in received["your_reports"]] == ["money_mule"]
    assert "bank-b" not in json.dumps(received)

    gateway.clock.current += timedelta(hours=3)
    answered = reporter.post(
        f"/v1/requests/{sent['request_id']}/answer",
        {**SUBMIT, "answer": "done", "message": "Teruggeboekt."},
    )
    assert answered["status"] == "answered"

    (mine,) = requester.call("GET", "/v1/requests")["sent"]
    assert mine["status"] == "answered"
    assert [(a["status"], a["answer"]) for a in mine["answers"]] == [("answered", "done")]
    assert "bank-a" not in json.dumps(mine)

    token_hash = gateway.services.pepper.token(requester.item("iban", MULE)["token"], epoch=1)
    with transaction(gateway.services.session_factory) as session:
        tags = [r.tag for r in queries.subject_access(session, token_hash, scope=None)]
    assert "request:partner:send" in tags
    assert "request:partner:answer" in tags


def test_the_privacy_officers_overview_shows_open_requests_per_partner(gateway: Gateway) -> None:
    reporter, requester = gateway.partner("bank-a"), gateway.partner("bank-b")
    report(gateway, reporter)
    ask(requester)
    now = gateway.clock.now()
    with transaction(gateway.services.session_factory) as session:
        own = build_overview(session, scope="bank-a", period=recent(1, now)).attention
        other = build_overview(session, scope="bank-b", period=recent(1, now)).attention
        later = build_overview(session, scope=None, period=recent(1, now + timedelta(days=2)))
    assert Attention("overview.requests_open", {"partner": "bank-a", "count": 1}) in own
    assert not [a for a in other if a.key == "overview.requests_open"]
    assert not [a for a in later.attention if a.key == "overview.requests_open"]  # expired


def test_an_answer_after_the_deadline_is_refused_and_the_request_expires(
    gateway: Gateway,
) -> None:
    reporter, requester = gateway.partner("bank-a"), gateway.partner("bank-b")
    report(gateway, reporter)
    sent = ask(requester, "halt_payment")
    gateway.clock.current += timedelta(hours=3)  # halt_payment: two hours
    with pytest.raises(GatewayAPIError) as late:
        reporter.post(f"/v1/requests/{sent['request_id']}/answer", {**SUBMIT, "answer": "done"})
    assert late.value.status == 409
    (mine,) = requester.call("GET", "/v1/requests")["sent"]
    assert mine["status"] == "expired"
    assert [a["status"] for a in mine["answers"]] == ["expired"]
    token_hash = gateway.services.pepper.token(requester.item("iban", MULE)["token"], epoch=1)
    with transaction(gateway.services.session_factory) as session:
        tags = [r.tag for r in queries.subject_access(session, token_hash, scope=None)]
    assert tags.count("request:partner:answer") == 1  # the refused late answer is on record


def test_a_request_type_outside_the_purpose_is_refused(gateway: Gateway) -> None:
    reporter, requester = gateway.partner("bank-a"), gateway.partner("bank-b")
    report(gateway, reporter)
    with pytest.raises(GatewayAPIError) as refused:
        ask(requester, "share_details")
    assert refused.value.status == 403
    assert refused.value.reasons == ("request-type-not-allowed-for-purpose",)
    assert reporter.call("GET", "/v1/requests")["received"] == []


def test_an_identifier_in_the_message_is_refused_and_not_echoed(gateway: Gateway) -> None:
    reporter, requester = gateway.partner("bank-a"), gateway.partner("bank-b")
    report(gateway, reporter)
    with pytest.raises(GatewayAPIError) as refused:
        ask(requester, message="Ook NL44 RABO 0123 4567 89 graag blokkeren")
    assert refused.value.status == 422
    assert refused.value.field == "message"
    assert "RABO" not in refused.value.diagnostics()


def test_nobody_to_ask_and_strangers_cannot_answer(gateway: Gateway) -> None:
    reporter, requester = gateway.partner("bank-a"), gateway.partner("bank-b")
    with pytest.raises(GatewayAPIError) as nobody:
        ask(requester)
    assert nobody.value.status == 409
    token_hash = gateway.services.pepper.token(requester.item("iban", MULE)["token"], epoch=1)
    with transaction(gateway.services.session_factory) as session:
        tags = [r.tag for r in queries.subject_access(session, token_hash, scope=None)]
    assert tags == ["request:partner:send"]  # the attempt is on record, with no one asked
    report(gateway, reporter)
    sent = ask(requester)
    with pytest.raises(GatewayAPIError) as stranger:
        gateway.partner("marketplace-a").post(
            f"/v1/requests/{sent['request_id']}/answer", {**SUBMIT, "answer": "done"}
        )
    assert stranger.value.status == 404


def test_connector_commands_send_list_and_answer(gateway: Gateway, tmp_path: Path) -> None:
    reporter, requester = gateway.partner("bank-a"), gateway.partner("bank-b")
    report(gateway, reporter)
    keys = TypeKeys.from_master_salt(gateway.master_salt, epoch=1)
    typekeys = tmp_path / "typekeys.json"
    store = TypeKeyStore()
    store.put(EpochKeys(1, "active", dict(keys), "test", "test", "2026-01-01T00:00:00+00:00"))
    save_typekeys(typekeys, store, passphrase=None)

    def cli(partner: Partner, *args: str) -> Any:
        keystore = tmp_path / f"{partner.client_id}.json"
        if not keystore.exists():
            assert partner.keys is not None
            save_keystore(keystore, partner.keys)
        connection = ["--gateway", gateway.url, "--client-id", partner.client_id]
        result = CliRunner().invoke(
            app, [*args, *connection, "--keystore", str(keystore)], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    sent = cli(
        requester, "requests", "send", "nl91abna0417164300", "--kind", "iban",
        "--type", "recall_funds", "--purpose", "payment_screening",
        "--legal-basis", "art6_1_c", "--typekeys", str(typekeys),
    )  # fmt: skip
    assert sent["recipients"] == 1
    (received,) = cli(reporter, "requests", "list")["received"]
    assert received["request_id"] == sent["request_id"]
    answered = cli(
        reporter, "requests", "answer", sent["request_id"], "--answer", "not_possible",
        "--purpose", "indicator_submission", "--legal-basis", "art6_1_f",
    )  # fmt: skip
    assert answered["status"] == "answered"


def test_a_partner_contradicting_its_policy_sector_cannot_send_a_request(
    gateway: Gateway,
) -> None:
    """The registry-vs-policy sector check holds for tracked requests as for every decision."""
    reporter, requester = gateway.partner("bank-a"), gateway.partner("bank-b")
    report(gateway, reporter)
    with transaction(gateway.services.session_factory) as session:
        session.execute(
            update(PartnerRow).where(PartnerRow.id == "bank-b").values(sector="operator")
        )
    with pytest.raises(GatewayAPIError) as refused:
        ask(requester)
    assert refused.value.status == 403
    assert "partner-sector-mismatch" in refused.value.reasons
