"""``ppsgate serve --workers``: several processes only on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gateway.cli import app
from gateway.errors import ConfigurationError


def test_several_workers_are_refused_on_sqlite(tmp_path: Path) -> None:
    runner = CliRunner(
        env={
            "PPSGATE_ENV": "test",
            "PPSGATE_DATA_DIR": str(tmp_path),
            "PPSGATE_DATABASE_URL": "",
            "PPSGATE_PUBLIC_URL": "http://127.0.0.1:8000",
        }
    )
    result = runner.invoke(app, ["serve", "--workers", "2", "--port", "1"])
    # main() prints a GatewayError as one line; the runner hands back the error itself.
    assert isinstance(result.exception, ConfigurationError)
    assert result.exception.field == "workers"
    assert "PostgreSQL" in str(result.exception)


def test_the_worker_count_is_bounded() -> None:
    result = CliRunner().invoke(app, ["serve", "--workers", "0"])
    assert result.exit_code == 2  # a usage error, before any setting is read
