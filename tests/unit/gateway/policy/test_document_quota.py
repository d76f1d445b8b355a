"""The quota in a decision document: read strictly, malformed limits fail closed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.policy.bundle import PolicyBundle
from gateway.policy.decision import Action, DecisionRequest, Enumeration, Quota
from gateway.policy.document import (
    MalformedDecisionError,
    decision_json,
    read_decision,
    request_input,
)
from gateway.policy.regorus_engine import RegorusEngine

SCREENING = DecisionRequest(
    action=Action.MATCH_QUERY,
    partner_id="bank-a",
    purpose="payment_screening",
    legal_basis="art6_1_c",
    kinds=("iban",),
)


@pytest.fixture(scope="module")
def allowed(embedded: RegorusEngine) -> dict[str, Any]:
    result = embedded.evaluate("data.gateway.decision.decision", request_input(SCREENING))
    assert result["allow"] is True
    return dict(result)


def read(document: dict[str, Any], bundle: PolicyBundle) -> Quota | None:
    return read_decision(document, catalog=bundle.catalog, expected_digest=bundle.digest).quota


def test_engine_decision_carries_the_shipped_quota(
    embedded: RegorusEngine, bundle: PolicyBundle
) -> None:
    decision = embedded.decide(SCREENING)
    shipped = bundle.data["quotas"]["purposes"]["payment_screening"]
    assert decision.quota == Quota(
        window_seconds=shipped["window_seconds"],
        partner=shipped["partner"],
        client=shipped["client"],
        enumeration=Enumeration(
            min_distinct=shipped["enumeration"]["min_distinct"],
            max_hit_ratio=shipped["enumeration"]["max_hit_ratio"],
        ),
    )
    assert decision_json(decision)["quota"]["partner"] == shipped["partner"]


def test_unmetered_action_has_no_quota(embedded: RegorusEngine) -> None:
    request = DecisionRequest(
        action=Action.FEEDBACK_SUBMIT,
        partner_id="bank-a",
        purpose="payment_screening",
        legal_basis="art6_1_c",
    )
    decision = embedded.decide(request)
    assert decision.allow
    assert decision.quota is None
    assert "quota" not in decision_json(decision)


def test_detection_can_be_off(allowed: dict[str, Any], bundle: PolicyBundle) -> None:
    document = {**allowed, "quota": {**allowed["quota"], "enumeration": None}}
    quota = read(document, bundle)
    assert quota is not None
    assert quota.enumeration is None


@pytest.mark.parametrize(
    "change",
    [
        {"window_seconds": 0},
        {"partner": -1},
        {"client": "many"},
        {"client": True},
        {"client": 10**9},
        {"enumeration": {"min_distinct": 10, "max_hit_ratio": 1.5}},
        {"enumeration": {"min_distinct": 0, "max_hit_ratio": 0.1}},
        {"enumeration": "on"},
    ],
)
def test_malformed_quota_fails_closed(
    change: dict[str, Any], allowed: dict[str, Any], bundle: PolicyBundle
) -> None:
    document = {**allowed, "quota": {**allowed["quota"], **change}}
    with pytest.raises(MalformedDecisionError, match="quota"):
        read(document, bundle)


@given(value=st.integers() | st.floats(allow_nan=False) | st.text() | st.none())
def test_quota_limits_are_positive_integers(
    value: object, allowed: dict[str, Any], bundle: PolicyBundle
) -> None:
    document = {**allowed, "quota": {**allowed["quota"], "partner": value, "client": 1}}
    try:
        quota = read(document, bundle)
    except MalformedDecisionError:
        assert not (isinstance(value, int) and value >= 1)
        return
    assert quota is not None
    assert isinstance(value, int)
    assert quota.partner == value >= 1
