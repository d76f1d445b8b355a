"""The partnership's rules for reports, end to end over HTTP on SQLite and PostgreSQL.

Distinct victims and the EU PSR profile (two different customers of one provider), evidence
levels that a purpose may require, retention per report from category and role, and the
obligations that travel with every disclosure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.victims import victim_reference
from gateway.db import transaction
from gateway.indicators.models import Indicator
from gateway.retention import purge
from tests.support.gateway import Gateway, Partner

PAYEE = "NL91 ABNA 0417 1643 00"
MULE = "NL44RABO0123456789"
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
PSR = {"purpose": "psr_fraud_sharing", "legal_basis": "art6_1_f"}
CIVIL = {"purpose": "civil_recovery", "legal_basis": "art6_1_f"}
VICTIM_KEY = bytes(range(32))  # the reporting provider's own key; never sent anywhere


def submit(
    gw: Gateway, partner: Partner, value: str, *, reference: str, **fields: Any
) -> dict[str, Any]:
    item = {
        **partner.item("iban", value),
        "category": "purchase_fraud",
        "observed_at": gw.clock.now().isoformat(),
        "reference": reference,
        **fields,
    }
    answer: dict[str, Any] = partner.post("/v1/indicators", {**SUBMIT, "items": [item]})
    result: dict[str, Any] = answer["results"][0]
    return result


def victim(customer: str) -> str:
    return victim_reference(VICTIM_KEY, customer)


def screen(partner: Partner, purpose: dict[str, str], **extra: Any) -> dict[str, Any]:
    body = {**purpose, "items": [partner.item("iban", PAYEE)], **extra}
    answer: dict[str, Any] = partner.post("/v1/match", body)
    return answer


def test_two_customers_of_one_provider_cross_the_psr_threshold(gateway: Gateway) -> None:
    provider, other = gateway.partner("psp-a"), gateway.partner("bank-b")
    submit(gateway, provider, PAYEE, reference="case-1", victim=victim("customer-1"))
    assert screen(other, PSR)["results"] == [{"row": 0, "hit": False}]
    submit(gateway, provider, PAYEE, reference="case-2", victim=victim("customer-2"))
    answer = screen(other, PSR)
    assert answer["results"] == [
        {
            "row": 0,
            "hit": True,
            "disputed": False,
            "reports": 2,
            "reporters": 1,
            "victims": 2,
            "categories": ["purchase_fraud"],
            "evidence": [],
        }
    ]
    duties = {o["code"]: o for o in answer["obligations"]}
    assert "no-termination-on-flag-alone" in duties
    assert "klantrelatie" in duties["no-termination-on-flag-alone"]["text_nl"]


def test_two_reports_of_one_customer_do_not(gateway: Gateway) -> None:
    provider, other = gateway.partner("psp-a"), gateway.partner("bank-b")
    for case in ("case-1", "case-2", "case-3"):
        submit(gateway, provider, PAYEE, reference=case, victim=victim("customer-1"))
    assert screen(other, PSR)["results"] == [{"row": 0, "hit": False}]
    # Payment screening counts reports, not victims: the same three reports do cross it.
    payment = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}
    assert screen(other, payment)["results"][0]["reports"] == 3


def test_victims_at_two_providers_are_not_two_customers_of_one(gateway: Gateway) -> None:
    psp, bank, asking = (gateway.partner(p) for p in ("psp-a", "bank-a", "bank-b"))
    submit(gateway, psp, PAYEE, reference="p-1", victim=victim("customer-1"))
    submit(gateway, bank, PAYEE, reference="b-1", victim=victim("customer-1"))
    assert screen(asking, PSR)["results"] == [{"row": 0, "hit": False}]


def test_reports_without_victim_references_never_meet_the_psr_rule(gateway: Gateway) -> None:
    provider, other = gateway.partner("psp-a"), gateway.partner("bank-b")
    for case in ("case-1", "case-2", "case-3"):
        submit(gateway, provider, PAYEE, reference=case)
    assert screen(other, PSR)["results"] == [{"row": 0, "hit": False}]


def test_civil_recovery_names_the_reporter_only_with_a_police_report(gateway: Gateway) -> None:
    bank, bailiff = gateway.partner("bank-a"), gateway.partner("bailiff-nl")
    submit(gateway, bank, PAYEE, reference="statement", evidence="victim_statement")
    assert screen(bailiff, CIVIL)["results"] == [{"row": 0, "hit": True}]
    submit(gateway, bank, PAYEE, reference="aangifte", evidence="police_report")
    (result,) = screen(bailiff, CIVIL)["results"]
    assert result["reporting_partners"] == ["bank-a"]
    assert result["evidence"] == ["victim_statement", "police_report"]


def test_bad_victim_and_evidence_are_refused_by_field(gateway: Gateway) -> None:
    bank = gateway.partner("bank-a")
    refused = submit(gateway, bank, PAYEE, reference="x", victim="customer-1")
    assert (refused["status"], refused["field"]) == ("rejected", "victim")
    assert "customer-1" not in refused["reason"]
    refused = submit(gateway, bank, PAYEE, reference="y", evidence="rumour")
    assert (refused["status"], refused["field"]) == ("rejected", "evidence")
    assert "police_report" in refused["reason"]


def _expiry(result: dict[str, Any]) -> datetime:
    assert result["status"] == "accepted", result
    return datetime.fromisoformat(result["expires_at"])


def test_role_sets_a_shorter_default_than_the_category(gateway: Gateway) -> None:
    bank, now = gateway.partner("bank-a"), gateway.clock.now()
    mule = {"category": "money_mule"}
    witting = submit(gateway, bank, MULE, reference="w", role="mule_witting", **mule)
    unwitting = submit(gateway, bank, MULE, reference="u", role="mule_unwitting", **mule)
    taken_over = submit(gateway, bank, MULE, reference="t", role="takeover_victim", **mule)
    assert _expiry(witting) == now + timedelta(days=365)
    assert _expiry(unwitting) == now + timedelta(days=90)
    assert _expiry(taken_over) == now + timedelta(days=30)


def test_reporter_shortens_freely_and_extends_only_with_a_reason(gateway: Gateway) -> None:
    bank, now = gateway.partner("bank-a"), gateway.clock.now()
    base = {"category": "money_mule", "role": "mule_unwitting"}
    shorter = now + timedelta(days=10)
    assert (
        _expiry(submit(gateway, bank, MULE, reference="s", expires_at=shorter.isoformat(), **base))
        == shorter
    )
    later = (now + timedelta(days=200)).isoformat()
    refused = submit(gateway, bank, MULE, reference="l", expires_at=later, **base)
    assert (refused["status"], refused["field"]) == ("rejected", "expires_at")
    unknown = submit(
        gateway, bank, MULE, reference="r", expires_at=later, retention_reason="because", **base
    )
    assert (unknown["status"], unknown["field"]) == ("rejected", "retention_reason")
    kept = submit(
        gateway,
        bank,
        MULE,
        reference="k",
        expires_at=(now + timedelta(days=3000)).isoformat(),
        retention_reason="ongoing-investigation",
        **base,
    )
    assert _expiry(kept) == now + timedelta(days=365)  # capped at the category's maximum
    with transaction(gateway.services.session_factory) as session:
        reasons = session.scalars(select(Indicator.retention_reason).order_by(Indicator.id)).all()
    assert reasons == [None, "ongoing-investigation"]


def _purge_and_count(gateway: Gateway) -> int:
    with transaction(gateway.services.session_factory) as session:
        purge(session, gateway.services, request_id="t", actor="test")
    with transaction(gateway.services.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(Indicator)) or 0)


def test_expiry_is_in_subject_access_and_purged_to_the_day(gateway: Gateway) -> None:
    bank, now = gateway.partner("bank-a"), gateway.clock.now()
    result = submit(
        gateway, bank, MULE, reference="m", category="money_mule", role="mule_unwitting"
    )
    expires = _expiry(result)
    assert expires == now + timedelta(days=90)
    dpo = gateway.partner("dpo-pps", scopes=("audit:read",), sector="partnership_dpo")
    token = bank.item("iban", MULE)["token"]
    report = dpo.post("/v1/audit/subject-access", {"token": token, "epoch": 1})
    (held,) = report["reports"]
    assert (held["reporter"], held["role"], held["category"]) == (
        "bank-a",
        "mule_unwitting",
        "money_mule",
    )
    assert datetime.fromisoformat(held["expires_at"]) == expires
    gateway.clock.current = expires - timedelta(days=1)
    assert _purge_and_count(gateway) == 1
    gateway.clock.current = expires
    assert _purge_and_count(gateway) == 0
    report = dpo.post("/v1/audit/subject-access", {"token": token, "epoch": 1})
    assert report["reports"] == []


@pytest.mark.parametrize("purpose", [PSR])
def test_alerts_carry_the_obligations(gateway: Gateway, purpose: dict[str, str]) -> None:
    provider, watcher = gateway.partner("psp-a"), gateway.partner("bank-b")
    watcher.call("PUT", "/v1/watchlist", {**purpose, "items": [watcher.item("iban", PAYEE)]})
    for n in (1, 2):
        submit(gateway, provider, PAYEE, reference=f"c{n}", victim=victim(f"customer-{n}"))
    (alert,) = watcher.call("GET", "/v1/alerts")["alerts"]
    assert alert["disclosed"]["victims"] == 2
    assert "no-termination-on-flag-alone" in {o["code"] for o in alert["obligations"]}
