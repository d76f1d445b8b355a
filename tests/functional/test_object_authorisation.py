"""Object-level authorisation on every endpoint, found by walking the OpenAPI schema.

Every operation the app publishes must appear in ``RULES`` with how it is protected: public
(transparency, discovery, token endpoint), or authenticated with a probe showing that
partner A's token neither sees nor changes partner B's objects. A new endpoint without an
entry fails this test, so it cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from connectors.client import GatewayAPIError
from tests.support import authorisation_rules
from tests.support.gateway import Gateway

SELLER = "NL91ABNA0417164300"
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
WATCH = {"purpose": "watchlist_alerts", "legal_basis": "art6_1_f"}
DISPUTE = {"purpose": "dispute_handling", "legal_basis": "art6_1_c"}

Probe = Callable[[Gateway], None]


def _report(gw: Gateway, partner_id: str, reference: str) -> None:
    partner = gw.partner(partner_id)
    partner.post(
        "/v1/indicators",
        {
            **SUBMIT,
            "items": [
                {
                    **partner.item("iban", SELLER),
                    "category": "purchase_fraud",
                    "reference": reference,
                    "observed_at": (gw.clock.now() - timedelta(hours=1)).isoformat(),
                }
            ],
        },
    )


def _screen_hits(gw: Gateway, partner_id: str) -> dict[str, Any]:
    partner = gw.partner(partner_id)
    answer = partner.post(
        "/v1/match",
        {
            "purpose": "payment_screening",
            "legal_basis": "art6_1_c",
            "items": [partner.item("iban", SELLER)],
        },
    )
    return dict(answer["results"][0])


def probe_submit(gw: Gateway) -> None:
    """Reports are always the caller's own: B's reports count as B's, not as A's."""
    for n in range(3):
        _report(gw, "marketplace-a", f"b{n}")
    assert _screen_hits(gw, "bank-b")["reports"] == 3
    # Reports are keyed to the token's partner: bank-b's own reports are excluded from its
    # answer, marketplace-a's are counted as marketplace-a's, never as bank-b's.
    _report(gw, "bank-b", "own")
    assert _screen_hits(gw, "bank-b")["reports"] == 3


def probe_retract(gw: Gateway) -> None:
    for n in range(3):
        _report(gw, "marketplace-a", f"b{n}")
    intruder = gw.partner("bank-a")
    answer = intruder.post(
        "/v1/indicators/retract",
        {**SUBMIT, "reason": "not mine", "items": [intruder.item("iban", SELLER)]},
    )
    assert answer["retracted"] == 0
    assert _screen_hits(gw, "bank-b")["reports"] == 3


def probe_unwatch(gw: Gateway) -> None:
    owner = gw.partner("bank-b")
    watched = owner.call("PUT", "/v1/watchlist", {**WATCH, "items": [owner.item("iban", SELLER)]})
    watch_id = watched["results"][0]["watch_id"]
    intruder = gw.partner("bank-a")
    assert intruder.call("DELETE", "/v1/watchlist", {"watch_ids": [watch_id]})["removed"] == 0
    again = owner.call("PUT", "/v1/watchlist", {**WATCH, "items": [owner.item("iban", SELLER)]})
    assert again["results"][0]["status"] == "existing"


def probe_alerts(gw: Gateway) -> None:
    owner = gw.partner("bank-b")
    owner.call("PUT", "/v1/watchlist", {**WATCH, "items": [owner.item("iban", SELLER)]})
    for n in range(3):
        _report(gw, "marketplace-a", f"b{n}")
    assert len(owner.call("GET", "/v1/alerts")["alerts"]) == 1
    intruder = gw.partner("bank-a")
    assert intruder.call("GET", "/v1/alerts", params={"after": 0})["alerts"] == []
    intruder.post("/v1/alerts/ack", {"cursor": 1})
    assert len(owner.call("GET", "/v1/alerts")["alerts"]) == 1  # B's cursor did not move


def probe_disputes(gw: Gateway) -> None:
    for n in range(3):
        _report(gw, "marketplace-a", f"b{n}")
    filer = gw.partner("bank-a")
    filer.call("PUT", "/v1/watchlist", {**WATCH, "items": [filer.item("iban", SELLER)]})
    dispute = filer.post(
        "/v1/disputes", {**DISPUTE, **filer.item("iban", SELLER), "grounds": "not-involved"}
    )
    assert filer.call("GET", "/v1/disputes") == []  # the filer sees no one's reports
    with pytest.raises(GatewayAPIError) as refused:
        filer.post(f"/v1/disputes/{dispute['dispute_id']}/resolve", {"outcome": "retract"})
    assert refused.value.status == 404
    assert _screen_hits(gw, "bank-b")["disputed"] is True


def probe_requests(gw: Gateway) -> None:
    _report(gw, "marketplace-a", "r1")
    requester = gw.partner("bank-b")
    sent = requester.post(
        "/v1/requests",
        {
            "purpose": "payment_screening",
            "legal_basis": "art6_1_c",
            **requester.item("iban", SELLER),
            "type": "recall_funds",
        },
    )
    intruder = gw.partner("bank-a")
    assert intruder.call("GET", "/v1/requests") == {"sent": [], "received": []}
    with pytest.raises(GatewayAPIError) as refused:
        intruder.post(
            f"/v1/requests/{sent['request_id']}/answer",
            {**SUBMIT, "answer": "done"},
        )
    assert refused.value.status == 404
    assert len(gw.partner("marketplace-a").call("GET", "/v1/requests")["received"]) == 1


def own_only(reason: str) -> Probe:
    def probe(_gw: Gateway) -> None:
        return None

    probe.__doc__ = reason
    return probe


PUBLIC = "public"
RULES: dict[tuple[str, str], str | Probe] = {
    ("GET", "/health"): PUBLIC,
    ("POST", "/oauth/token"): PUBLIC,
    ("GET", "/.well-known/jwks.json"): PUBLIC,
    ("GET", "/.well-known/oauth-authorization-server"): PUBLIC,
    ("POST", "/v1/indicators"): probe_submit,
    ("POST", "/v1/indicators/retract"): probe_retract,
    ("POST", "/v1/match"): own_only("a match reads evidence, never another partner's objects"),
    ("PUT", "/v1/watchlist"): own_only("entries are created for the caller's partner only"),
    ("DELETE", "/v1/watchlist"): probe_unwatch,
    ("GET", "/v1/alerts"): probe_alerts,
    ("POST", "/v1/alerts/ack"): probe_alerts,
    ("PUT", "/v1/alerts/webhook"): own_only("the endpoint is the caller's partner's"),
    ("POST", "/v1/disputes"): probe_disputes,
    ("GET", "/v1/disputes"): probe_disputes,
    ("POST", "/v1/disputes/{dispute_id}/resolve"): probe_disputes,
    ("POST", "/v1/feedback"): own_only("a verdict is recorded for the caller's partner"),
    ("POST", "/v1/requests"): probe_requests,
    ("GET", "/v1/requests"): probe_requests,
    ("POST", "/v1/requests/{target}/answer"): probe_requests,
}


def _operations(gw: Gateway) -> list[tuple[str, str]]:
    schema = httpx.get(f"{gw.url}/openapi.json", timeout=10).json()
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


def test_every_operation_has_an_authorisation_rule(gateway: Gateway) -> None:
    missing = [op for op in _operations(gateway) if op not in RULES and not _extra_rule(op)]
    assert not missing, f"endpoints without an object-level authorisation rule: {missing}"


def test_authenticated_operations_refuse_anonymous_callers(gateway: Gateway) -> None:
    for method, path in _operations(gateway):
        rule = RULES.get((method, path)) or _extra_rule((method, path))
        if rule == PUBLIC:
            continue
        url = gateway.url + path.replace("{dispute_id}", "1").replace("{n}", "1")
        response = httpx.request(method, url, json={}, timeout=10)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "probe",
    sorted(
        {p for p in (*RULES.values(), *authorisation_rules.RULES.values()) if callable(p)},
        key=lambda p: p.__name__,
    ),
)
def test_partner_a_cannot_reach_partner_b_objects(gateway: Gateway, probe: Probe) -> None:
    probe(gateway)


def _extra_rule(operation: tuple[str, str]) -> str | Probe | None:
    """Rules for areas that register their own (audit, keys, console) — see their modules."""
    from tests.support import authorisation_rules

    return authorisation_rules.RULES.get(operation)
