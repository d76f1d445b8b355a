"""Reading the public keys a connector registers (``ppsgate-connector keys init`` output).

Accepts one JWK or a JWK set. Exactly one EC P-256 key is the client's signing key
(``ES256``, ``use: sig``); an optional OKP X25519 key is where salt envelopes get sealed.
Anything holding private key material is refused outright — the gateway must never see a
partner's private key, even by mistake.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey

from gateway.errors import InvalidRequestError

PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k", "oth"})


@dataclass(frozen=True)
class ClientKeys:
    """Normalised public keys of one client, ready to store."""

    signing_jwk: str
    key_id: str
    encryption_jwk: str | None


def _load(data: str | bytes | dict[str, Any], field: str) -> dict[str, Any]:
    if isinstance(data, dict):
        return data
    try:
        loaded = json.loads(data)
    except ValueError:
        raise InvalidRequestError("is not valid JSON", field=field) from None
    if not isinstance(loaded, dict):
        raise InvalidRequestError("must be a JWK or a JWK set (a JSON object)", field=field)
    return loaded


def parse_client_keys(data: str | bytes | dict[str, Any], *, field: str = "jwk") -> ClientKeys:
    """Validate and normalise a client's public JWK (set); errors name the field and reason."""
    document = _load(data, field)
    keys = document.get("keys") if "keys" in document else [document]
    if not isinstance(keys, list) or not all(isinstance(key, dict) for key in keys):
        raise InvalidRequestError("'keys' must be a list of JWK objects", field=field)
    for key in keys:
        if PRIVATE_MEMBERS & key.keys():
            raise InvalidRequestError(
                "contains PRIVATE key material; register only the public JWK that "
                "`ppsgate-connector keys init` prints, and treat this key as compromised",
                field=field,
            )
    signing = [key for key in keys if key.get("kty") == "EC"]
    encryption = [key for key in keys if key.get("kty") == "OKP" and key.get("crv") == "X25519"]
    if len(signing) != 1:
        raise InvalidRequestError(
            f"needs exactly one EC P-256 signing key (found {len(signing)})", field=field
        )
    if len(encryption) > 1:
        raise InvalidRequestError("has more than one X25519 encryption key", field=field)
    signing_jwk, key_id = _signing_key(signing[0], field)
    encryption_jwk = _encryption_key(encryption[0], field) if encryption else None
    return ClientKeys(signing_jwk=signing_jwk, key_id=key_id, encryption_jwk=encryption_jwk)


def _signing_key(jwk: dict[str, Any], field: str) -> tuple[str, str]:
    if jwk.get("crv") != "P-256":
        raise InvalidRequestError(
            f"signing key curve must be P-256 (ES256), not {str(jwk.get('crv'))[:16]!r}",
            field=f"{field}.crv",
        )
    if jwk.get("alg", "ES256") != "ES256":
        raise InvalidRequestError("signing key alg must be ES256", field=f"{field}.alg")
    if jwk.get("use", "sig") != "sig":
        raise InvalidRequestError("signing key use must be 'sig'", field=f"{field}.use")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise InvalidRequestError("signing key needs x and y (strings)", field=f"{field}.x")
    try:
        key = ECKey.import_key({"kty": "EC", "crv": "P-256", "x": x, "y": y})
    except (JoseError, ValueError, TypeError):
        raise InvalidRequestError(
            "signing key x/y do not form a valid P-256 public key", field=f"{field}.x"
        ) from None
    kid = key.thumbprint()
    public = {**key.as_dict(private=False), "kid": kid, "alg": "ES256", "use": "sig"}
    return json.dumps(public, sort_keys=True), kid


def _encryption_key(jwk: dict[str, Any], field: str) -> str:
    x = jwk.get("x")
    if not isinstance(x, str):
        raise InvalidRequestError("X25519 key needs x (a string)", field=f"{field}.x")
    try:
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        key = OKPKey.import_key({"kty": "OKP", "crv": "X25519", "x": x})
    except (JoseError, ValueError, TypeError):
        raise InvalidRequestError("X25519 key x is not valid", field=f"{field}.x") from None
    if len(raw) != 32:
        raise InvalidRequestError("X25519 key x must be 32 bytes", field=f"{field}.x")
    public = {**key.as_dict(private=False), "kid": key.thumbprint(), "use": "enc"}
    return json.dumps(public, sort_keys=True)
