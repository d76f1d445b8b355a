"""Free text never carries an identifier into the gateway (both backends).

One detector (``gateway.freetext``) guards every free-text field: a retraction's reason, a
report's or a retraction's case reference, the help desk's register, a policy version's
note. Text holding an IBAN, a phone number or an e-mail address is refused naming the field
and the kind found; the value is never echoed, stored or audited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from gateway.audit_trail.models import AuditDetail, AuditEntry
from gateway.db import transaction
from tests.support.gateway import Gateway, Partner

SELLER = "NL91ABNA0417164300"
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
LEAKY_REASON = "buyer says the money went to NL20 INGB 0001 2345 67, call +31 6 1234 5678"
SECRETS = ("NL20", "INGB", "2345 67", "1234 5678", "612345678")


def _post(gw: Gateway, partner: Partner, path: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {partner.client.access_token()}"}
    return httpx.post(f"{gw.url}{path}", json=body, headers=headers, timeout=30)


def _refused(response: httpx.Response, field: str, kind: str) -> None:
    assert response.status_code == 422, response.text[:300]
    body = response.json()
    assert body["field"] == field
    assert f"kind {kind}" in body["detail"]
    assert not any(secret in response.text for secret in SECRETS)


def _report(gw: Gateway, partner: Partner, reference: str) -> dict[str, Any]:
    item = {
        **partner.item("iban", SELLER),
        "category": "purchase_fraud",
        "observed_at": (gw.clock.now() - timedelta(hours=1)).isoformat(),
        "reference": reference,
    }
    return dict(_post(gw, partner, "/v1/indicators", {**SUBMIT, "items": [item]}).json())


def _stored_texts(gw: Gateway) -> str:
    with transaction(gw.services.session_factory) as session:
        entries = [bytes(body) for body in session.scalars(select(AuditEntry.body))]
        details = [bytes(body) for body in session.scalars(select(AuditDetail.body))]
    return b"\n".join(entries + details).decode()


def test_retraction_reason_with_an_iban_and_a_phone_number_is_refused(gateway: Gateway) -> None:
    marketplace = gateway.partner("marketplace-a")
    assert _report(gateway, marketplace, "case-1")["accepted"] == 1
    item = marketplace.item("iban", SELLER)
    retract: dict[str, Any] = {**SUBMIT, "items": [item]}
    _refused(
        _post(gateway, marketplace, "/v1/indicators/retract", {**retract, "reason": LEAKY_REASON}),
        "reason",
        "iban",
    )
    by_reference = {
        **retract,
        "reason": "delivered after all",
        "items": [{**item, "reference": "tel. 06-12345678"}],
    }
    _refused(
        _post(gateway, marketplace, "/v1/indicators/retract", by_reference),
        "items.0.reference",
        "phone",
    )
    stored = _stored_texts(gateway)
    assert "indicator:retract" not in stored  # refused before anything was decided or kept
    assert not any(secret in stored for secret in SECRETS)
    plain = {**retract, "reason": "seller delivered after all"}
    answer = _post(gateway, marketplace, "/v1/indicators/retract", plain)
    assert answer.status_code == 200
    assert answer.json()["retracted"] == 1


def test_report_reference_holding_an_e_mail_address_is_rejected_per_row(
    gateway: Gateway,
) -> None:
    marketplace = gateway.partner("marketplace-a")
    answer = _report(gateway, marketplace, "buyer jan.jansen@example.nl")
    (row,) = answer["results"]
    assert (row["status"], row["field"]) == ("rejected", "reference")
    assert "kind email" in row["reason"]
    assert "jan.jansen" not in str(answer)
    assert _report(gateway, marketplace, "MP-CASE-1001")["accepted"] == 1
