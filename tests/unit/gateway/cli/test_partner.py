from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.keystore import ConnectorKeys
from gateway.cli.partner import app


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


def test_onboarding_from_the_command_line(runner: CliRunner, tmp_path: Path) -> None:
    added = runner.invoke(app, ["add", "--name", "Example Bank", "--sector", "bank"])
    assert added.exit_code == 0, added.output
    assert "partner example-bank added" in added.output

    jwk = tmp_path / "client.jwks.json"
    keys = ConnectorKeys.generate()
    jwk.write_text(json.dumps(keys.public_jwks()))
    client = runner.invoke(
        app,
        [
            "add-client",
            "--partner",
            "example-bank",
            "--jwk",
            str(jwk),
            "--scopes",
            "match:query,indicators:write",
            "--client-id",
            "example-bank-1",
        ],
    )
    assert client.exit_code == 0, client.output
    assert "example-bank-1" in client.output
    assert keys.key_id in client.output
    assert "https://gateway.test/oauth/token" in client.output

    shown = runner.invoke(app, ["show", "example-bank", "--json"])
    data = json.loads(shown.stdout)
    assert data["status"] == "active"
    assert data["clients"][0]["scopes"] == ["indicators:write", "match:query"]

    assert runner.invoke(app, ["suspend", "example-bank"]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["list", "--json"]).stdout)
    assert [(p["id"], p["status"]) for p in listed] == [("example-bank", "suspended")]
    assert runner.invoke(app, ["reinstate", "example-bank"]).exit_code == 0

    new = ConnectorKeys.generate()
    jwk.write_text(json.dumps(new.public_jwks()))
    rotated = runner.invoke(app, ["rotate-key", "example-bank-1", "--jwk", str(jwk)])
    assert rotated.exit_code == 0, rotated.output
    assert "version 2" in rotated.output
    assert runner.invoke(app, ["suspend-client", "example-bank-1"]).exit_code == 0
    assert runner.invoke(app, ["reinstate-client", "example-bank-1"]).exit_code == 0
    table = runner.invoke(app, ["list"])
    assert "example-bank" in table.output


def test_errors_are_gateway_errors_naming_the_field(runner: CliRunner, tmp_path: Path) -> None:
    from gateway.errors import GatewayError

    result = runner.invoke(app, ["add", "--name", "X", "--sector", "casino"])
    assert isinstance(result.exception, GatewayError)
    assert result.exception.field == "sector"
    private = tmp_path / "private.json"
    private.write_text(json.dumps(ConnectorKeys.generate().signing_key.as_dict(private=True)))
    runner.invoke(app, ["add", "--name", "Bank", "--sector", "bank"])
    result = runner.invoke(
        app, ["add-client", "--partner", "bank", "--jwk", str(private), "--scopes", "match:query"]
    )
    assert isinstance(result.exception, GatewayError)
    assert "PRIVATE" in result.exception.reason
    result = runner.invoke(
        app,
        [
            "add-client",
            "--partner",
            "bank",
            "--jwk",
            str(tmp_path / "absent.json"),
            "--scopes",
            "match:query",
        ],
    )
    assert isinstance(result.exception, GatewayError)
    assert result.exception.field == "jwk"
