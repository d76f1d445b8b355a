"""``ppsgate evaluator init-seed | public-key | destroy-epoch`` (gateway/cli/evaluator.py)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.oprf.pins import parse_pins
from gateway.cli import app
from gateway.errors import ConfigurationError


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    seed_file = tmp_path / "secret" / "seeds"
    monkeypatch.setenv("PPSGATE_EVALUATOR_SEED_FILE", str(seed_file))
    monkeypatch.setenv("PPSGATE_EVALUATOR_NAME", "evaluator-b")
    monkeypatch.setenv("PPSGATE_EVALUATOR_DATA_DIR", str(tmp_path))
    return seed_file


def test_init_seed_then_public_key_make_a_pins_entry(env: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["evaluator", "init-seed", "--epoch", "7"])
    assert created.exit_code == 0, created.output
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert env.read_text().split("\n")[1].split()[1] not in created.output  # never the seed
    printed = runner.invoke(
        app, ["evaluator", "public-key", "--epoch", "7", "--url", "https://b.example/"]
    )
    assert printed.exit_code == 0, printed.output
    entry = json.loads(printed.output)
    assert entry["name"] == "evaluator-b"
    assert entry["url"] == "https://b.example"
    assert set(entry["public_keys"]["7"]) == {
        *("iban", "phone", "email", "domain"),
        *("url", "crypto_address", "social_account"),
    }
    other = {**entry, "name": "evaluator-a", "public_keys": {"7": {"phone": "e2" * 32}}}
    document = {
        "format": "ppsgate-oprf-evaluators",
        "version": 1,
        "suite": "ristretto255-SHA512",
        "evaluators": [other, entry],
    }
    with pytest.raises(Exception, match="public key"):  # the made-up key is not a point
        parse_pins(document)
    document["evaluators"] = [entry, {**entry, "name": "evaluator-c"}]
    with pytest.raises(Exception, match="share a public key"):
        parse_pins(document)


def test_destroy_needs_confirmation_and_removes_the_epoch(env: Path) -> None:
    runner = CliRunner()
    runner.invoke(app, ["evaluator", "init-seed", "--epoch", "1"])
    runner.invoke(app, ["evaluator", "init-seed", "--epoch", "2"])
    refused = runner.invoke(app, ["evaluator", "destroy-epoch", "--epoch", "1"])
    assert isinstance(refused.exception, ConfigurationError)
    done = runner.invoke(app, ["evaluator", "destroy-epoch", "--epoch", "1", "--yes"])
    assert done.exit_code == 0, done.output
    keys = json.loads(runner.invoke(app, ["evaluator", "public-key"]).output)["public_keys"]
    assert list(keys) == ["2"]


def test_missing_seed_file_is_one_clear_error(env: Path) -> None:
    result = CliRunner().invoke(app, ["evaluator", "public-key"])
    assert isinstance(result.exception, ConfigurationError)
    assert "init-seed" in result.exception.reason


def test_clients_add_list_remove_pin_partner_keys(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors.keystore import ConnectorKeys
    from evaluator.client_keys import ClientKeys

    runner = CliRunner()
    unset = runner.invoke(app, ["evaluator", "clients", "list"])
    assert isinstance(unset.exception, ConfigurationError)
    assert "PPSGATE_EVALUATOR_CLIENT_KEYS_FILE" in unset.exception.reason
    clients = tmp_path / "clients.json"
    monkeypatch.setenv("PPSGATE_EVALUATOR_CLIENT_KEYS_FILE", str(clients))
    monkeypatch.setenv("PPSGATE_EVALUATOR_TOKEN_AUDIENCE", "https://b.example")
    keys = ConnectorKeys.generate()
    jwks = tmp_path / "bank-a.json"
    jwks.write_text(json.dumps(keys.public_jwks()), encoding="utf-8")
    add = ["evaluator", "clients", "add", "--client-id", "bank-a-c1", "--partner-id", "bank-a"]
    added = runner.invoke(app, [*add, "--jwks", str(jwks)])
    assert added.exit_code == 0, added.output
    assert "pinned client bank-a-c1 of partner bank-a" in added.output
    again = runner.invoke(app, [*add, "--jwks", str(jwks)])
    assert "replaced" in again.output
    pinned = ClientKeys(clients).get("bank-a-c1")
    assert pinned is not None
    assert pinned.thumbprint == keys.signing_key.thumbprint()
    listed = runner.invoke(app, ["evaluator", "clients", "list"])
    assert listed.output.split() == ["bank-a-c1", "bank-a", keys.signing_key.thumbprint()]

    private = tmp_path / "private.json"
    private.write_text(json.dumps(keys.signing_key.as_dict(private=True)), encoding="utf-8")
    refused = runner.invoke(app, [*add, "--jwks", str(private)])
    assert isinstance(refused.exception, ConfigurationError)
    assert "private part" in refused.exception.reason

    removed = runner.invoke(app, ["evaluator", "clients", "remove", "--client-id", "bank-a-c1"])
    assert removed.exit_code == 0, removed.output
    assert ClientKeys(clients).get("bank-a-c1") is None
    missing = runner.invoke(app, ["evaluator", "clients", "remove", "--client-id", "bank-a-c1"])
    assert isinstance(missing.exception, ConfigurationError)


def _entry_of(tmp_path: Path, name: str, url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One evaluator's own machine: its seed file, its `public-key --url` output."""
    monkeypatch.setenv("PPSGATE_EVALUATOR_SEED_FILE", str(tmp_path / name / "seeds"))
    monkeypatch.setenv("PPSGATE_EVALUATOR_NAME", name)
    runner = CliRunner()
    assert runner.invoke(app, ["evaluator", "init-seed", "--epoch", "3"]).exit_code == 0
    printed = runner.invoke(app, ["evaluator", "public-key", "--url", url])
    assert printed.exit_code == 0, printed.output
    entry = tmp_path / f"{name}.json"
    entry.write_text(printed.output)
    return entry


def test_pins_writes_the_document_connectors_read(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _entry_of(tmp_path, "evaluator-a", "https://a.example", monkeypatch)
    second = _entry_of(tmp_path, "evaluator-b", "https://b.example", monkeypatch)
    out = tmp_path / "evaluators.json"
    made = CliRunner().invoke(
        app, ["evaluator", "pins", str(first), str(second), "--out", str(out)]
    )
    assert made.exit_code == 0, made.output
    document = json.loads(out.read_text())
    assert {key: document[key] for key in ("format", "version", "suite")} == {
        "format": "ppsgate-oprf-evaluators",
        "version": 1,
        "suite": "ristretto255-SHA512",
    }
    pins = parse_pins(document)
    assert [(pin.name, pin.url) for pin in pins] == [
        ("evaluator-a", "https://a.example"),
        ("evaluator-b", "https://b.example"),
    ]
    assert pins[0].kinds(3) == pins[1].kinds(3)


def test_pins_refuses_what_connectors_would_refuse(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only = _entry_of(tmp_path, "evaluator-a", "https://a.example", monkeypatch)
    out = tmp_path / "evaluators.json"
    alone = CliRunner().invoke(app, ["evaluator", "pins", str(only), "--out", str(out)])
    assert isinstance(alone.exception, ConfigurationError)
    assert "at least 2 evaluators" in alone.exception.reason
    assert not out.exists()
    broken = tmp_path / "broken.json"
    broken.write_text("not json")
    refused = CliRunner().invoke(
        app, ["evaluator", "pins", str(only), str(broken), "--out", str(out)]
    )
    assert isinstance(refused.exception, ConfigurationError)
    assert "public-key --url" in refused.exception.reason
