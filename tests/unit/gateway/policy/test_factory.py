"""build_policy_engine picks the engine from the settings."""

from __future__ import annotations

from pathlib import Path

from gateway.config import Settings
from gateway.policy import ENGINE_UNAVAILABLE, Action, DecisionRequest, build_policy_engine
from gateway.policy.opa_engine import OpaServerEngine
from gateway.policy.opa_standin import StandInServer
from gateway.policy.regorus_engine import RegorusEngine

REQUEST = DecisionRequest(
    action=Action.MATCH_QUERY,
    partner_id="bank-a",
    purpose="payment_screening",
    legal_basis="art6_1_c",
    kinds=("iban",),
)


def test_embedded_by_default(tmp_path: Path) -> None:
    engine = build_policy_engine(Settings(data_dir=tmp_path, opa_url=""))
    assert isinstance(engine, RegorusEngine)
    assert engine.decide(REQUEST).allow is True


def test_opa_when_url_set_uses_standin(standin: StandInServer, tmp_path: Path) -> None:
    engine = build_policy_engine(Settings(data_dir=tmp_path, opa_url=standin.url))
    assert isinstance(engine, OpaServerEngine)
    assert engine.decide(REQUEST).allow is True


def test_broken_policy_dir_denies_instead_of_raising(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, policy_dir=tmp_path / "absent", opa_url="")
    decision = build_policy_engine(settings).decide(REQUEST)
    assert decision.reason_codes == (ENGINE_UNAVAILABLE,)
    assert decision.reasons[0].text_nl
