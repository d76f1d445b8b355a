from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.keystore import ConnectorKeys
from gateway.cli import app


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


def test_offboarding_from_the_command_line(runner: CliRunner, tmp_path: Path) -> None:
    assert (
        runner.invoke(
            app, ["partner", "add", "--name", "Shop", "--sector", "marketplace", "--id", "shop"]
        ).exit_code
        == 0
    )
    jwk = tmp_path / "client.jwks.json"
    jwk.write_text(json.dumps(ConnectorKeys.generate().public_jwks()))
    added = runner.invoke(
        app,
        [
            "partner",
            "add-client",
            "--partner",
            "shop",
            "--jwk",
            str(jwk),
            "--scopes",
            "indicators:write",
            "--client-id",
            "shop-1",
        ],
    )
    assert added.exit_code == 0, added.output

    refused = runner.invoke(app, ["partner", "offboard", "shop", "--indicators", "keep"])
    assert refused.exit_code != 0
    assert "reason" in str(refused.exception)

    done = runner.invoke(app, ["partner", "offboard", "shop", "--indicators", "expire"])
    assert done.exit_code == 0, done.output
    assert "clients suspended (shop-1)" in done.output
    assert "0 indicators expired now" in done.output
    shown = json.loads(runner.invoke(app, ["partner", "show", "shop", "--json"]).stdout)
    assert shown["status"] == "left"
    assert [c["status"] for c in shown["clients"]] == ["suspended"]
