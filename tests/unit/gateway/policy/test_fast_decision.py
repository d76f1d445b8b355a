"""The per-request entry point (gateway.fast) decides exactly as the full composition.

``data.gateway.fast.decision`` reads the decision generated at bundle load for the request's
(partner, purpose, action, basis) and checks only the request's own inputs; these tests
compare it with ``data.gateway.decision.decision`` over every generated key and many request
variants, on the shipped bundle and on one whose data makes every request-dependent refusal
reachable (a suppressed token, a v2 minimum, an instrument expired and one not yet in force).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import regorus

from gateway.policy.bundle import (
    DECISION_RULE,
    FAST_DECISION_RULE,
    PolicyBundle,
    generated_data,
    load_bundle,
    write_bundle,
)
from gateway.policy.regorus_engine import RegorusEngine, evaluate_json, new_engine
from tests.unit.gateway.policy.conftest import copy_policies

SUPPRESSED = "c3VwcHJlc3NlZA"

VARIANTS: tuple[dict[str, Any], ...] = (
    {},
    {"kinds": ["iban"]},
    {"kinds": ["phone", "email"]},
    {"kinds": ["not-a-kind"]},
    {"categories": ["phishing"]},
    {"categories": ["phishing", "spoofing"]},
    {"categories": ["not-a-category"]},
    {"batch_size": 0},
    {"batch_size": 10**9},
    {"batch_size": "many"},
    {"context": {"partner_status": "suspended"}},
    {"context": {"partner_sector": "telecom"}},
    {"context": {"tokens": [SUPPRESSED, "other"]}},
    {"context": {"tokens": ["other"]}},
    {"context": {"target_partner": "bank-b"}},
    {"context": {"request_type": "halt_payment"}},
    {"context": {"request_type": "share_details"}},
    {"context": {"request_type": "not-a-type"}},
    {"disclosure_requested": ["reporter"]},
    {"disclosure_requested": ["hit", "count"]},
    {"disclosure_requested": ["dates"]},
    {"specs": {"phone": ["v1"]}, "kinds": ["phone"]},
    {"specs": {"phone": ["v2"]}, "kinds": ["phone"]},
    {"kinds": ["phone"], "categories": ["spoofing"], "context": {"partner_status": "active"}},
)


def _base(partner: str, purpose: str, action: str, basis: str | None) -> dict[str, Any]:
    return {
        "action": action,
        "partner_id": partner,
        "purpose": purpose,
        "legal_basis": basis,
        "kinds": [],
        "specs": {},
        "categories": [],
        "batch_size": 1,
        "disclosure_requested": [],
        "context": {},
    }


def _inputs(bundle: PolicyBundle) -> list[dict[str, Any]]:
    generated = generated_data(bundle)
    assert generated is not None
    keys = [
        (partner, purpose, action, basis)
        for partner, purposes in generated["decisions"].items()
        for purpose, actions in purposes.items()
        for action, bases in actions.items()
        for basis in bases
    ]
    inputs = [dict(_base(*key), **variant) for key in keys for variant in VARIANTS]
    # Keys without a generated decision: another or no basis, dispute filings, strangers.
    for partner, purpose, action, basis in keys[::7]:
        inputs.append(_base(partner, purpose, action, "art6_1_a" if basis != "art6_1_a" else None))
    inputs.append(_base("bank-a", "dispute_handling", "dispute:file", "art6_1_c"))
    inputs.append(
        dict(
            _base("bank-a", "dispute_handling", "dispute:file", "art6_1_c"),
            context={"watching": True},
        )
    )
    inputs.append(_base("stranger", "payment_screening", "match:query", "art6_1_c"))
    return inputs


def _assert_same(bundle: PolicyBundle) -> int:
    engine = new_engine(bundle)
    allowed = 0
    for document in _inputs(bundle):
        payload = json.dumps(document)
        fast = evaluate_json(engine, FAST_DECISION_RULE, payload)
        full = evaluate_json(engine, DECISION_RULE, payload)
        assert fast == full, document
        allowed += full["allow"] is True
    return allowed


def test_fast_decisions_equal_the_full_composition(bundle: PolicyBundle) -> None:
    assert _assert_same(bundle) > 100  # many allowed decisions, not only denials


def test_every_request_dependent_refusal_is_reached(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    suppression = json.loads((root / "data/suppression.json").read_text())
    suppression["tokens"] = [SUPPRESSED]
    (root / "data/suppression.json").write_text(json.dumps(suppression))
    specs = json.loads((root / "data/specs.json").read_text())
    specs["minimum"] = {"phone": "v2"}
    (root / "data/specs.json").write_text(json.dumps(specs))
    instruments = json.loads((root / "data/instruments.json").read_text())
    instruments["wwft"]["valid_from"] = "2199-01-01T00:00:00Z"
    (root / "data/instruments.json").write_text(json.dumps(instruments))
    bundle = load_bundle(root)
    _assert_same(bundle)
    engine = new_engine(bundle)
    reasons: set[str] = set()
    for document in _inputs(bundle):
        reasons.update(evaluate_json(engine, FAST_DECISION_RULE, json.dumps(document))["reasons"])
    for code in (
        "identifier-suppressed",
        "spec-too-weak",
        "instrument-expired",
        "instrument-not-yet-valid",
        "partner-suspended",
        "partner-sector-mismatch",
        "audit-scope-exceeded",
        "kind-not-allowed-for-purpose",
        "kind-not-allowed-for-sector",
        "category-unknown",
        "category-not-allowed-for-purpose",
        "batch-size-exceeded",
        "batch-size-invalid",
        "reporter-identity-not-permitted",
        "disclosure-level-not-permitted",
    ):
        assert code in reasons


@pytest.mark.parametrize(
    "now", ["2025-01-01T00:00:00Z", "2031-01-01T00:00:00Z", "2040-01-01T00:00:00Z"]
)
def test_instrument_dates_are_checked_against_the_clock(bundle: PolicyBundle, now: str) -> None:
    seen = _dated(bundle, now)
    expected = {
        "2025-01-01T00:00:00Z": {("instrument-not-yet-valid",)},
        "2031-01-01T00:00:00Z": {("instrument-expired",), ("allow",)},
        "2040-01-01T00:00:00Z": {("instrument-expired",)},
    }
    assert seen == expected[now]


def _dated(bundle: PolicyBundle, now: str) -> set[tuple[str, ...]]:
    """Decisions of two registrations at ``now`` (fast == full asserted), by their reasons."""
    seen: set[tuple[str, ...]] = set()
    engine = new_engine(bundle)
    at = f'time.parse_rfc3339_ns("{now}")'
    for partner, purpose in (("bank-a", "psr_fraud_sharing"), ("bank-a", "payment_screening")):
        document = _base(partner, purpose, "match:query", None)
        document["legal_basis"] = "art6_1_f" if purpose == "psr_fraud_sharing" else "art6_1_c"
        engine.set_input_json(json.dumps(document))
        answers = [
            json.loads(engine.eval_query_as_json(f"x := {rule} with time.now_ns as {at}"))
            for rule in (FAST_DECISION_RULE, DECISION_RULE)
        ]
        fast, full = (answer["result"][0]["bindings"]["x"] for answer in answers)
        assert fast == full
        seen.add(tuple(full["reasons"]) if not full["allow"] else ("allow",))
    return seen


def test_the_screening_request_takes_the_one_body_path(bundle: PolicyBundle) -> None:
    engine = new_engine(bundle)
    payload = json.dumps(_base("bank-a", "payment_screening", "match:query", "art6_1_c"))
    plain = evaluate_json(engine, "data.gateway.fast.plain_decision", payload)
    assert plain is not None
    assert plain["allow"] is True
    assert plain == evaluate_json(engine, DECISION_RULE, payload)


def test_generated_data_of_another_digest_is_not_used(bundle: PolicyBundle) -> None:
    stale = bundle.engine_data()
    generated = stale["ppsgate"]["generated"]
    generated["digest"] = "0" * 64
    # A stale entry that would allow a suspended partner's request if it were read.
    entry = generated["decisions"]["bank-a"]["payment_screening"]["match:query"]["art6_1_c"]
    generated["decisions"].setdefault("psp-b", {})["payment_screening"] = {
        "match:query": {"art6_1_c": entry}
    }
    engine = regorus.Engine()
    for module in bundle.policy_modules:
        engine.add_policy(module.path, module.text)
    engine.add_data_json(json.dumps(stale))
    payload = json.dumps(_base("psp-b", "payment_screening", "match:query", "art6_1_c"))
    fast = evaluate_json(engine, FAST_DECISION_RULE, payload)
    assert fast == evaluate_json(engine, DECISION_RULE, payload)
    assert fast["allow"] is False


def test_each_bundle_carries_data_generated_from_itself(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    partners = json.loads((root / "data/partners.json").read_text())
    partners["bank-a"]["status"] = "suspended"
    (root / "data/partners.json").write_text(json.dumps(partners))
    changed = load_bundle(root)
    generated = changed.engine_data()["ppsgate"]["generated"]
    assert generated["digest"] == changed.digest
    assert "bank-a" not in generated["decisions"]
    assert RegorusEngine(changed).bundle is changed


def test_a_bundle_without_the_fast_packages_is_evaluated_in_full(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    for package in ("fast", "generate"):
        for path in (root / "gateway" / package).iterdir():
            path.unlink()
        (root / "gateway" / package).rmdir()
    old = load_bundle(root)
    assert old.decision_rule == DECISION_RULE
    assert "generated" not in old.engine_data()["ppsgate"]
    payload = _base("bank-a", "payment_screening", "match:query", "art6_1_c")
    assert RegorusEngine(old).evaluate(DECISION_RULE, payload)["allow"] is True


def test_an_opa_bundle_ships_generated_data_but_never_reads_it_back(
    bundle: PolicyBundle, tmp_path: Path
) -> None:
    out = write_bundle(bundle, tmp_path / "bundle")
    document = json.loads((out / "data.json").read_text())
    shipped = document["ppsgate"]["generated"]
    assert shipped["digest"] == bundle.digest
    # Tampered generated data in a data.json is ignored: the bundle generates its own.
    shipped["decisions"]["psp-b"] = shipped["decisions"]["bank-a"]
    (out / "data.json").write_text(json.dumps(document))
    reread = load_bundle(out)
    assert reread.digest == bundle.digest
    assert "psp-b" not in reread.engine_data()["ppsgate"]["generated"]["decisions"]
