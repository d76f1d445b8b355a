"""The connector's local key store: its client-authentication key and its envelope key.

Two key pairs live here and nowhere else:

- an ES256 (P-256) signing key: the connector signs its ``private_key_jwt`` client assertions
  with it; the gateway only ever holds the public JWK registered with ``partner add-client``;
- an X25519 key: the key custodian seals salt-epoch envelopes to its public half (libsodium
  sealed box), so only this installation can open them.

The file is JSON with mode 0600 (refused when others can read it, like ``ssh`` does) and can
be encrypted with a passphrase: libsodium ``secretbox`` (XSalsa20-Poly1305) under a key
derived with Argon2id, whose parameters and salt are stored beside the ciphertext.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.public
import nacl.pwhash
import nacl.secret
import nacl.utils
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey, OKPKey

from connectors.errors import ConnectorError

KEYSTORE_FORMAT = "ppsgate-connector-keystore"
KEYSTORE_VERSION = 1
SIGNING_ALGORITHM = "ES256"
# Argon2id cost: libsodium's "interactive" level by default; the file records what was used.
DEFAULT_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
DEFAULT_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
# Upper bounds accepted when reading, so a crafted file cannot demand gigabytes of memory.
MAX_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE
MAX_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE


class KeyStoreError(ConnectorError):
    """The key store cannot be created, read or decrypted."""

    title = "Key store error"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class ConnectorKeys:
    """The two private keys of one connector installation."""

    signing_key: ECKey
    encryption_key: nacl.public.PrivateKey
    created_at: str

    @classmethod
    def generate(cls) -> ConnectorKeys:
        signing = ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))
        return cls(
            signing_key=_with_kid(signing),
            encryption_key=nacl.public.PrivateKey.generate(),
            created_at=datetime.now(tz=UTC).isoformat(timespec="seconds"),
        )

    @property
    def key_id(self) -> str:
        """RFC 7638 thumbprint of the signing key; the gateway records it as the key id."""
        return str(self.signing_key.kid)

    def public_signing_jwk(self) -> dict[str, Any]:
        """The public JWK to register with the gateway (``partner add-client --jwk``)."""
        return dict(self.signing_key.as_dict(private=False))

    def public_encryption_jwk(self) -> dict[str, Any]:
        """The X25519 public key that salt envelopes are sealed to, as an OKP JWK."""
        public = OKPKey.import_key(
            {"kty": "OKP", "crv": "X25519", "x": _b64(bytes(self.encryption_key.public_key))}
        )
        return {**public.as_dict(private=False), "kid": public.thumbprint(), "use": "enc"}

    def public_jwks(self) -> dict[str, Any]:
        """Both public keys, the form ``keys init`` prints and ``add-client`` reads."""
        return {"keys": [self.public_signing_jwk(), self.public_encryption_jwk()]}

    def _to_document(self) -> dict[str, Any]:
        return {
            "created_at": self.created_at,
            "signing": dict(self.signing_key.as_dict(private=True)),
            "encryption": {
                "kty": "OKP",
                "crv": "X25519",
                "x": _b64(bytes(self.encryption_key.public_key)),
                "d": _b64(bytes(self.encryption_key)),
            },
        }

    @classmethod
    def _from_document(cls, document: Any) -> ConnectorKeys:
        try:
            signing = ECKey.import_key(document["signing"])
            if signing.as_dict(private=False).get("crv") != "P-256" or not signing.is_private:
                raise KeyStoreError("the signing key must be a private P-256 key", field="signing")
            encryption = nacl.public.PrivateKey(_unb64(document["encryption"]["d"]))
            created_at = str(document.get("created_at", ""))
        except KeyStoreError:
            raise
        except (KeyError, TypeError, ValueError, nacl.exceptions.CryptoError) as exc:
            raise KeyStoreError(
                f"the key store content is malformed ({type(exc).__name__})"
            ) from None
        return cls(signing_key=_with_kid(signing), encryption_key=encryption, created_at=created_at)


def _with_kid(key: ECKey) -> ECKey:
    private = key.as_dict(private=True)
    private.pop("kid", None)
    return ECKey.import_key(
        private, {"kid": key.thumbprint(), "alg": SIGNING_ALGORITHM, "use": "sig"}
    )


def _derive_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    if not passphrase:
        raise KeyStoreError("the passphrase must not be empty", field="passphrase")
    return bytes(
        nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            passphrase.encode("utf-8"),
            salt,
            opslimit=opslimit,
            memlimit=memlimit,
        )
    )


def save_keystore(
    path: Path,
    keys: ConnectorKeys,
    *,
    passphrase: str | None = None,
    overwrite: bool = False,
    opslimit: int = DEFAULT_OPSLIMIT,
    memlimit: int = DEFAULT_MEMLIMIT,
) -> None:
    """Write the key store with mode 0600 from the first byte; never clobber by accident."""
    if path.exists() and not overwrite:
        raise KeyStoreError(f"{path} already exists; refusing to overwrite keys", field="path")
    plaintext = json.dumps(keys._to_document(), sort_keys=True).encode("utf-8")
    document: dict[str, Any] = {"format": KEYSTORE_FORMAT, "version": KEYSTORE_VERSION}
    if passphrase is None:
        document |= {"encrypted": False, "keys": keys._to_document()}
    else:
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        box = nacl.secret.SecretBox(_derive_key(passphrase, salt, opslimit, memlimit))
        document |= {
            "encrypted": True,
            "kdf": {
                "name": "argon2id",
                "opslimit": opslimit,
                "memlimit": memlimit,
                "salt": _b64(salt),
            },
            "cipher": "xsalsa20poly1305",
            "ciphertext": _b64(bytes(box.encrypt(plaintext))),
        }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def is_encrypted(path: Path) -> bool:
    """Whether the key store at ``path`` needs a passphrase."""
    return bool(_read_document(path).get("encrypted"))


def _read_document(path: Path) -> dict[str, Any]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyStoreError(
            f"{path} does not exist; create it with `ppsgate-connector keys init`", field="path"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyStoreError(
            f"{path} is readable by others (mode {oct(mode & 0o777)}); chmod 600 it", field="path"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyStoreError(f"{path} is not a readable key store ({type(exc).__name__})") from None
    if not isinstance(document, dict) or document.get("format") != KEYSTORE_FORMAT:
        raise KeyStoreError(f"{path} is not a ppsgate connector key store", field="path")
    if document.get("version") != KEYSTORE_VERSION:
        raise KeyStoreError(f"unsupported key store version {document.get('version')!r}")
    return document


def load_keystore(path: Path, *, passphrase: str | None = None) -> ConnectorKeys:
    """Read (and if needed decrypt) the key store, refusing unsafe files and wrong passphrases."""
    document = _read_document(path)
    if not document.get("encrypted"):
        return ConnectorKeys._from_document(document.get("keys"))
    if passphrase is None:
        raise KeyStoreError(
            "the key store is encrypted; a passphrase is needed", field="passphrase"
        )
    try:
        kdf = document["kdf"]
        opslimit, memlimit = int(kdf["opslimit"]), int(kdf["memlimit"])
        salt = _unb64(kdf["salt"])
        ciphertext = _unb64(document["ciphertext"])
    except (KeyError, TypeError, ValueError):
        raise KeyStoreError("the key store's encryption parameters are malformed") from None
    if kdf.get("name") != "argon2id" or document.get("cipher") != "xsalsa20poly1305":
        raise KeyStoreError("unsupported key store encryption")
    if not (0 < opslimit <= MAX_OPSLIMIT and 0 < memlimit <= MAX_MEMLIMIT):
        raise KeyStoreError("the key store's Argon2id parameters are out of range")
    if len(salt) != nacl.pwhash.argon2id.SALTBYTES:
        raise KeyStoreError("the key store's Argon2id salt has the wrong length")
    box = nacl.secret.SecretBox(_derive_key(passphrase, salt, opslimit, memlimit))
    try:
        plaintext = box.decrypt(ciphertext)
    except nacl.exceptions.CryptoError:
        raise KeyStoreError(
            "wrong passphrase, or the key store was modified", field="passphrase"
        ) from None
    return ConnectorKeys._from_document(json.loads(plaintext))
