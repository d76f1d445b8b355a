"""Victim references: count distinct victims per identifier without naming any of them.

A report may carry the victim or case it belongs to, so the gateway can count *distinct
victims* (the EU PSR's "two different customers of the same provider"). The connector never
sends the victim's customer number or case id: it sends
``hex(HMAC-SHA256(victim key, "ppsgate:victim:v1:" + value))`` under a 32-byte key that only
the reporting partner holds (one key for all its connector installations, so its two
clients count one customer once). Other partners and the gateway cannot compute or link the
reference; the same person reported by two partners counts as two victims, by design. The
gateway peppers the reference again before storing it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from connectors.secretfile import SecretFileError, b64, read_secret_json, unb64, write_secret_json

DEFAULT_VICTIM_KEY = Path("connector-victim-key.json")
FILE_FORMAT = "ppsgate-victim-key"
FILE_VERSION = 1
KEY_BYTES = 32
DOMAIN = b"ppsgate:victim:v1:"


def victim_reference(key: bytes, value: str) -> str:
    """The opaque reference the gateway counts; ``value`` is the partner's own victim id."""
    if len(key) != KEY_BYTES:
        raise ValueError("a victim key is 32 bytes")
    text = value.strip()
    if not text:
        raise ValueError("an empty victim id")
    return hmac.new(key, DOMAIN + text.encode("utf-8"), hashlib.sha256).hexdigest()


def create_victim_key(path: Path, *, passphrase: str | None = None) -> None:
    """Write a new random victim key (mode 0600); refuses to overwrite an existing file."""
    write_secret_json(
        path,
        {"key": b64(secrets.token_bytes(KEY_BYTES))},
        file_format=FILE_FORMAT,
        version=FILE_VERSION,
        passphrase=passphrase,
        overwrite=False,
    )


def load_victim_key(path: Path, *, passphrase: str | None = None) -> bytes:
    """The 32-byte victim key from its file (decrypted with ``passphrase`` if needed)."""
    content = read_secret_json(
        path,
        file_format=FILE_FORMAT,
        version=FILE_VERSION,
        passphrase=passphrase,
        missing_hint="create it with `ppsgate-connector keys victim-key PATH`",
    )
    try:
        key = unb64(str(content["key"]))
    except (KeyError, ValueError) as exc:
        raise SecretFileError(f"{path}: the victim key is malformed") from exc
    if len(key) != KEY_BYTES:
        raise SecretFileError(f"{path}: the victim key is not {KEY_BYTES} bytes")
    return key
