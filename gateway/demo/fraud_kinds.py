"""Scenario 12 in the demo: a phishing page, a cash-out address and a recruiter's account.

Bank-a reports the page its customers were sent to and the crypto address the money went
on to; the registry's watch list catches the page and an exchange (a PSP partner) finds the
address among its deposit addresses. Both banks report the social media account of a
friend-in-need case and the marketplace finds it among its sellers' accounts (batch
screening needs reports from two partners). Each partner
writes the identifier its own way; the canonical forms make the tokens meet.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.canonical import Kind
from gateway.demo import cast

if TYPE_CHECKING:
    from gateway.demo.partners import Partners

SCENARIO = "12 phishing page and cash-out"
TAKES_FRAUD = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
WATCH = {"purpose": "watchlist_alerts", "legal_basis": "art6_1_f"}
SCREEN_PAYMENT = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}
BATCH = {"purpose": "batch_screening", "legal_basis": "art6_1_f"}


def _report(
    p: Partners, partner: str, kind: Kind, value: str, *, category: str, cases: int, now: datetime
) -> int:
    items = [
        {
            **p.item(partner, kind, value),
            "category": category,
            "role": "suspect",
            "observed_at": (now - timedelta(hours=case)).isoformat(),
            "reference": f"{partner.upper()}-{kind.value.upper()}-{case}",
        }
        for case in range(1, cases + 1)
    ]
    answer = p.call(partner, "POST", "/v1/indicators", {**TAKES_FRAUD, "items": items})
    return int(answer["accepted"])


def _hit(result: dict[str, Any]) -> str:
    if not result.get("hit"):
        return "no hit"
    categories = result.get("categories")
    return "hit" + (f"; category {', '.join(categories)}" if categories else "")


def phishing_page_and_cash_out(p: Partners, now: datetime) -> None:
    """Scenario 12, played by the registry, bank-a, the exchange, bank-b and the marketplace."""
    page = cast.PHISHING_PAGE.replace("https://www.", "HTTPS://WWW.").replace(".nl/", ".nl:443/")
    watch = p.call(
        "registry-nl",
        "PUT",
        "/v1/watchlist",
        {**WATCH, "items": [p.item("registry-nl", Kind.URL, page)]},
    )
    p.log.add(SCENARIO, "registry-nl", "watches a page under .nl", f"{watch['added']} watched")
    accepted = _report(
        p, "bank-a", Kind.URL, cast.PHISHING_PAGE + "#stap-2", category="phishing", cases=3, now=now
    )
    alerts = p.call("registry-nl", "GET", "/v1/alerts")["alerts"]
    p.log.add(
        SCENARIO, "bank-a", "reports the phishing page (3 customers)",
        f"{accepted} accepted; registry alerts: {len(alerts)}",
    )  # fmt: skip
    accepted = _report(
        p,
        "bank-a",
        Kind.CRYPTO_ADDRESS,
        cast.CASH_OUT_ADDRESS,
        category="cash_out",
        cases=3,
        now=now,
    )
    p.log.add(SCENARIO, "bank-a", "reports the cash-out address", f"{accepted} accepted")
    deposit = "eth:" + cast.CASH_OUT_ADDRESS.lower()
    found = p.call(
        "psp-a",
        "POST",
        "/v1/match",
        {**SCREEN_PAYMENT, "items": [p.item("psp-a", Kind.CRYPTO_ADDRESS, deposit)]},
    )["results"][0]
    p.log.add(SCENARIO, "psp-a", "screens a deposit address, freezes it", _hit(found))
    for partner, cases in (("bank-b", 2), ("bank-a", 1)):
        accepted = _report(
            p,
            partner,
            Kind.SOCIAL_ACCOUNT,
            cast.RECRUITER_ACCOUNT,
            category="friend_in_need_fraud",
            cases=cases,
            now=now,
        )
        p.log.add(SCENARIO, partner, "reports the recruiter's account", f"{accepted} accepted")
    seller = p.item("marketplace-a", Kind.SOCIAL_ACCOUNT, "ig:snel.geld.demo")
    found = p.call("marketplace-a", "POST", "/v1/match", {**BATCH, "items": [seller]})
    p.log.add(
        SCENARIO, "marketplace-a", "screens its sellers' linked accounts",
        _hit(found["results"][0]),
    )  # fmt: skip
