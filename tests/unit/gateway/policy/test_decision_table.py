"""The decision table on every engine: the embedded engine and OPA (via the STAND-IN)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.policy.bundle import PolicyBundle, default_policy_dir, load_bundle
from gateway.policy.decision import Action, PolicyEngine
from gateway.policy.opa_engine import OpaServerEngine
from gateway.policy.opa_standin import StandInState, start_standin
from gateway.policy.regorus_engine import RegorusEngine
from gateway.policy.table import TableCase, load_table, run_table
from tests.unit.gateway.policy.conftest import ENGINE_KINDS, copy_policies

CASES = load_table()
# A deployment that requires hashing spec v2 for phone numbers: its table names the data it
# lays over the shipped files (the shipped specs.json requires nothing).
SPECS_TABLE = default_policy_dir() / "decision_table_specs.json"
SPECS_CASES = load_table(SPECS_TABLE)
SPECS_DATA: dict[str, Any] = json.loads(SPECS_TABLE.read_text(encoding="utf-8"))["data"]
# A partnership that has not switched the EU PSR profile on.
PROFILES_TABLE = default_policy_dir() / "decision_table_profiles.json"
PROFILES_CASES = load_table(PROFILES_TABLE)
PROFILES_DATA: dict[str, Any] = json.loads(PROFILES_TABLE.read_text(encoding="utf-8"))["data"]


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
        "request-type-not-allowed-for-purpose",
    }
    assert must <= emitted, sorted(must - emitted)
    assert any(c.allow and "corroboration" in c.extra for c in CASES)


def test_every_scenario_is_played() -> None:
    scenarios = {case.scenario for case in CASES if case.scenario}
    assert scenarios == {str(n) for n in range(1, 14)}


def test_table_covers_victim_and_evidence_thresholds() -> None:
    """The PSR's distinct-victims rule and an evidence minimum are both decided by the table."""
    thresholds = [case.extra.get("corroboration") or {} for case in CASES if case.allow]
    assert any(t.get("min_victims_one_reporter") == 2 for t in thresholds)
    assert any(t.get("min_evidence") == "police_report" for t in thresholds)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_on_every_engine(engine: PolicyEngine, case: TableCase) -> None:
    (result,) = run_table(engine, [case])
    assert result.passed, result.problems
    assert result.decision.policy_digest == engine.digest


def _overlaid_bundle(root: Path, overlay: dict[str, Any]) -> PolicyBundle:
    """The shipped policies with ``overlay``'s top-level keys laid over their data files."""
    for name, document in overlay.items():
        path: Path = root / "data" / f"{name}.json"
        shipped = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**shipped, **document}), encoding="utf-8")
    return load_bundle(root)


def _engine_for(kind: str, bundle: PolicyBundle) -> Iterator[PolicyEngine]:
    if kind == "embedded":
        yield RegorusEngine(bundle)
        return
    server = start_standin(StandInState.from_bundle(bundle))
    try:
        yield OpaServerEngine(server.url, timeout_seconds=2.0)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def specs_bundle(tmp_path_factory: pytest.TempPathFactory) -> PolicyBundle:
    return _overlaid_bundle(copy_policies(tmp_path_factory.mktemp("specs-policies")), SPECS_DATA)


@pytest.fixture(scope="module", params=ENGINE_KINDS)
def specs_engine(
    request: pytest.FixtureRequest, specs_bundle: PolicyBundle
) -> Iterator[PolicyEngine]:
    """The v2-for-phone deployment on each engine: embedded, then OPA via the STAND-IN."""
    yield from _engine_for(request.param, specs_bundle)


@pytest.fixture(scope="module", params=ENGINE_KINDS)
def profiles_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PolicyEngine]:
    """A partnership without the PSR profile, on each engine."""
    root = copy_policies(tmp_path_factory.mktemp("profiles-policies"))
    yield from _engine_for(request.param, _overlaid_bundle(root, PROFILES_DATA))


def test_profiles_table_switches_the_psr_profile_off() -> None:
    assert PROFILES_DATA == {"profiles": {"enabled": ["base"]}}
    assert "profile-not-enabled" in set().union(*(c.reasons for c in PROFILES_CASES))
    assert any(c.allow for c in PROFILES_CASES)


@pytest.mark.parametrize("case", PROFILES_CASES, ids=[case.name for case in PROFILES_CASES])
def test_profiles_case_on_every_engine(profiles_engine: PolicyEngine, case: TableCase) -> None:
    (result,) = run_table(profiles_engine, [case])
    assert result.passed, result.problems


def test_specs_table_covers_the_spec_rule_both_ways() -> None:
    assert "spec-too-weak" in set().union(*(c.reasons for c in SPECS_CASES if not c.allow))
    assert any(c.allow and ("phone", "v2") in c.request.specs for c in SPECS_CASES)
    assert SPECS_DATA == {"specs": {"minimum": {"phone": "v2"}}}


def test_shipped_table_has_v2_cases_that_the_empty_minimum_allows() -> None:
    assert any(c.allow and ("phone", "v2") in c.request.specs for c in CASES)


@pytest.mark.parametrize("case", SPECS_CASES, ids=[case.name for case in SPECS_CASES])
def test_specs_case_on_every_engine(specs_engine: PolicyEngine, case: TableCase) -> None:
    (result,) = run_table(specs_engine, [case])
    assert result.passed, result.problems
    assert result.decision.policy_digest == specs_engine.digest


def test_reason_texts_come_from_metadata(engine: PolicyEngine, bundle: PolicyBundle) -> None:
    for result in run_table(engine, CASES):
        for reason in result.decision.reasons:
            entry = bundle.catalog.entries[reason.code].reason
            assert (reason.text_en, reason.text_nl) == (entry.text_en, entry.text_nl)
            assert reason.basis[: len(entry.basis)] == entry.basis
