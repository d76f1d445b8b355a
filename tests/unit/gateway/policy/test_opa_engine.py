"""OpaServerEngine against the OPA STAND-IN: the HTTP path and its fail-closed handling."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.errors import ConfigurationError
from gateway.policy.bundle import PolicyBundle, load_bundle
from gateway.policy.decision import ENGINE_UNAVAILABLE, Action, DecisionRequest
from gateway.policy.opa_engine import OpaServerEngine, parse_opa_url
from gateway.policy.opa_standin import StandInServer, StandInState, running_standin
from gateway.policy.rego_tests import Outcome, discover, run_tests
from tests.unit.gateway.policy.conftest import copy_policies

SCREEN = DecisionRequest(
    action=Action.MATCH_QUERY,
    partner_id="bank-a",
    purpose="payment_screening",
    legal_basis="art6_1_c",
    kinds=("iban",),
)
SUSPENDED = DecisionRequest(
    action=Action.MATCH_QUERY,
    partner_id="psp-b",
    purpose="payment_screening",
    legal_basis="art6_1_c",
    kinds=("iban",),
)


def _assert_fail_closed(engine: OpaServerEngine) -> None:
    for request in (SCREEN, SUSPENDED):
        decision = engine.decide(request)
        assert decision.allow is False
        assert decision.reason_codes == (ENGINE_UNAVAILABLE,)
        assert decision.disclosure == frozenset()


@pytest.fixture
def private_standin(bundle: PolicyBundle) -> Iterator[StandInServer]:
    """A STAND-IN of this test's own, so it can be slowed down or stopped."""
    with running_standin(StandInState.from_bundle(bundle)) as server:
        yield server


def test_standin_decides_like_embedded(opa_engine: OpaServerEngine, bundle: PolicyBundle) -> None:
    decision = opa_engine.decide(SCREEN)
    assert decision.allow is True
    assert decision.policy_digest == bundle.digest == opa_engine.digest
    assert opa_engine.decide(SUSPENDED).reason_codes == ("partner-suspended",)


def test_standin_stopped_denies_everything(private_standin: StandInServer) -> None:
    engine = OpaServerEngine(private_standin.url, timeout_seconds=1.0)
    assert engine.decide(SCREEN).allow is True
    private_standin.stop()
    _assert_fail_closed(engine)


def test_engine_started_before_standin_recovers(bundle: PolicyBundle) -> None:
    with running_standin(StandInState.from_bundle(bundle)) as server:
        url = server.url
    engine = OpaServerEngine(url, timeout_seconds=0.5)  # nothing listens: catalog unknown
    assert engine.digest == "unavailable"
    _assert_fail_closed(engine)


def test_standin_timeout_denies(private_standin: StandInServer) -> None:
    engine = OpaServerEngine(private_standin.url, timeout_seconds=0.2)
    private_standin.state.delay_seconds = 0.6
    _assert_fail_closed(engine)
    private_standin.state.delay_seconds = 0.0
    assert engine.decide(SCREEN).allow is True


def test_standin_broken_bundle_denies(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    rego = root / "gateway" / "partners" / "partners.rego"
    rego.write_text(rego.read_text() + "\nthis is not rego\n")
    with running_standin(StandInState.from_bundle(load_bundle(root))) as server:
        engine = OpaServerEngine(server.url, timeout_seconds=1.0)
        _assert_fail_closed(engine)


def test_standin_without_bundle_answers_undefined_and_denies() -> None:
    with running_standin(StandInState()) as server:
        engine = OpaServerEngine(server.url, timeout_seconds=1.0)
        assert engine.evaluate("data.gateway.decision.decision", {}) is None
        _assert_fail_closed(engine)


def test_standin_evaluation_error_denies(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    instruments = root / "data" / "instruments.json"
    instruments.write_text(instruments.read_text().replace("2008-08-01T00:00:00Z", "not a time"))
    with running_standin(StandInState.from_bundle(load_bundle(root))) as server:
        _assert_fail_closed(OpaServerEngine(server.url, timeout_seconds=1.0))


def test_standin_malformed_result_denies(tmp_path: Path) -> None:
    root = copy_policies(tmp_path)
    rego = root / "gateway" / "decision" / "decision.rego"
    rego.write_text(rego.read_text().replace('"allow": allow,', '"allow": 1,'))
    with running_standin(StandInState.from_bundle(load_bundle(root))) as server:
        _assert_fail_closed(OpaServerEngine(server.url, timeout_seconds=1.0))


def test_standin_digest_change_refreshes_catalog(private_standin: StandInServer) -> None:
    engine = OpaServerEngine(private_standin.url, timeout_seconds=1.0)
    before = engine.digest
    document = private_standin.state.data["ppsgate"]
    document["bundle"] = {**document["bundle"], "digest": "f" * 64}
    private_standin.state.invalidate()
    decision = engine.decide(SCREEN)
    assert decision.allow is True
    assert decision.policy_digest == engine.digest == "f" * 64 != before


def test_policy_tests_through_standin(opa_engine: OpaServerEngine, bundle: PolicyBundle) -> None:
    """The Rego tests (which use `with` throughout) run through the OPA path too."""
    results = run_tests(discover(bundle), opa_engine.evaluate)
    assert results
    assert [r for r in results if r.outcome is not Outcome.PASSED] == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8181", ("127.0.0.1", 8181, False)),
        ("http://opa", ("opa", 8181, False)),
        ("https://opa.internal", ("opa.internal", 443, True)),
        ("http://localhost:9000/", ("localhost", 9000, False)),
    ],
)
def test_opa_url_parsing(url: str, expected: tuple[str, int, bool]) -> None:
    assert parse_opa_url(url) == expected


@pytest.mark.parametrize("url", ["opa:8181", "ftp://opa", "http://opa/v1/data", "http://opa:x"])
def test_bad_opa_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        OpaServerEngine(url)
    assert info.value.field == "PPSGATE_OPA_URL"
