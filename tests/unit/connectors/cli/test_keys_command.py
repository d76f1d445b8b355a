from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from connectors.cli.keys_command import app
from connectors.keystore import is_encrypted, load_keystore
from gateway.partners.jwk import parse_client_keys

runner = CliRunner()


def test_init_prints_the_public_jwks_and_writes_an_encrypted_store(tmp_path: Path) -> None:
    store = tmp_path / "keys.json"
    result = runner.invoke(
        app, ["init", "--keystore", str(store), "--passphrase-stdin"], input="s3cret phrase\n"
    )
    assert result.exit_code == 0, result.output
    jwks = json.loads(result.stdout)
    assert [key["kty"] for key in jwks["keys"]] == ["EC", "OKP"]
    assert store.stat().st_mode & 0o777 == 0o600
    assert is_encrypted(store)
    keys = load_keystore(store, passphrase="s3cret phrase")
    assert jwks == keys.public_jwks()
    # What it prints is exactly what the gateway accepts at add-client.
    assert parse_client_keys(result.stdout).key_id == keys.key_id


def test_init_without_passphrase_and_show(tmp_path: Path) -> None:
    store = tmp_path / "keys.json"
    created = runner.invoke(app, ["init", "--keystore", str(store), "--no-passphrase"])
    assert created.exit_code == 0, created.output
    assert not is_encrypted(store)
    shown = runner.invoke(app, ["show", "--keystore", str(store)])
    assert json.loads(shown.stdout) == json.loads(created.stdout)


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    store = tmp_path / "keys.json"
    assert runner.invoke(app, ["init", "--keystore", str(store), "--no-passphrase"]).exit_code == 0
    first = load_keystore(store).key_id
    again = runner.invoke(app, ["init", "--keystore", str(store), "--no-passphrase"])
    assert again.exit_code != 0
    assert load_keystore(store).key_id == first
    forced = runner.invoke(app, ["init", "--keystore", str(store), "--no-passphrase", "--force"])
    assert forced.exit_code == 0
    assert load_keystore(store).key_id != first


def test_prompted_passphrase_must_be_confirmed(tmp_path: Path) -> None:
    store = tmp_path / "keys.json"
    result = runner.invoke(app, ["init", "--keystore", str(store)], input="one\none\n")
    assert result.exit_code == 0, result.output
    assert load_keystore(store, passphrase="one").key_id
