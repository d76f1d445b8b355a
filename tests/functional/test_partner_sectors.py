"""The partner registry cannot contradict the policy data about a partner's sector.

Sectors come from the policy data (so ``bailiff`` can be registered), and a partner whose
registered sector differs from the one the policy data gives it is refused at
registration, at start (naming the partner and both sectors) and at every decision
(``partner-sector-mismatch``): a partner registered as ``operator`` but known to the policy
as police no longer gets the police's disclosures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from connectors.client import GatewayAPIError
from gateway.bootstrap import build_services
from gateway.cli.partner import app as partner_cli
from gateway.config import load_settings
from gateway.db import transaction
from gateway.errors import ConfigurationError, InvalidRequestError
from gateway.partners.models import Partner
from tests.support.gateway import Gateway

SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}


@pytest.fixture
def runner(database_url: str, tmp_path: Path) -> CliRunner:
    return CliRunner(
        env={
            "PPSGATE_ENV": "test",
            "PPSGATE_DATA_DIR": str(tmp_path / "data"),
            "PPSGATE_DATABASE_URL": database_url,
            "PPSGATE_PUBLIC_URL": "https://gateway.test",
        }
    )


def test_the_registry_takes_the_sectors_of_the_policy_data(runner: CliRunner) -> None:
    added = runner.invoke(
        partner_cli, ["add", "--name", "Bailiff", "--sector", "bailiff", "--id", "bailiff-nl"]
    )
    assert added.exit_code == 0, added.output
    assert "partner bailiff-nl added (bailiff)" in added.output
    operator = runner.invoke(
        partner_cli, ["add", "--name", "Operator", "--sector", "operator", "--id", "ops"]
    )
    assert operator.exit_code == 0, operator.output
    unknown = runner.invoke(partner_cli, ["add", "--name", "Casino", "--sector", "casino"])
    assert isinstance(unknown.exception, InvalidRequestError)
    assert unknown.exception.field == "sector"
    assert "bailiff" in unknown.exception.reason


def test_a_registration_contradicting_the_policy_is_refused(runner: CliRunner) -> None:
    refused = runner.invoke(
        partner_cli, ["add", "--name", "Police", "--sector", "operator", "--id", "police-nl"]
    )
    assert isinstance(refused.exception, InvalidRequestError)
    assert refused.exception.field == "sector"
    assert "'police-nl'" in refused.exception.reason
    assert "'operator'" in refused.exception.reason
    assert "'police'" in refused.exception.reason


def test_the_gateway_refuses_to_start_on_a_contradiction(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(env="test", data_dir=tmp_path, database_url=database_url)
    services = build_services(settings)
    with transaction(services.session_factory) as session:
        session.add(Partner(id="police-nl", name="Police", sector="operator", status="active"))
    services.engine.dispose()
    with pytest.raises(ConfigurationError) as refused:
        build_services(settings)
    assert "'police-nl'" in refused.value.reason
    assert "'operator'" in refused.value.reason
    assert "'police'" in refused.value.reason


def test_every_decision_refuses_a_contradicting_partner(gateway: Gateway) -> None:
    bank = gateway.partner("bank-a")
    item = bank.item("iban", "NL91ABNA0417164300")
    assert "results" in bank.call("POST", "/v1/match", {**SCREEN, "items": [item]})
    with transaction(gateway.services.session_factory) as session:
        session.execute(update(Partner).where(Partner.id == "bank-a").values(sector="operator"))
    with pytest.raises(GatewayAPIError) as refused:
        bank.call("POST", "/v1/match", {**SCREEN, "items": [item]})
    assert refused.value.status == 403
    assert "partner-sector-mismatch" in refused.value.reasons
    assert dict(refused.value.references)["partner-sector-mismatch"]
