"""The Rego test runner behind `ppsgate policy test`."""

from __future__ import annotations

from pathlib import Path

from gateway.policy.bundle import PolicyBundle, load_bundle
from gateway.policy.rego_tests import Outcome, discover, embedded_evaluator, run_tests
from tests.unit.gateway.policy.conftest import copy_policies


def test_discovers_every_test_rule(bundle: PolicyBundle) -> None:
    tests = discover(bundle)
    packages = {test.package for test in tests}
    assert packages == {
        f"gateway.{area}_test"
        for area in (
            "decision",
            "disclosure",
            "disputes",
            "fast",
            "generate",
            "legal",
            "minimisation",
            "partners",
            "purposes",
            "quotas",
            "retention",
            "specs",
            "suppression",
        )
    }
    assert len(tests) >= 100
    first = tests[0]
    assert first.rule.startswith("data.gateway.")
    assert first.line > 1


def test_shipped_tests_pass_on_the_embedded_engine(bundle: PolicyBundle) -> None:
    results = run_tests(discover(bundle), embedded_evaluator(bundle))
    assert [r.test.name for r in results if r.outcome is not Outcome.PASSED] == []


def test_failing_and_erroring_tests_are_reported(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    extra = root / "gateway" / "purposes" / "purposes_test.rego"
    extra.write_text(
        extra.read_text()
        + "\ntest_wrong if data.gateway.purposes.purpose.max_batch == 12345"
        + ' with input as {"purpose": "payment_screening"}\n'
        + '\ntest_broken if time.parse_rfc3339_ns("yesterday") > 0\n'
    )
    bundle = load_bundle(root)
    results = {r.test.name: r for r in run_tests(discover(bundle), embedded_evaluator(bundle))}
    assert results["test_wrong"].outcome is Outcome.FAILED
    assert results["test_broken"].outcome is Outcome.ERROR
    assert "datetime" in results["test_broken"].detail
    assert results["test_unknown_purpose_denied"].outcome is Outcome.PASSED
