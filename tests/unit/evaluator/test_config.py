"""Evaluator settings: PPSGATE_EVALUATOR_* only, production refuses implicit defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluator.config import EvaluatorSettings, load_evaluator_settings
from evaluator.errors import EvaluatorConfigurationError

DOCS = Path(__file__).resolve().parents[3] / "docs" / "oprf.md"


def test_reads_its_own_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PPSGATE_EVALUATOR_NAME", "evaluator-b")
    monkeypatch.setenv("PPSGATE_EVALUATOR_PARTNER_QUOTAS", '{"bank-a": 10}')
    monkeypatch.setenv("PPSGATE_DATA_DIR", str(tmp_path / "gateway"))  # the gateway's, ignored
    settings = load_evaluator_settings()
    assert settings.name == "evaluator-b"
    assert settings.quota_for("bank-a") == 10
    assert settings.quota_for("bank-b") == settings.quota_per_window
    assert settings.data_dir != tmp_path / "gateway"
    assert settings.audience == settings.token_issuer


def test_production_refuses_defaults() -> None:
    with pytest.raises(EvaluatorConfigurationError) as caught:
        load_evaluator_settings(env="production", token_issuer="https://gw.example")
    assert "PPSGATE_EVALUATOR_SEED_FILE" in caught.value.reason
    assert "PPSGATE_EVALUATOR_TOKEN_JWKS_FILE" in caught.value.reason
    assert "PPSGATE_EVALUATOR_CLIENT_KEYS_FILE" in caught.value.reason


def test_production_needs_https_issuer(tmp_path: Path) -> None:
    with pytest.raises(EvaluatorConfigurationError, match="https"):
        load_evaluator_settings(
            env="production",
            seed_file=tmp_path / "s",
            database_url="postgresql+psycopg://e@db/e",
            token_jwks_url="https://gw.example/.well-known/jwks.json",
            token_issuer="http://gw.example",
            token_audience="https://eval-a.example",
            client_keys_file=tmp_path / "clients.json",
        )


def test_production_needs_its_own_url_as_audience(tmp_path: Path) -> None:
    explicit = {
        "env": "production",
        "seed_file": tmp_path / "s",
        "database_url": "postgresql+psycopg://e@db/e",
        "token_jwks_url": "https://gw.example/.well-known/jwks.json",
        "token_issuer": "https://gw.example",
        "client_keys_file": tmp_path / "clients.json",
    }
    for audience in ("", "https://gw.example/"):
        with pytest.raises(EvaluatorConfigurationError, match=r"TOKEN_AUDIENCE.*RFC 8707"):
            load_evaluator_settings(**explicit, token_audience=audience)
    settings = load_evaluator_settings(**explicit, token_audience="https://eval-a.example/")
    assert settings.audience == "https://eval-a.example"


def test_bad_value_names_the_variable() -> None:
    with pytest.raises(EvaluatorConfigurationError, match="PPSGATE_EVALUATOR_MAX_BATCH"):
        load_evaluator_settings(max_batch=70000)


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [
        name
        for name in EvaluatorSettings.model_fields
        if f"PPSGATE_EVALUATOR_{name.upper()}" not in text
    ]
    assert missing == []
