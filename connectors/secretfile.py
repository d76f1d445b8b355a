"""Small JSON files holding secrets: mode 0600, optionally encrypted with a passphrase.

The key store (:mod:`connectors.keystore`) set the pattern; the per-epoch type-key store and
the custodian's state follow it with the same primitives: written to a temporary file created
with mode 0600 and renamed into place (never world-readable, never half-written), refused
when group or others can read them, and — with a passphrase — the content encrypted with
libsodium ``secretbox`` under an Argon2id key whose parameters and salt sit beside it.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from connectors.errors import ConnectorError
from connectors.keystore import (
    DEFAULT_MEMLIMIT,
    DEFAULT_OPSLIMIT,
    MAX_MEMLIMIT,
    MAX_OPSLIMIT,
    KeyStoreError,
    _b64,
    _derive_key,
    _unb64,
)

__all__ = [
    "SecretFileError",
    "b64",
    "is_encrypted",
    "read_secret_json",
    "unb64",
    "write_secret_json",
]

b64 = _b64
unb64 = _unb64


class SecretFileError(ConnectorError):
    """A secret file cannot be created, read or decrypted."""

    title = "Secret file error"


def write_secret_json(
    path: Path,
    content: dict[str, Any],
    *,
    file_format: str,
    version: int,
    passphrase: str | None,
    overwrite: bool = True,
    opslimit: int = DEFAULT_OPSLIMIT,
    memlimit: int = DEFAULT_MEMLIMIT,
) -> None:
    """Write ``content`` (encrypted when a passphrase is given) with mode 0600, atomically."""
    if path.exists() and not overwrite:
        raise SecretFileError(f"{path} already exists; refusing to overwrite it", field="path")
    document: dict[str, Any] = {"format": file_format, "version": version}
    if passphrase is None:
        document |= {"encrypted": False, "content": content}
    else:
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        try:
            key = _derive_key(passphrase, salt, opslimit, memlimit)
        except KeyStoreError as exc:
            raise SecretFileError(exc.reason, field=exc.field) from None
        plaintext = json.dumps(content, sort_keys=True).encode("utf-8")
        document |= {
            "encrypted": True,
            "kdf": {
                "name": "argon2id",
                "opslimit": opslimit,
                "memlimit": memlimit,
                "salt": _b64(salt),
            },
            "cipher": "xsalsa20poly1305",
            "ciphertext": _b64(bytes(nacl.secret.SecretBox(key).encrypt(plaintext))),
        }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def _document(path: Path, file_format: str, version: int, missing_hint: str) -> dict[str, Any]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SecretFileError(f"{path} does not exist; {missing_hint}", field="path") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretFileError(
            f"{path} is readable by others (mode {oct(mode & 0o777)}); chmod 600 it", field="path"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SecretFileError(f"{path} is not readable ({type(exc).__name__})") from None
    if not isinstance(document, dict) or document.get("format") != file_format:
        raise SecretFileError(f"{path} is not a {file_format} file", field="path")
    if document.get("version") != version:
        raise SecretFileError(f"{path}: unsupported version {document.get('version')!r}")
    return document


def is_encrypted(path: Path, *, file_format: str, version: int) -> bool:
    return bool(_document(path, file_format, version, "").get("encrypted"))


def read_secret_json(
    path: Path, *, file_format: str, version: int, passphrase: str | None, missing_hint: str
) -> dict[str, Any]:
    """The content of a secret file, decrypted if needed; refuses unsafe or altered files."""
    document = _document(path, file_format, version, missing_hint)
    if not document.get("encrypted"):
        content = document.get("content")
        if not isinstance(content, dict):
            raise SecretFileError(f"{path}: content is malformed")
        return content
    if passphrase is None:
        raise SecretFileError(f"{path} is encrypted; a passphrase is needed", field="passphrase")
    try:
        kdf = document["kdf"]
        opslimit, memlimit = int(kdf["opslimit"]), int(kdf["memlimit"])
        salt = _unb64(kdf["salt"])
        ciphertext = _unb64(document["ciphertext"])
    except (KeyError, TypeError, ValueError):
        raise SecretFileError(f"{path}: encryption parameters are malformed") from None
    if kdf.get("name") != "argon2id" or document.get("cipher") != "xsalsa20poly1305":
        raise SecretFileError(f"{path}: unsupported encryption")
    if not (0 < opslimit <= MAX_OPSLIMIT and 0 < memlimit <= MAX_MEMLIMIT):
        raise SecretFileError(f"{path}: Argon2id parameters are out of range")
    if len(salt) != nacl.pwhash.argon2id.SALTBYTES:
        raise SecretFileError(f"{path}: Argon2id salt has the wrong length")
    try:
        key = _derive_key(passphrase, salt, opslimit, memlimit)
        plaintext = nacl.secret.SecretBox(key).decrypt(ciphertext)
    except KeyStoreError as exc:
        raise SecretFileError(exc.reason, field=exc.field) from None
    except nacl.exceptions.CryptoError:
        raise SecretFileError(
            f"{path}: wrong passphrase, or the file was modified", field="passphrase"
        ) from None
    content = json.loads(plaintext)
    if not isinstance(content, dict):
        raise SecretFileError(f"{path}: content is malformed")
    return content
