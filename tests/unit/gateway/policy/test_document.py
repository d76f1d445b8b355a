"""Reading decision documents: only a literal true allows, anything odd fails closed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.policy.bundle import PolicyBundle
from gateway.policy.decision import Action, DecisionRequest, Disclosure
from gateway.policy.document import (
    MalformedDecisionError,
    decision_json,
    read_decision,
    request_input,
)
from gateway.policy.regorus_engine import RegorusEngine

REQUEST = DecisionRequest(
    action=Action.MATCH_QUERY,
    partner_id="bank-a",
    purpose="payment_screening",
    legal_basis="art6_1_c",
    kinds=("iban",),
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def allowed(embedded: RegorusEngine) -> dict[str, Any]:
    """A genuine allow document from the engine, to be mutated."""
    result = embedded.evaluate("data.gateway.decision.decision", request_input(REQUEST))
    assert result["allow"] is True
    return dict(result)


@given(value=json_values)
def test_only_literal_true_allows(
    value: object, allowed: dict[str, Any], bundle: PolicyBundle
) -> None:
    document = {**allowed, "allow": value}
    try:
        decision = read_decision(document, catalog=bundle.catalog, expected_digest=bundle.digest)
    except MalformedDecisionError:
        return
    assert decision.allow is (value is True)
    assert value is True or value is False


@given(value=json_values)
def test_undefined_or_non_object_is_malformed(value: object, bundle: PolicyBundle) -> None:
    if isinstance(value, dict):
        value = {**value, "allow": "yes"}
    with pytest.raises(MalformedDecisionError):
        read_decision(value, catalog=bundle.catalog, expected_digest=bundle.digest)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("reasons", []),
        ("reasons", ["no-such-code"]),
        ("reasons", "legal-basis-valid"),
        ("reasons", ["engine-unavailable"]),
        ("disclosure", ["everything"]),
        ("disclosure", "hit"),
        ("retention_days", -1),
        ("retention_days", "30"),
        ("retention_days", True),
        ("corroboration", {"min_reports": 1, "min_reporters": 2}),
        ("corroboration", {"min_reports": 0, "min_reporters": 0}),
        ("obligations", "apply-corroboration"),
        ("policy_digest", "abc"),
        ("policy_digest", "0" * 64),
        ("refs", ["x"]),
    ],
)
def test_malformed_fields_are_refused(
    key: str, value: object, allowed: dict[str, Any], bundle: PolicyBundle
) -> None:
    document = copy.deepcopy(allowed)
    document[key] = value
    with pytest.raises(MalformedDecisionError):
        read_decision(document, catalog=bundle.catalog, expected_digest=bundle.digest)


def test_input_never_carries_more_than_the_request() -> None:
    request = DecisionRequest(
        action=Action.MATCH_QUERY,
        partner_id="bank-a",
        purpose="payment_screening",
        legal_basis=None,
        context={"partner_status": "active", "odd": object(), "levels": {Disclosure.HIT}},
        disclosure_requested=frozenset({Disclosure.REPORTER, Disclosure.COUNT}),
    )
    document = request_input(request)
    assert document["legal_basis"] is None
    assert document["disclosure_requested"] == ["count", "reporter"]
    assert document["context"]["levels"] == ["hit"]
    assert isinstance(document["context"]["odd"], str)
    assert set(document) == {
        "action",
        "partner_id",
        "purpose",
        "legal_basis",
        "kinds",
        "specs",
        "categories",
        "batch_size",
        "disclosure_requested",
        "context",
    }
    assert document["specs"] == {}


def test_input_lists_each_kinds_specs_sorted() -> None:
    request = DecisionRequest(
        action=Action.MATCH_QUERY,
        partner_id="bank-a",
        purpose="payment_screening",
        legal_basis=None,
        kinds=("iban", "phone"),
        specs=(("phone", "v2"), ("iban", "v1"), ("phone", "v1"), ("phone", "v2")),
    )
    assert request_input(request)["specs"] == {"iban": ["v1"], "phone": ["v1", "v2"]}


def test_decision_json_lists_levels_in_disclosure_order(embedded: RegorusEngine) -> None:
    body = decision_json(embedded.decide(REQUEST), REQUEST)
    assert body["disclosure"] == ["hit", "count", "category"]
    assert body["request"]["purpose"] == "payment_screening"
    assert {"code", "text_en", "text_nl", "basis"} == set(body["reasons"][0])


def test_retention_for_a_category(embedded: RegorusEngine) -> None:
    decision = embedded.decide(
        DecisionRequest(
            action=Action.INDICATORS_SUBMIT,
            partner_id="bank-a",
            purpose="indicator_submission",
            legal_basis="art6_1_f",
            kinds=("iban",),
            categories=("money_mule", "phishing"),
        )
    )
    assert decision.retention_days == 180
    assert decision.retention_for("money_mule") == 365
    assert decision.retention_for("phishing") == 180
    assert decision.retention_for("spoofing") is None
