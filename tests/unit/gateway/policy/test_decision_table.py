"""The decision table on every engine: the embedded engine and OPA (via the STAND-IN)."""

from __future__ import annotations

import pytest

from gateway.policy.bundle import PolicyBundle
from gateway.policy.decision import Action, PolicyEngine
from gateway.policy.table import TableCase, load_table, run_table

CASES = load_table()


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 40


def test_table_covers_every_purpose_sector_and_action(bundle: PolicyBundle) -> None:
    partners = bundle.data["partners"]
    purposes = {case.request.purpose for case in CASES}
    sectors = {
        partners[c.request.partner_id]["sector"] for c in CASES if c.request.partner_id in partners
    }
    actions = {case.request.action for case in CASES}
    assert set(bundle.data["purposes"]) <= purposes
    assert set(bundle.data["sectors"]) <= sectors
    assert set(Action) <= actions


def test_table_covers_every_deny_rule(bundle: PolicyBundle) -> None:
    """Every legal-basis, minimisation and partner rule is exercised by some table case."""
    emitted = set().union(*(case.reasons for case in CASES if not case.allow))
    must = {
        "partner-unknown",
        "partner-suspended",
        "purpose-not-registered",
        "instrument-expired",
        "purpose-unknown",
        "action-not-allowed-for-purpose",
        "sector-not-permitted-for-purpose",
        "legal-basis-missing",
        "legal-basis-unknown",
        "legal-basis-mismatch",
        "art10-permit-missing",
        "kind-not-allowed-for-purpose",
        "kind-not-allowed-for-sector",
        "category-unknown",
        "category-not-allowed-for-purpose",
        "batch-size-exceeded",
        "batch-size-invalid",
        "reporter-identity-not-permitted",
        "disclosure-level-not-permitted",
    }
    assert must <= emitted, sorted(must - emitted)
    assert any(c.allow and "corroboration" in c.extra for c in CASES)


def test_every_scenario_is_played() -> None:
    scenarios = {case.scenario for case in CASES if case.scenario}
    assert scenarios == {str(n) for n in range(1, 11)}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_on_every_engine(engine: PolicyEngine, case: TableCase) -> None:
    (result,) = run_table(engine, [case])
    assert result.passed, result.problems
    assert result.decision.policy_digest == engine.digest


def test_reason_texts_come_from_metadata(engine: PolicyEngine, bundle: PolicyBundle) -> None:
    for result in run_table(engine, CASES):
        for reason in result.decision.reasons:
            entry = bundle.catalog.entries[reason.code].reason
            assert (reason.text_en, reason.text_nl) == (entry.text_en, entry.text_nl)
            assert reason.basis[: len(entry.basis)] == entry.basis
