"""The scenarios the demo plays, each partner through its own authenticated client.

Every call goes over HTTP to the running gateway, authenticated with the partner's own
``private_key_jwt`` client, exactly as a connector would; identifiers are canonicalised and
hashed on the partner's side and only tokens travel.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.canonical import Kind
from gateway.demo import cast, fraud_kinds, recall
from gateway.demo.partners import Partners, StoryLog

TAKES_FRAUD = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
WATCH = {"purpose": "watchlist_alerts", "legal_basis": "art6_1_f"}
SCREEN_PAYMENT = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}
SPOOFING = {"purpose": "spoofing_prevention", "legal_basis": "art6_1_f"}


def _describe(result: dict[str, Any]) -> str:
    if not result.get("hit"):
        return "no hit"
    parts = ["hit"]
    if "reports" in result:
        parts.append(f"{result['reports']} reports from {result['reporters']} partner(s)")
    if result.get("categories"):
        parts.append("category " + ", ".join(result["categories"]))
    if result.get("roles"):
        parts.append("role " + ", ".join(result["roles"]))
    if result.get("sectors"):
        parts.append("sector " + ", ".join(result["sectors"]))
    if result.get("disputed"):
        parts.append("disputed")
    return "; ".join(parts)


def marketplace_seller(p: Partners, now: datetime) -> None:
    """Scenario 1: three buyers report one seller's IBAN; the seller's bank gets an alert."""
    scenario = "1 marketplace seller"
    watch = p.call(
        "bank-a",
        "PUT",
        "/v1/watchlist",
        {
            **WATCH,
            "items": [
                p.item("bank-a", Kind.IBAN, iban)
                for iban in (cast.SELLER_IBAN, *cast.BANK_A_CUSTOMERS)
            ],
        },
    )
    p.log.add(scenario, "bank-a", "watches its customers' IBANs", f"{watch['added']} watched")
    for buyer in (1, 2, 3):
        answer = p.call(
            "marketplace-a",
            "POST",
            "/v1/indicators",
            {
                **TAKES_FRAUD,
                "items": [
                    {
                        **p.item("marketplace-a", Kind.IBAN, cast.SELLER_IBAN),
                        "category": "purchase_fraud",
                        "role": "suspect",
                        "observed_at": (now - timedelta(days=4 - buyer)).isoformat(),
                        "reference": f"MP-CASE-{1000 + buyer}",
                    }
                ],
            },
        )
        alerts = p.call("bank-a", "GET", "/v1/alerts")
        seen = [a for a in alerts["alerts"] if a["type"] in {"alert", "update"}]
        outcome = f"{answer['accepted']} accepted; bank-a alerts: {len(seen)}"
        if seen:
            outcome += f" ({_describe(seen[-1]['disclosed'])})"
            p.call("bank-a", "POST", "/v1/alerts/ack", {"cursor": alerts["next_cursor"]})
        p.log.add(scenario, "marketplace-a", f"reports the seller (buyer {buyer})", outcome)
    feedback = p.call(
        "bank-a",
        "POST",
        "/v1/feedback",
        {
            **WATCH,
            **p.item("bank-a", Kind.IBAN, cast.SELLER_IBAN),
            "outcome": "confirmed",
        },
    )
    p.log.add(scenario, "bank-a", "blocks the account, sends feedback", feedback["outcome"])


def payment_screening(p: Partners, _now: datetime) -> None:
    """Scenario 2: another bank screens a EUR 900 payment to that IBAN in real time."""
    for iban in (cast.SELLER_IBAN, cast.HONEST_IBAN):
        answer = p.call(
            "bank-b",
            "POST",
            "/v1/match",
            {
                **SCREEN_PAYMENT,
                "items": [p.item("bank-b", Kind.IBAN, iban)],
            },
        )
        label = "the seller's IBAN" if iban == cast.SELLER_IBAN else "an honest payee"
        p.log.add(
            "2 payment screening",
            "bank-b",
            f"screens a payment to {label}",
            _describe(answer["results"][0]),
        )


def spoofed_helpdesk(p: Partners, now: datetime) -> None:
    """Scenario 3: the bank protects its helpdesk number; the telecom sees only that."""
    scenario = "3 spoofed helpdesk"
    answer = p.call(
        "bank-a",
        "POST",
        "/v1/indicators",
        {
            **TAKES_FRAUD,
            "items": [
                {
                    **p.item("bank-a", Kind.PHONE, cast.BANK_A_HELPDESK),
                    "category": "spoofing",
                    "role": "victim",
                    "observed_at": now.isoformat(),
                    "reference": "BANK-A-SERVICE-NUMBERS",
                }
            ],
        },
    )
    p.log.add(
        scenario,
        "bank-a",
        "registers its helpdesk number as protected",
        f"{answer['accepted']} accepted",
    )
    result = p.call(
        "telecom-a",
        "POST",
        "/v1/match",
        {
            **SPOOFING,
            "items": [p.item("telecom-a", Kind.PHONE, number) for number in cast.CALLER_IDS],
        },
    )
    for call, row in enumerate(result["results"], start=1):
        what = "protected number" if row.get("roles") == ["victim"] else _describe(row)
        p.log.add(scenario, "telecom-a", f"checks incoming international call {call}", what)


SCENARIOS: tuple[Callable[[Partners, datetime], None], ...] = (
    marketplace_seller,
    payment_screening,
    spoofed_helpdesk,
    fraud_kinds.phishing_page_and_cash_out,
    recall.recall_the_first_payment,
)


def play(p: Partners) -> StoryLog:
    now = datetime.now(tz=UTC)
    for scenario in SCENARIOS:
        scenario(p, now)
    return p.log
