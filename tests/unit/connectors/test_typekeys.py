"""The connector's type-key store: per epoch, 0600, encrypted with the passphrase."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nacl.pwhash
import pytest

from connectors.canonical import Kind
from connectors.errors import KeyMaterialError
from connectors.hashing import type_key
from connectors.typekeys import EpochKeys, TypeKeyStore, load_typekeys, save_typekeys

FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def held(epoch: int, state: str, ends: datetime | None = None) -> EpochKeys:
    salt = bytes([epoch]) * 32
    return EpochKeys(
        epoch=epoch,
        state=state,
        keys={Kind.PHONE: type_key(salt, Kind.PHONE)},
        custodian_key_id="c" * 64,
        envelope_sha256="e" * 64,
        fetched_at=NOW.isoformat(),
        overlap_ends_at=ends.isoformat() if ends else None,
    )


def test_active_and_overlap_epochs_are_usable() -> None:
    store = TypeKeyStore()
    with pytest.raises(KeyMaterialError, match="keys fetch"):
        store.active()
    store.put(held(1, "retiring", NOW + timedelta(days=3)))
    store.put(held(2, "active"))
    assert store.active().epoch == 2
    assert [k.epoch for k in store.usable(NOW)] == [2, 1]
    assert [k.epoch for k in store.usable(NOW + timedelta(days=4))] == [2]
    assert store.pick(1).epoch == 1
    with pytest.raises(KeyMaterialError, match="no keys for epoch 7"):
        store.pick(7)
    with pytest.raises(KeyMaterialError, match="no iban key for epoch 2"):
        store.active().type_keys()[Kind.IBAN]
    dropped = store.update_states(
        [{"epoch": 1, "state": "retired"}, {"epoch": 2, "state": "active"}]
    )
    assert dropped == [1]
    assert sorted(store.epochs) == [2]


def test_the_file_is_private_and_encrypted(tmp_path: Path) -> None:
    path = tmp_path / "typekeys.json"
    store = TypeKeyStore(custodian_key=b"\x05" * 32)
    store.put(held(3, "active"))
    save_typekeys(path, store, passphrase="pass phrase", **FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert type_key(bytes([3]) * 32, Kind.PHONE).hex().encode() not in path.read_bytes()
    loaded = load_typekeys(path, passphrase="pass phrase")
    assert loaded.custodian_key == b"\x05" * 32
    assert dict(loaded.active().keys) == dict(store.active().keys)
    assert load_typekeys(tmp_path / "absent.json", passphrase=None, missing_ok=True).epochs == {}
    path.chmod(0o644)
    with pytest.raises(Exception, match="readable by others"):
        load_typekeys(path, passphrase="pass phrase")
