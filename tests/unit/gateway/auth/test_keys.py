from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.auth.keys import (
    TokenSigningKey,
    generate_token_key_file,
    load_token_signing_key,
    token_key_path,
)
from gateway.config import load_settings
from gateway.errors import ConfigurationError


def test_development_creates_a_0600_key_once(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    key = load_token_signing_key(settings)
    path = token_key_path(settings)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_token_signing_key(settings).kid == key.kid
    # A fresh process (no cache) reads the same key back from the file.
    again = TokenSigningKey.from_scalar(bytes.fromhex(path.read_text().strip()))
    assert again.kid == key.kid


def test_jwks_has_only_the_public_half(tmp_path: Path) -> None:
    key = load_token_signing_key(load_settings(data_dir=tmp_path))
    (public,) = key.jwks()["keys"]
    assert public["kty"] == "EC"
    assert public["crv"] == "P-256"
    assert public["alg"] == "ES256"
    assert public["kid"] == key.kid
    assert "d" not in public


def test_configured_file_must_exist(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, token_signing_key_file=tmp_path / "absent.key")
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_token_signing_key(settings)


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token.key"
    generate_token_key_file(path)
    os.chmod(path, 0o640)
    with pytest.raises(ConfigurationError, match="0600"):
        load_token_signing_key(load_settings(token_signing_key_file=path))


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "token.key"
    generate_token_key_file(path)
    with pytest.raises(ConfigurationError, match="overwrite"):
        generate_token_key_file(path)


@pytest.mark.parametrize("scalar", [b"\x00" * 32, b"\xff" * 32, b"\x01" * 31])
def test_invalid_scalars_are_refused(scalar: bytes) -> None:
    with pytest.raises(ConfigurationError):
        TokenSigningKey.from_scalar(scalar)


def test_production_requires_an_explicit_key_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="TOKEN_SIGNING_KEY_FILE"):
        load_settings(
            env="production",
            public_url="https://gateway.example",
            database_url="postgresql+psycopg://u@h/db",
            pepper_file=tmp_path / "p",
            audit_signing_key_file=tmp_path / "a",
        )


def test_production_requires_https(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        load_settings(
            env="production",
            public_url="http://gateway.example",
            token_signing_key_file=tmp_path / "t",
            database_url="postgresql+psycopg://u@h/db",
            pepper_file=tmp_path / "p",
            audit_signing_key_file=tmp_path / "a",
        )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://[::1]:8000",
        "https://gateway.example/pps/",
    ],
)
def test_public_url_accepted(url: str) -> None:
    settings = load_settings(public_url=url)
    assert settings.token_endpoint_url == url.rstrip("/") + "/oauth/token"


@pytest.mark.parametrize(
    "url",
    ["http://0.0.0.0:8000", "http://gateway.internal", "ftp://gateway", "https://g/?q=1"],
)
def test_public_url_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="PPSGATE_PUBLIC_URL"):
        load_settings(public_url=url)
