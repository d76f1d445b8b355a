from __future__ import annotations

import json
import os
from pathlib import Path

import nacl.public
import nacl.pwhash
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from connectors.keystore import (
    ConnectorKeys,
    KeyStoreError,
    is_encrypted,
    load_keystore,
    save_keystore,
)

# The cheapest Argon2id cost, so the tests stay fast; the format records the cost used.
FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


@pytest.fixture
def keys() -> ConnectorKeys:
    return ConnectorKeys.generate()


def test_generated_keys_are_p256_and_x25519(keys: ConnectorKeys) -> None:
    signing, encryption = keys.public_jwks()["keys"]
    assert signing["kty"] == "EC"
    assert signing["crv"] == "P-256"
    assert signing["alg"] == "ES256"
    assert signing["use"] == "sig"
    assert signing["kid"] == ECKey.import_key(signing).thumbprint()
    assert encryption["kty"] == "OKP"
    assert encryption["crv"] == "X25519"
    assert encryption["use"] == "enc"
    for jwk in (signing, encryption):
        assert not PRIVATE_MEMBERS & jwk.keys()


def test_plain_store_round_trips_with_mode_0600(tmp_path: Path, keys: ConnectorKeys) -> None:
    path = tmp_path / "sub" / "keys.json"
    save_keystore(path, keys)
    assert path.stat().st_mode & 0o777 == 0o600
    assert not is_encrypted(path)
    loaded = load_keystore(path)
    assert loaded.public_jwks() == keys.public_jwks()
    assert bytes(loaded.encryption_key) == bytes(keys.encryption_key)


def test_loaded_signing_key_signs_what_the_public_jwk_verifies(
    tmp_path: Path, keys: ConnectorKeys
) -> None:
    path = tmp_path / "keys.json"
    save_keystore(path, keys)
    loaded = load_keystore(path)
    token = jwt.encode({"alg": "ES256"}, {"sub": "c"}, loaded.signing_key)
    public = ECKey.import_key(keys.public_signing_jwk())
    assert jwt.decode(token, public, algorithms=["ES256"]).claims == {"sub": "c"}


def test_sealed_box_to_the_public_x25519_key_opens_with_the_store(
    tmp_path: Path, keys: ConnectorKeys
) -> None:
    path = tmp_path / "keys.json"
    save_keystore(path, keys)
    encryption_jwk = keys.public_encryption_jwk()
    import base64

    raw = base64.urlsafe_b64decode(encryption_jwk["x"] + "=")
    sealed = nacl.public.SealedBox(nacl.public.PublicKey(raw)).encrypt(b"type keys")
    opened = nacl.public.SealedBox(load_keystore(path).encryption_key).decrypt(sealed)
    assert opened == b"type keys"


def test_encrypted_store_needs_the_passphrase(tmp_path: Path, keys: ConnectorKeys) -> None:
    path = tmp_path / "keys.json"
    save_keystore(path, keys, passphrase="correct horse battery", **FAST)
    assert is_encrypted(path)
    text = path.read_text()
    assert keys.public_signing_jwk()["x"] not in text  # nothing readable in the file
    assert load_keystore(path, passphrase="correct horse battery").key_id == keys.key_id
    with pytest.raises(KeyStoreError) as wrong:
        load_keystore(path, passphrase="wrong horse battery")
    assert wrong.value.field == "passphrase"
    with pytest.raises(KeyStoreError, match="passphrase is needed"):
        load_keystore(path)


def test_default_argon2id_cost_is_recorded(tmp_path: Path, keys: ConnectorKeys) -> None:
    path = tmp_path / "keys.json"
    save_keystore(path, keys, passphrase="pw-for-default-cost")
    kdf = json.loads(path.read_text())["kdf"]
    assert kdf["name"] == "argon2id"
    assert kdf["opslimit"] == nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
    assert kdf["memlimit"] == nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE


def test_tampered_ciphertext_is_refused(tmp_path: Path, keys: ConnectorKeys) -> None:
    path = tmp_path / "keys.json"
    save_keystore(path, keys, passphrase="pw", **FAST)
    document = json.loads(path.read_text())
    ciphertext = document["ciphertext"]
    document["ciphertext"] = ciphertext[:-4] + ("AAAA" if ciphertext[-4:] != "AAAA" else "BBBB")
    path.write_text(json.dumps(document))
    with pytest.raises(KeyStoreError, match="modified"):
        load_keystore(path, passphrase="pw")


def test_crafted_kdf_cost_is_refused(tmp_path: Path, keys: ConnectorKeys) -> None:
    path = tmp_path / "keys.json"
    save_keystore(path, keys, passphrase="pw", **FAST)
    document = json.loads(path.read_text())
    document["kdf"]["memlimit"] = 64 * 1024**3
    path.write_text(json.dumps(document))
    with pytest.raises(KeyStoreError, match="out of range"):
        load_keystore(path, passphrase="pw")


def test_store_readable_by_others_is_refused(tmp_path: Path, keys: ConnectorKeys) -> None:
    path = tmp_path / "keys.json"
    save_keystore(path, keys)
    os.chmod(path, 0o644)
    with pytest.raises(KeyStoreError, match="chmod 600"):
        load_keystore(path)


def test_existing_store_is_not_overwritten(tmp_path: Path, keys: ConnectorKeys) -> None:
    path = tmp_path / "keys.json"
    save_keystore(path, keys)
    other = ConnectorKeys.generate()
    with pytest.raises(KeyStoreError, match="refusing to overwrite"):
        save_keystore(path, other)
    save_keystore(path, other, overwrite=True)
    assert load_keystore(path).key_id == other.key_id
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "content",
    [
        '{"format": "something-else", "version": 1}',
        "[]",
        "not json",
        '{"format": "ppsgate-connector-keystore", "version": 1, "encrypted": false, "keys": {}}',
    ],
)
def test_malformed_stores_are_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "keys.json"
    path.write_text(content)
    os.chmod(path, 0o600)
    with pytest.raises(KeyStoreError):
        load_keystore(path)


def test_missing_store_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="keys init"):
        load_keystore(tmp_path / "absent.json")
