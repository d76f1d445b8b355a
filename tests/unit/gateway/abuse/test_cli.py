"""``ppsgate abuse alerts`` and ``usage``: the operator's view, without identifiers."""

from __future__ import annotations

import secrets

import pytest
from typer.testing import CliRunner

from gateway.abuse.cli import app
from gateway.abuse.detection import watch_for_enumeration
from gateway.abuse.quotas import charge_quota
from gateway.audit_trail.events import AuditTag
from gateway.db import transaction
from gateway.services import Services
from tests.unit.gateway.abuse.conftest import BANK, allowed, quota


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_lists_alerts_and_usage(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPSGATE_DATABASE_URL", services.settings.effective_database_url)
    monkeypatch.setenv("PPSGATE_DATA_DIR", str(services.settings.data_dir))
    monkeypatch.setenv("COLUMNS", "250")  # wide enough for every column of the tables
    assert "no enumeration alerts" in run("alerts")
    tokens = [secrets.token_bytes(32) for _ in range(12)]
    with transaction(services.session_factory) as session:
        charge = charge_quota(
            session,
            services,
            BANK,
            request_id="r" * 16,
            purpose="batch_screening",
            legal_basis="art6_1_c",
            decision=allowed(quota(100, 100, min_distinct=10, ratio=0.1)),
            items=len(tokens),
            deny_tag=AuditTag.MATCH_QUERY_DENY,
        )
        assert watch_for_enumeration(
            session, services, charge, token_hashes=tokens, hits=0, request_id="r" * 16
        )
    alerts = run("alerts", "--partner", "bank-a")
    assert "bank-a" in alerts
    assert "batch_screening" in alerts
    assert "12" in alerts
    assert "bank-a" in run("usage")
    assert "bank-a-c1" in run("usage", "--clients")
    assert all(token.hex() not in alerts for token in tokens)
