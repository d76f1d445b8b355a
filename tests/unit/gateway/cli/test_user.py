from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.partner import app as partner_app
from gateway.cli.user import app
from gateway.errors import GatewayError


@pytest.fixture
def runner(database_url: str, tmp_path: Path) -> CliRunner:
    runner = CliRunner(
        env={
            "PPSGATE_ENV": "test",
            "PPSGATE_DATA_DIR": str(tmp_path / "data"),
            "PPSGATE_DATABASE_URL": database_url,
        }
    )
    added = runner.invoke(partner_app, ["add", "--name", "Bank", "--sector", "bank"])
    assert added.exit_code == 0, added.output
    return runner


def test_user_add_prints_the_totp_enrolment_once(runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        [
            "add",
            "--username",
            "anna",
            "--role",
            "privacy_officer",
            "--partner",
            "bank",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "otpauth://totp/ppsgate:anna?secret=" in result.output
    assert "a long enough password" not in result.output
    disabled = runner.invoke(app, ["disable", "anna"])
    assert disabled.exit_code == 0, disabled.output


def test_prompted_password_and_bad_role(runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        ["add", "--username", "bert", "--role", "privacy_officer", "--partner", "bank"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    wrong = runner.invoke(
        app,
        [
            "add",
            "--username",
            "carl",
            "--role",
            "superuser",
            "--partner",
            "bank",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert isinstance(wrong.exception, GatewayError)
    assert wrong.exception.field == "role"
