"""Victim references: keyed per partner, deterministic, never the id itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
from pathlib import Path
from typing import Any

import pytest

import connectors.cli  # noqa: F401 - first: workflows.rows imports connectors.cli.hash_io
from connectors.errors import UsageError
from connectors.secretfile import SecretFileError
from connectors.victims import create_victim_key, load_victim_key, victim_reference
from connectors.workflows import operations
from connectors.workflows.rows import HashedRow

KEY = bytes(range(32))


def test_reference_is_the_published_hmac() -> None:
    expected = hmac.new(KEY, b"ppsgate:victim:v1:customer-17", hashlib.sha256).hexdigest()
    assert victim_reference(KEY, " customer-17 ") == expected
    assert victim_reference(bytes(32), "customer-17") != expected  # another partner's key
    with pytest.raises(ValueError, match="empty"):
        victim_reference(KEY, "  ")


def test_key_file_is_private_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "victim-key.json"
    create_victim_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = load_victim_key(path)
    assert len(key) == 32
    with pytest.raises(SecretFileError):
        create_victim_key(path)
    assert load_victim_key(path) == key


def test_key_file_can_be_encrypted(tmp_path: Path) -> None:
    path = tmp_path / "victim-key.json"
    create_victim_key(path, passphrase="correct horse")
    assert "content" not in json.loads(path.read_text())
    with pytest.raises(SecretFileError):
        load_victim_key(path)
    assert len(load_victim_key(path, passphrase="correct horse")) == 32


class _Api:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = kwargs["json"]
        self.bodies.append(body)
        return {"results": [{"row": i, "status": "accepted"} for i in range(len(body["items"]))]}


def _row(victim: str) -> HashedRow:
    carried = {"victim": victim, "evidence": "police_report"}
    return HashedRow(row=0, kind="iban", epoch=1, token="a" * 64, carried=carried)


def test_submit_sends_only_the_keyed_reference() -> None:
    api = _Api()
    operations.submit(
        api,  # type: ignore[arg-type]
        [_row("customer-17")],
        purpose="indicator_submission",
        legal_basis="art6_1_f",
        defaults={"category": "purchase_fraud"},
        batch_size=10,
        emit=lambda _: None,
        victims=lambda value: victim_reference(KEY, value),
    )
    (item,) = api.bodies[0]["items"]
    assert item["victim"] == victim_reference(KEY, "customer-17")
    assert item["evidence"] == "police_report"
    assert "customer-17" not in str(api.bodies)


def test_a_victim_column_without_a_key_is_refused() -> None:
    api = _Api()
    with pytest.raises(UsageError, match="victim-key"):
        operations.submit(
            api,  # type: ignore[arg-type]
            [_row("customer-17")],
            purpose="indicator_submission",
            legal_basis="art6_1_f",
            defaults={},
            batch_size=10,
            emit=lambda _: None,
        )
    assert api.bodies == []
