"""Disputes need standing, are metered like a match and answer only "filed" (both backends).

A dispute hides every partner's reports of a token behind a disputed hit, so it is the data
subject's right exercised through a party with its own standing for the identifier (the
policy's ``disputes`` area): the partner that holds the token on its own watch list. Filing
is charged to the purpose's quota, many filings in a window alert the partnership's DPO, and
the answer never says whether or how many reports exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.abuse.queries import list_alerts
from gateway.audit_trail.models import AuditEntry
from gateway.db import transaction
from tests.support.gateway import Gateway, Partner, running_gateway
from tests.support.policies import with_quotas

SELLER = "NL91ABNA0417164300"
HONEST = "NL44RABO0123456789"
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
WATCH = {"purpose": "watchlist_alerts", "legal_basis": "art6_1_f"}
SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}
DISPUTE = {"purpose": "dispute_handling", "legal_basis": "art6_1_c", "grounds": "not-involved"}
TINY = {
    "dispute_handling": {
        "window_seconds": 3600,
        "partner": 4,
        "client": 4,
        "enumeration": {"min_distinct": 3, "max_hit_ratio": 1},
    }
}


@pytest.fixture
def tiny(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    policies = with_quotas(tmp_path / "policies", TINY)
    with running_gateway(database_url, tmp_path / "data", policy_dir=policies) as gateway:
        yield gateway


def iban(n: int) -> str:
    """A valid Dutch IBAN (mod 97) for account number ``n``."""
    bban = f"ABNA{n:010d}"
    digits = "".join(str(int(ch, 36)) for ch in bban + "NL00")
    return f"NL{98 - int(digits) % 97:02d}{bban}"


def _file(gw: Gateway, partner: Partner, value: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {partner.client.access_token()}"}
    body = {**DISPUTE, **partner.item("iban", value)}
    return httpx.post(f"{gw.url}/v1/disputes", json=body, headers=headers, timeout=30)


def _watch(partner: Partner, *values: str) -> None:
    items = [partner.item("iban", value) for value in values]
    partner.call("PUT", "/v1/watchlist", {**WATCH, "items": items})


def _report(gw: Gateway, partner: Partner, value: str, reference: str) -> None:
    item = {
        **partner.item("iban", value),
        "category": "money_mule",
        "role": "mule",
        "observed_at": (gw.clock.now() - timedelta(hours=1)).isoformat(),
        "reference": reference,
    }
    partner.post("/v1/indicators", {**SUBMIT, "items": [item]})


def _screen(partner: Partner, value: str) -> dict[str, Any]:
    answer = partner.post("/v1/match", {**SCREEN, "items": [partner.item("iban", value)]})
    return dict(answer["results"][0])


def _entries(gw: Gateway, tag: str) -> list[bytes]:
    with transaction(gw.services.session_factory) as session:
        return [
            bytes(b) for b in session.scalars(select(AuditEntry.body).where(AuditEntry.tag == tag))
        ]


def test_only_a_partner_watching_its_customer_may_dispute_and_learns_only_filed(
    gateway: Gateway,
) -> None:
    marketplace, intruder, bank = (
        gateway.partner(p) for p in ("marketplace-a", "bank-b", "bank-a")
    )
    for n in range(3):
        _report(gateway, marketplace, SELLER, f"m{n}")
    refused = _file(gateway, intruder, SELLER)
    assert refused.status_code == 403
    assert refused.json()["reasons"] == ["dispute-standing-missing"]
    assert "categories" in _screen(intruder, SELLER)  # the reports stay visible to others
    _watch(bank, SELLER, HONEST)
    reported, unreported = _file(gateway, bank, SELLER), _file(gateway, bank, HONEST)
    assert reported.status_code == unreported.status_code == 200
    answers = [reported.json(), unreported.json()]
    assert [sorted(a) for a in answers] == [["dispute_id", "receipt", "status"]] * 2
    assert [a["status"] for a in answers] == ["filed", "filed"]
    assert _screen(intruder, SELLER) == {
        "row": 0,
        "hit": True,
        "disputed": True,
        "obligations": ["disputed-do-not-act"],
    }
    filed = b"\n".join(_entries(gateway, "dispute:case:file"))
    assert b"disputed_reports" not in filed  # nor in the filer's audit entries
    dpo = gateway.partner("dpo-pps", scopes=("audit:read",), sector="partnership_dpo")
    seen = dpo.call("GET", "/v1/audit/search", params={"action": "dispute:case:file"})["entries"]
    filers = sorted((e["actor"]["partner"], e["decision"]) for e in seen)
    assert filers == [("bank-a", "allow"), ("bank-a", "allow"), ("bank-b", "deny")]


def test_disputes_are_metered_and_mass_filing_alerts_the_dpo(tiny: Gateway) -> None:
    bank = tiny.partner("bank-a")
    accounts = [iban(n) for n in range(5)]
    _watch(bank, *accounts)
    assert [_file(tiny, bank, value).status_code for value in accounts[:4]] == [200] * 4
    with transaction(tiny.services.session_factory) as session:
        (alert,) = list_alerts(session, status=None, partner_id="bank-a", limit=10)
    assert (alert.kind, alert.purpose, alert.distinct_tokens) == (
        "mass-dispute-filing",
        "dispute_handling",
        3,
    )
    assert len(_entries(tiny, "abuse:enumeration:detect")) == 1
    over = _file(tiny, bank, accounts[4])
    assert over.status_code == 429
    assert over.headers["Retry-After"]
    denied = [e for e in _entries(tiny, "dispute:case:file") if b"quota-exceeded" in e]
    assert len(denied) == 1
