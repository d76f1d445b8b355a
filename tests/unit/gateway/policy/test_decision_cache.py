"""The worker's decision cache: identical requests reuse a decision briefly, nothing else does."""

from __future__ import annotations

import time
from dataclasses import replace

from gateway.policy.active import SwitchableEngine
from gateway.policy.bundle import PolicyBundle
from gateway.policy.decision import (
    ENGINE_UNAVAILABLE,
    Action,
    Decision,
    DecisionRequest,
)
from gateway.policy.regorus_engine import RegorusEngine

SCREEN = DecisionRequest(
    action=Action.MATCH_QUERY,
    partner_id="bank-a",
    purpose="payment_screening",
    legal_basis="art6_1_c",
    kinds=("iban",),
)


class Counting(RegorusEngine):
    """The embedded engine, counting the evaluations that reached it."""

    calls = 0

    def decide(self, request: DecisionRequest) -> Decision:
        self.calls += 1
        return super().decide(request)


def test_identical_requests_reuse_the_decision_within_the_window(bundle: PolicyBundle) -> None:
    counting = Counting(bundle)
    engine = SwitchableEngine(counting, timeout_seconds=1.0, pinned=True, cache_seconds=0.2)
    first = engine.decide(SCREEN)
    assert first.allow
    assert engine.decide(SCREEN) == first
    assert counting.calls == 1
    # Any difference in the request is another question.
    other = engine.decide(replace(SCREEN, legal_basis="art6_1_f"))
    assert counting.calls == 2
    assert other.allow != first.allow or other.reason_codes != first.reason_codes
    assert engine.decide(replace(SCREEN, context={"partner_status": "suspended"})).allow is False
    assert counting.calls == 3
    # After the window the engine is asked again.
    time.sleep(0.25)
    assert engine.decide(SCREEN) == first
    assert counting.calls == 4


def test_fail_closed_answers_are_never_reused() -> None:
    broken = Counting(None, problem="no bundle for this test")
    engine = SwitchableEngine(broken, timeout_seconds=1.0, pinned=True, cache_seconds=60)
    for _ in range(3):
        assert engine.decide(SCREEN).reason_codes == (ENGINE_UNAVAILABLE,)
    assert broken.calls == 3


def test_zero_seconds_decides_every_request(bundle: PolicyBundle) -> None:
    counting = Counting(bundle)
    engine = SwitchableEngine(counting, timeout_seconds=1.0, pinned=True, cache_seconds=0)
    engine.decide(SCREEN)
    engine.decide(SCREEN)
    assert counting.calls == 2


def test_an_opa_server_is_asked_every_time(bundle: PolicyBundle) -> None:
    # Fail closed: a stopped OPA server must deny the next request, not a second later.
    class Remote:
        calls = 0
        digest = bundle.digest

        def decide(self, request: DecisionRequest) -> Decision:
            self.calls += 1
            return RegorusEngine(bundle).decide(request)

    remote = Remote()
    engine = SwitchableEngine(remote, timeout_seconds=1.0, pinned=True, cache_seconds=60)  # type: ignore[arg-type]
    engine.decide(SCREEN)
    engine.decide(SCREEN)
    assert remote.calls == 2
