"""Scenario 13 in the demo: a bank with a hit asks the reporter to recall a payment.

Bank-a has reported a money mule's account. Bank-b's screening of a new payment to it hits;
bank-b asks, through the gateway, whether yesterday's payment to the same account can still
be recalled. The gateway relays the request to the reporter without naming bank-b, and the
answer back without naming bank-a; bank-a answers within the deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from connectors.canonical import Kind
from gateway.demo import cast

if TYPE_CHECKING:
    from gateway.demo.partners import Partners

SCENARIO = "13 stop the second payment"
TAKES_FRAUD = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
SCREEN_PAYMENT = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}


def recall_the_first_payment(p: Partners, now: datetime) -> None:
    """Scenario 13, played by bank-a (the reporter) and bank-b (the bank with the hit)."""
    report = {
        **p.item("bank-a", Kind.IBAN, cast.MULE_IBAN),
        "category": "money_mule",
        "role": "mule",
        "observed_at": (now - timedelta(days=2)).isoformat(),
        "reference": "BANK-A-MULE-77",
    }
    answer = p.call("bank-a", "POST", "/v1/indicators", {**TAKES_FRAUD, "items": [report]})
    p.log.add(
        SCENARIO, "bank-a", "reports a money mule's account", f"{answer['accepted']} accepted"
    )
    item = p.item("bank-b", Kind.IBAN, cast.MULE_IBAN)
    hit = p.call("bank-b", "POST", "/v1/match", {**SCREEN_PAYMENT, "items": [item]})
    p.log.add(
        SCENARIO, "bank-b", "screens a new payment", "hit" if hit["results"][0]["hit"] else "no hit"
    )
    sent = p.call(
        "bank-b", "POST", "/v1/requests", {**SCREEN_PAYMENT, **item, "type": "recall_funds"}
    )
    p.log.add(
        SCENARIO, "bank-b", "asks the reporters to recall yesterday's payment",
        f"{sent['recipients']} reporter(s) asked, deadline {sent['deadline'][:16]}",
    )  # fmt: skip
    (received,) = p.call("bank-a", "GET", "/v1/requests")["received"]
    done = p.call(
        "bank-a",
        "POST",
        f"/v1/requests/{received['request_id']}/answer",
        {**TAKES_FRAUD, "answer": "done"},
    )
    p.log.add(SCENARIO, "bank-a", "recalls the funds and answers", done["status"])
    (mine,) = p.call("bank-b", "GET", "/v1/requests")["sent"]
    answers = ", ".join(a["answer"] or a["status"] for a in mine["answers"])
    p.log.add(SCENARIO, "bank-b", "reads the answer (reporter not named)", answers)
