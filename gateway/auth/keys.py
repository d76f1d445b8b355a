"""The gateway's access-token signing key (ES256, P-256).

The key is a 32-byte P-256 scalar in a hex file of mode 0600 outside the database, written
and read with the same helpers as the pepper. Development creates one in the data directory;
production must name the file. The public half is published as a JWKS so that anyone holding
a token can check who signed it; its ``kid`` is the RFC 7638 thumbprint.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from gateway.config import Environment, Settings
from gateway.errors import ConfigurationError
from gateway.pepper import read_key_file, write_key_file

SIGNING_ALGORITHM = "ES256"
_P256_ORDER = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)


@dataclass(frozen=True)
class TokenSigningKey:
    """The private key that signs access tokens, with its public JWK and key id."""

    private: ECKey
    kid: str

    @classmethod
    def from_scalar(cls, scalar: bytes) -> TokenSigningKey:
        value = int.from_bytes(scalar, "big")
        if len(scalar) != 32 or not 0 < value < _P256_ORDER:
            raise ConfigurationError(
                "token signing key must be a P-256 scalar of 32 bytes", field="token_signing_key"
            )
        private = ECKey.import_key(ec.derive_private_key(value, ec.SECP256R1()))
        kid = private.thumbprint()
        keyed = ECKey.import_key(
            private.as_dict(private=True), {"kid": kid, "alg": SIGNING_ALGORITHM, "use": "sig"}
        )
        return cls(private=keyed, kid=kid)

    def public_jwk(self) -> dict[str, Any]:
        return dict(self.private.as_dict(private=False))

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}


def _generate_scalar() -> bytes:
    while True:
        candidate = secrets.token_bytes(32)
        if 0 < int.from_bytes(candidate, "big") < _P256_ORDER:
            return candidate


def token_key_path(settings: Settings) -> Path:
    if settings.token_signing_key_file is not None:
        return settings.token_signing_key_file
    if settings.env is Environment.PRODUCTION:
        raise ConfigurationError("PPSGATE_TOKEN_SIGNING_KEY_FILE is required in production")
    return settings.data_dir / "keys" / "token-signing.key"


_cache: dict[Path, TokenSigningKey] = {}
_by_name: dict[Path, TokenSigningKey] = {}  # the same keys by the path as configured
_lock = threading.Lock()


def load_token_signing_key(settings: Settings) -> TokenSigningKey:
    """Load (development: create on first use) the signing key; cached per file."""
    named = token_key_path(settings)
    cached = _by_name.get(named)  # per request: no path resolution (system calls) on a hit
    if cached is not None:
        return cached
    path = named.resolve()
    with _lock:
        cached = _cache.get(path)
        if cached is not None:
            _by_name[named] = cached
            return cached
        if settings.token_signing_key_file is None and not path.exists():
            write_key_file(path, _generate_scalar())
        key = TokenSigningKey.from_scalar(read_key_file(path, what="token signing key"))
        _cache[path] = key
        _by_name[named] = key
        return key


def generate_token_key_file(path: Path) -> TokenSigningKey:
    """Create a new key file (mode 0600, never overwriting) and return the key."""
    if path.exists():
        raise ConfigurationError(f"{path} exists; refusing to overwrite a signing key")
    scalar = _generate_scalar()
    write_key_file(path, scalar)
    return TokenSigningKey.from_scalar(scalar)
