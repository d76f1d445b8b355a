"""The embedded engine: reuse, threads, and every way it must fail closed."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gateway.policy.bundle import PolicyBundle, load_bundle
from gateway.policy.decision import ENGINE_UNAVAILABLE, Action, DecisionRequest, Disclosure
from gateway.policy.rego_tests import embedded_evaluator
from gateway.policy.regorus_engine import RegorusEngine
from tests.unit.gateway.policy.conftest import copy_policies

SCREEN = DecisionRequest(
    action=Action.MATCH_QUERY,
    partner_id="bank-a",
    purpose="payment_screening",
    legal_basis="art6_1_c",
    kinds=("iban",),
)
SWITCHED = DecisionRequest(
    action=Action.MATCH_QUERY,
    partner_id="bank-a",
    purpose="payment_screening",
    legal_basis="art6_1_f",
    kinds=("iban",),
)


def _assert_fail_closed(engine: RegorusEngine) -> None:
    for request in (SCREEN, SWITCHED):
        decision = engine.decide(request)
        assert decision.allow is False
        assert decision.reason_codes == (ENGINE_UNAVAILABLE,)
        assert decision.disclosure == frozenset()
        assert decision.retention_days is None


def test_allow_and_deny_with_reasons(embedded: RegorusEngine) -> None:
    allowed = embedded.decide(SCREEN)
    assert allowed.allow is True
    assert allowed.disclosure == {Disclosure.HIT, Disclosure.COUNT, Disclosure.CATEGORY}
    assert allowed.corroboration is not None
    assert (allowed.corroboration.min_reports, allowed.corroboration.min_reporters) == (3, 1)
    assert allowed.taxonomy_version == "2026.1"
    denied = embedded.decide(SWITCHED)
    assert denied.allow is False
    assert denied.reason_codes == ("legal-basis-mismatch",)
    assert denied.corroboration is None


def test_engine_is_reused_across_decisions(embedded: RegorusEngine) -> None:
    # Alternating inputs on the same loaded engine must not leak state between decisions.
    for _ in range(3):
        assert embedded.decide(SCREEN).allow is True
        assert embedded.decide(SWITCHED).allow is False


def test_decisions_from_many_threads(bundle: PolicyBundle) -> None:
    """regorus engines are unsendable: each worker thread must get its own engine."""
    engine = RegorusEngine(bundle)
    requests = [SCREEN, SWITCHED] * 20
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda r: engine.decide(r).allow, requests))
    assert outcomes == [True, False] * 20


def test_timeout_denies(bundle: PolicyBundle) -> None:
    engine = RegorusEngine(bundle, timeout_seconds=1e-9)
    _assert_fail_closed(engine)


def test_missing_bundle_denies(tmp_path: Path) -> None:
    engine = RegorusEngine.from_path(tmp_path / "nowhere")
    assert engine.problem is not None
    _assert_fail_closed(engine)
    assert engine.decide(SCREEN).policy_digest == "unavailable"


def test_rego_syntax_error_denies(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    rego = root / "gateway" / "legal" / "legal.rego"
    rego.write_text(rego.read_text() + "\nbroken rule without body {\n")
    engine = RegorusEngine.from_path(root)
    assert engine.problem is not None
    _assert_fail_closed(engine)


def test_evaluation_error_denies(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    instruments = root / "data" / "instruments.json"
    data = json.loads(instruments.read_text())
    data["wwft"]["valid_from"] = "first of August 2008"
    instruments.write_text(json.dumps(data))
    engine = RegorusEngine.from_path(root)
    assert engine.problem is None
    _assert_fail_closed(engine)


def test_malformed_allow_denies(tmp_path: Path) -> None:
    """Only a literal true allows: the string "true" is a malformed decision."""
    root = copy_policies(tmp_path)
    rego = root / "gateway" / "decision" / "decision.rego"
    rego.write_text(rego.read_text().replace('"allow": allow,', '"allow": "true",'))
    _assert_fail_closed(RegorusEngine.from_path(root))


def test_undefined_decision_denies(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    rego = root / "gateway" / "decision" / "decision.rego"
    never = 'decision := {"never": 1} if false\n\nunused := {'
    text = rego.read_text().replace("decision := {", never)
    rego.write_text(text)
    _assert_fail_closed(RegorusEngine.from_path(root))


def test_unknown_reason_code_denies(tmp_path: Path) -> None:
    """A code the catalog does not know (no METADATA) cannot reach a user."""
    root = copy_policies(tmp_path)
    rego = root / "gateway" / "decision" / "decision.rego"
    rego.write_text(rego.read_text().replace('"reasons": reasons,', '"reasons": ["made-up"],'))
    _assert_fail_closed(RegorusEngine.from_path(root))


def test_with_keyword_does_not_crash(bundle: PolicyBundle) -> None:
    """regopy 1.5.2 crashed the process on any `with`; the policy tests rely on it."""
    evaluate = embedded_evaluator(bundle)
    # `with` on input, on data, on a rule and on a built-in function (time.now_ns).
    assert evaluate("data.gateway.partners_test.test_suspended_live_status_denied") is True
    assert evaluate("data.gateway.legal_test.test_legal_obligation_without_law_denied") is True
    assert evaluate("data.gateway.decision_test.test_missing_ground_denies") is True
    assert evaluate("data.gateway.partners_test.test_instrument_not_yet_valid_denied") is True


def test_rfc3339_z_timestamps_parse_and_expire(embedded: RegorusEngine) -> None:
    """regopy returned undefined for times ending in Z, so an expired agreement was allowed."""
    decision = embedded.decide(
        DecisionRequest(
            action=Action.MATCH_QUERY,
            partner_id="bank-b",
            purpose="batch_screening",
            legal_basis="art6_1_f",
            kinds=("iban",),
            batch_size=500,
        )
    )
    assert decision.allow is False
    assert decision.reason_codes == ("instrument-expired",)


def test_digest_matches_bundle(embedded: RegorusEngine) -> None:
    assert embedded.digest == load_bundle().digest
    assert len(embedded.digest) == 64
