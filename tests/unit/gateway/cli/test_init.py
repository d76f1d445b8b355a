"""``ppsgate init`` makes every key file once; ``ppsgate db upgrade`` needs none of them."""

from __future__ import annotations

import stat
from pathlib import Path

from typer.testing import CliRunner

from audit.note import parse_verifier_key
from gateway.audit_trail.keys import load_signing_key
from gateway.auth.keys import load_token_signing_key
from gateway.cli import app
from gateway.config import load_settings
from gateway.pepper import load_pepper

ORIGIN = "gateway.test/audit"


def _init(keys: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["init", "--keys-dir", str(keys), "--audit-origin", ORIGIN])
    # The CLI's single exit point (gateway.cli.main) prints a GatewayError; here it is raised.
    return result.exit_code, result.output + str(result.exception or "")


def _settings_lines(output: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in output.splitlines() if line.startswith("PPSGATE_"))
    return dict(pairs)


def test_init_makes_every_key_the_production_gateway_needs(tmp_path: Path) -> None:
    keys = tmp_path / "etc" / "keys"
    code, output = _init(keys)
    assert code == 0, output
    named = _settings_lines(output)
    settings = load_settings(
        env="production",
        database_url="postgresql+psycopg://ppsgate@db/ppsgate",
        public_url="https://gateway.test",
        pepper_file=named["PPSGATE_PEPPER_FILE"],
        audit_signing_key_file=named["PPSGATE_AUDIT_SIGNING_KEY_FILE"],
        token_signing_key_file=named["PPSGATE_TOKEN_SIGNING_KEY_FILE"],
        audit_origin=named["PPSGATE_AUDIT_ORIGIN"],
    )
    # The gateway's own loaders accept each file as it is (modes, formats, origin).
    assert len(load_pepper(settings).entries) == 1
    signer = load_signing_key(settings)
    load_token_signing_key(settings)
    printed = output.split("audit log verifier key: ", 1)[1].split()[0]
    assert parse_verifier_key(printed).vkey == signer.verifier.vkey
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    for path in keys.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert "Back up" in output


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    existing = keys / "audit-signing.key"
    existing.write_text("kept\n")
    code, output = _init(keys)
    assert code != 0
    assert "refusing to overwrite" in output
    assert existing.read_text() == "kept\n"
    assert sorted(p.name for p in keys.iterdir()) == ["audit-signing.key"]


def test_init_refuses_a_directory_others_may_write(tmp_path: Path) -> None:
    keys = tmp_path / "shared"
    keys.mkdir()
    keys.chmod(0o777)
    code, output = _init(keys)
    assert code != 0
    assert "writable by other users" in output
    assert list(keys.iterdir()) == []


def test_db_upgrade_in_production_needs_no_key(tmp_path: Path) -> None:
    database = tmp_path / "fresh.sqlite3"
    env: dict[str, str | None] = {
        "PPSGATE_ENV": "production",
        "PPSGATE_DATA_DIR": str(tmp_path / "data"),
        "PPSGATE_DATABASE_URL": f"sqlite+pysqlite:///{database}",
        # None unsets: no key file and no public URL at all.
        "PPSGATE_PEPPER_FILE": None,
        "PPSGATE_AUDIT_SIGNING_KEY_FILE": None,
        "PPSGATE_TOKEN_SIGNING_KEY_FILE": None,
        "PPSGATE_PUBLIC_URL": None,
    }
    result = CliRunner(env=env).invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    # The console wraps long lines where the temporary path's length puts the break.
    assert "is at revision" in " ".join(result.output.split())
    assert not any(p.suffix == ".key" for p in tmp_path.rglob("*"))


def test_db_upgrade_in_production_still_needs_the_database_url(tmp_path: Path) -> None:
    env = {
        "PPSGATE_ENV": "production",
        "PPSGATE_DATABASE_URL": None,
        "PPSGATE_DATA_DIR": str(tmp_path),
    }
    result = CliRunner(env=env).invoke(app, ["db", "upgrade"])
    assert result.exit_code != 0
    assert "PPSGATE_DATABASE_URL" in str(result.exception) + result.output
