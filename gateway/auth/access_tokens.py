"""Verifying the gateway's own access tokens (RFC 9068 JWTs) on every API request.

The checks are the RFC 9068 section 4 list, with an explicit algorithm allow-list (ES256,
the gateway key's algorithm) applied to the header before joserfc sees the token: ``typ``
must be ``at+jwt``, ``iss`` and ``aud`` the gateway's public URL, ``exp``/``iat`` within the
clock-skew leeway, and ``sub``/``client_id``/``jti``/``partner_id``/``key_version`` present.
This is pure: whether the client is *still* active is checked against the database by
:mod:`gateway.auth.deps`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)

from gateway.auth.errors import CredentialRefusedError
from gateway.auth.keys import SIGNING_ALGORITHM, TokenSigningKey

ACCESS_TOKEN_ALGORITHMS = (SIGNING_ALGORITHM,)
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
CLOCK_SKEW_SECONDS = 30
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class AccessTokenClaims:
    """The verified facts of one access token."""

    client_id: str
    partner_id: str
    scopes: frozenset[str]
    jti: str
    key_version: int
    issued_at: int
    expires_at: int


def _header(token: str) -> dict[str, Any]:
    try:
        segment = token.split(".", 1)[0]
        decoded = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: not ours either
        raise _refused("token-malformed", "the bearer token is not a JWT") from None
    if not isinstance(decoded, dict):
        raise _refused("token-malformed", "the bearer token's header is not a JSON object")
    if "crit" in decoded:  # our tokens have none; joserfc would fail on a malformed one
        raise _refused("token-malformed", "critical header parameters are not accepted")
    return decoded


def _refused(code: str, text: str, field: str = "Authorization") -> CredentialRefusedError:
    return CredentialRefusedError(code, text, field=field)


CLAIM_PROBLEMS = {
    "iss": "token-issuer",
    "aud": "token-audience",
    "iat": "token-not-yet-valid",
    "nbf": "token-not-yet-valid",
}


def _check_form(token: str) -> None:
    """A compact JWS whose header names our algorithm and the access-token type."""
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise _refused("token-malformed", "the bearer token is not a compact JWS")
    header = _header(token)
    algorithm = header.get("alg")
    if algorithm not in ACCESS_TOKEN_ALGORITHMS:
        raise _refused(
            "token-algorithm",
            f"algorithm {str(algorithm)[:16]!r} is not accepted for access tokens",
        )
    if header.get("typ") not in ACCESS_TOKEN_TYPES:
        raise _refused("token-type", "the bearer token is not an access token (typ at+jwt)")


# Tokens whose signature verified, by (key id, token), held by the worker's services
# (``Services.verified_tokens``): a connector sends the same access token until it expires,
# and checking the signature again (ECDSA) was the largest part of each request's
# verification. Only the signature is remembered: the claims (expiry, issuer, audience, ...)
# are checked on every request. Bounded; emptied when full. Held in memory only, never logged.
VerifiedTokens = dict[tuple[str, str], dict[str, Any]]
VERIFIED_CACHE_SIZE = 1024


def _signed_claims(token: str, key: TokenSigningKey, verified: VerifiedTokens) -> dict[str, Any]:
    """The payload, once the gateway's signature over it verifies."""
    known = verified.get((key.kid, token))
    if known is not None:
        return dict(known)
    claims = _verify_signature(token, key)
    if len(verified) >= VERIFIED_CACHE_SIZE:
        verified.clear()
    verified[(key.kid, token)] = dict(claims)
    return claims


def _verify_signature(token: str, key: TokenSigningKey) -> dict[str, Any]:
    try:
        decoded = jwt.decode(token, key.private, algorithms=list(ACCESS_TOKEN_ALGORITHMS))
    except BadSignatureError:
        raise _refused(
            "token-signature", "the access token was not signed by this gateway"
        ) from None
    except JoseError as exc:
        raise _refused("token-malformed", f"access token: {exc.error}") from None
    except (TypeError, ValueError, RecursionError):  # a payload no token of ours has
        raise _refused("token-malformed", "the access token's payload is malformed") from None
    return decoded.claims


def _validate_claims(claims: dict[str, Any], *, issuer: str, audience: str, now: datetime) -> None:
    """The registered claims: issuer, audience, times within the leeway, the ones we need."""
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()),
        leeway=CLOCK_SKEW_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        jti={"essential": True},
        client_id={"essential": True},
        partner_id={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise _refused("token-expired", "the access token has expired; get a new one") from None
    except MissingClaimError as exc:
        raise _refused("token-claims", f"the access token lacks claim(s) {exc.claim}") from None
    except InvalidClaimError as exc:
        code = CLAIM_PROBLEMS.get(exc.claim, "token-claims")
        raise _refused(code, f"the access token's {exc.claim} claim is not acceptable") from None
    except (TypeError, ValueError):
        raise _refused("token-claims", "the access token's claims are malformed") from None


def _facts(claims: dict[str, Any]) -> AccessTokenClaims:
    """The token's facts, once its own claims (client, key version, scope) are consistent."""
    if claims["sub"] != claims["client_id"]:
        raise _refused("token-claims", "the access token's sub is not its client")
    key_version = claims.get("key_version")
    scope = claims.get("scope", "")
    if not isinstance(key_version, int) or not isinstance(scope, str):
        raise _refused("token-claims", "the access token's key_version or scope is malformed")
    return AccessTokenClaims(
        client_id=str(claims["client_id"]),
        partner_id=str(claims["partner_id"]),
        scopes=frozenset(scope.split()),
        jti=str(claims["jti"]),
        key_version=key_version,
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
    )


def verify_access_token(
    token: str,
    *,
    key: TokenSigningKey,
    issuer: str,
    audience: str,
    now: datetime,
    verified: VerifiedTokens | None = None,
) -> AccessTokenClaims:
    """Verify signature and claims, or raise :class:`CredentialRefusedError` naming why.

    ``verified`` remembers the signatures already checked (the worker's
    ``Services.verified_tokens``); without it every call checks the signature."""
    _check_form(token)
    claims = _signed_claims(token, key, {} if verified is None else verified)
    _validate_claims(claims, issuer=issuer, audience=audience, now=now)
    return _facts(claims)
