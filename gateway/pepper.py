"""K_gw, the gateway's pepper: tokens are stored as ``HMAC-SHA256(K_gw, token)``.

The key lives in a file outside the database (mode 0600), so a database dump together with a
leaked partner type key still cannot be used to test guesses offline. Development generates
the file in the data directory; production must name one (see ``Settings``).
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from pathlib import Path

from gateway.config import Environment, Settings
from gateway.errors import ConfigurationError

PEPPER_BYTES = 32


class Pepper:
    """Keyed hash of tokens and references at rest."""

    def __init__(self, key: bytes) -> None:
        if len(key) != PEPPER_BYTES:
            raise ConfigurationError(f"pepper key must be {PEPPER_BYTES} bytes", field="pepper")
        self._key = key

    def token(self, token_hex: str) -> bytes:
        """Pepper a partner token given as 64 lowercase hex characters."""
        # One-shot C HMAC: a quarter of the cost of hmac.new(...).digest() per token.
        return hmac.digest(self._key, bytes.fromhex(token_hex), "sha256")

    def reference(self, reference: str) -> bytes:
        """Pepper a partner's case reference (it may itself be personal data)."""
        return hmac.digest(self._key, b"ref:" + reference.encode("utf-8"), "sha256")


def read_key_file(path: Path, *, what: str) -> bytes:
    """Read a hex key file, refusing files that others can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigurationError(f"{what} file {path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"{what} file {path} must have mode 0600 (is {oct(mode & 0o777)})")
    text = path.read_text(encoding="ascii").strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ConfigurationError(f"{what} file {path} must hold hex characters only") from None


def write_key_file(path: Path, key: bytes) -> None:
    """Create a key file with mode 0600 from the start (never world-readable, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")


def load_pepper(settings: Settings) -> Pepper:
    """Load K_gw from the configured file; development creates one on first use."""
    path = settings.pepper_file
    if path is None:
        if settings.env is Environment.PRODUCTION:
            raise ConfigurationError("PPSGATE_PEPPER_FILE is required in production")
        path = settings.data_dir / "keys" / "pepper.key"
        if not path.exists():
            write_key_file(path, secrets.token_bytes(PEPPER_BYTES))
    return Pepper(read_key_file(path, what="pepper"))
