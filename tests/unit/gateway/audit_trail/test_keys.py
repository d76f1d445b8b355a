"""The checkpoint signing key lives in a private file named after the origin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from audit.cosignature import generate_cosigner
from audit.note import generate_signer
from gateway.audit_trail.keys import (
    DEV_KEY_NAME,
    load_signing_key,
    parse_witness_keys,
    write_key_file,
)
from gateway.audit_trail.service import build_audit_trail
from gateway.config import Environment
from gateway.errors import ConfigurationError
from tests.unit.gateway.audit_trail.helpers import make_settings

SQLITE = "sqlite+pysqlite:///:memory:"


def test_development_generates_a_private_key(tmp_path: Path) -> None:
    settings = make_settings(SQLITE, tmp_path)
    trail = build_audit_trail(settings)
    path = tmp_path / DEV_KEY_NAME
    assert path.stat().st_mode & 0o777 == 0o600
    assert trail.origin == settings.audit_origin
    assert load_signing_key(settings).verifier == trail.verifier
    assert trail.verifier_key.startswith(settings.audit_origin + "+")


def test_configured_key_must_match_the_origin_and_be_private(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    write_key_file(path, generate_signer("other.test/audit"))
    settings = make_settings(SQLITE, tmp_path, audit_signing_key_file=path)
    with pytest.raises(ConfigurationError, match="differs from PPSGATE_AUDIT_ORIGIN"):
        load_signing_key(settings)
    good = tmp_path / "good.key"
    write_key_file(good, generate_signer(settings.audit_origin))
    os.chmod(good, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_signing_key(make_settings(SQLITE, tmp_path, audit_signing_key_file=good))
    with pytest.raises(ConfigurationError, match="refusing to overwrite"):
        write_key_file(good, generate_signer(settings.audit_origin))


def test_production_needs_an_explicit_key(tmp_path: Path) -> None:
    # The settings validator refuses this already; the loader must refuse it on its own too.
    settings = make_settings(SQLITE, tmp_path).model_copy(update={"env": Environment.PRODUCTION})
    with pytest.raises(ConfigurationError, match="required in production"):
        load_signing_key(settings)


def test_witness_keys_must_be_cosignature_keys() -> None:
    witness = generate_cosigner("witness.test/w1")
    assert parse_witness_keys([witness.verifier.vkey]) == [witness.verifier]
    with pytest.raises(ConfigurationError, match=r"\[0\]: not a cosignature key"):
        parse_witness_keys([generate_signer("log.test").verifier.vkey])
    with pytest.raises(ConfigurationError, match=r"\[1\]"):
        parse_witness_keys([witness.verifier.vkey, "garbage"])
