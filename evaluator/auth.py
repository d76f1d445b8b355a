"""Verifying the gateway's access tokens (RFC 9068 JWTs) with its *public* key.

The evaluator holds no secret of the gateway: it is configured with the gateway's JWKS (a
file, or the gateway's ``/.well-known/jwks.json``). ``gateway.auth.access_tokens`` checks
the same token but needs the gateway's private key object, so this is a small verifier of
its own with the same rules: an explicit algorithm allow-list (ES256) applied to the header
before joserfc sees the token, ``typ`` ``at+jwt``, ``iss``/``aud``, ``exp``/``iat`` within
30 s, ``sub`` = ``client_id``, and the required scope. Whether the client was suspended
since is not known here; the tokens' short lifetime (300 s by default) bounds that.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import ECKey, KeySet

from evaluator.errors import EvaluatorConfigurationError, ForbiddenError, UnauthenticatedError

TOKEN_ALGORITHMS = ("ES256",)
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
CLOCK_SKEW_SECONDS = 30
MAX_TOKEN_LENGTH = 4096
JWKS_REFETCH_SECONDS = 60.0


@dataclass(frozen=True)
class Caller:
    """Who is asking, from a verified token: quotas and the volume log are per partner."""

    partner_id: str
    client_id: str
    jti: str
    scopes: frozenset[str]


def _refused(code: str, reason: str) -> UnauthenticatedError:
    return UnauthenticatedError(reason, field="Authorization", code=code)


def parse_jwks(document: Any, *, source: str) -> KeySet:
    """Only P-256 public keys for ES256 are kept; anything private is refused outright."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise EvaluatorConfigurationError(f"{source} is not a JWKS", field="token_jwks")
    keys: list[dict[str, Any]] = []
    for entry in document["keys"]:
        if not isinstance(entry, dict):
            continue
        if "d" in entry:
            raise EvaluatorConfigurationError(
                f"{source} holds a private key; configure the public JWKS only",
                field="token_jwks",
            )
        if (
            entry.get("kty") == "EC"
            and entry.get("crv") == "P-256"
            and entry.get("alg", "ES256") in TOKEN_ALGORITHMS
        ):
            keys.append(entry)
    if not keys:
        raise EvaluatorConfigurationError(
            f"{source} has no P-256 (ES256) public key", field="token_jwks"
        )
    return KeySet([ECKey.import_key(entry) for entry in keys])


class TokenKeys:
    """The gateway's token-signing public keys, from a file or (re)fetched from a URL."""

    def __init__(
        self,
        *,
        jwks_file: Path | None = None,
        jwks_url: str = "",
        fetch: Callable[[str], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if jwks_file is None and not jwks_url:
            raise EvaluatorConfigurationError(
                "set PPSGATE_EVALUATOR_TOKEN_JWKS_FILE or PPSGATE_EVALUATOR_TOKEN_JWKS_URL "
                "to the gateway's token-signing JWKS",
                field="token_jwks",
            )
        self._file = jwks_file
        self._url = jwks_url
        self._fetch = fetch or _fetch_json
        self._clock = clock
        self._lock = threading.Lock()
        self._fetched_at = 0.0
        self.key_set = self._load()

    def _load(self) -> KeySet:
        if self._file is not None:
            try:
                document = json.loads(self._file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise EvaluatorConfigurationError(
                    f"{self._file} is not a readable JWKS ({type(exc).__name__})",
                    field="token_jwks_file",
                ) from None
            return parse_jwks(document, source=str(self._file))
        self._fetched_at = self._clock()
        return parse_jwks(self._fetch(self._url), source=self._url)

    def refetch(self) -> bool:
        """Fetch the URL again (a token names a new key); at most once a minute."""
        if not self._url or self._file is not None:
            return False
        with self._lock:
            if self._clock() - self._fetched_at < JWKS_REFETCH_SECONDS:
                return False
            try:
                self.key_set = self._load()
            except (EvaluatorConfigurationError, httpx.HTTPError):
                return False
            return True


def _fetch_json(url: str) -> Any:
    try:
        response = httpx.get(url, timeout=10.0)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise EvaluatorConfigurationError(
            f"cannot fetch the gateway's JWKS from {url} ({type(exc).__name__})",
            field="token_jwks_url",
        ) from None


def jws_header(token: str) -> dict[str, Any] | None:
    """A compact JWS's protected header, read *before* any verification (to check ``alg`` and
    ``typ`` against allow-lists first); ``None`` when it is not a JSON object."""
    try:
        segment = token.split(".", 1)[0]
        decoded = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(decoded, dict) or "crit" in decoded:
        return None  # no token or proof of ours has critical parameters
    return decoded


def _header(token: str) -> dict[str, Any]:
    header = jws_header(token)
    if header is None:
        raise _refused("token-malformed", "the bearer token's header is not one of ours")
    return header


class AccessTokenVerifier:
    """Checks one bearer token per request and names the reason when it refuses."""

    def __init__(
        self,
        keys: TokenKeys,
        *,
        issuer: str,
        audience: str,
        required_scope: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._scope = required_scope
        self._clock = clock

    def verify(self, token: str) -> Caller:
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
            raise _refused("token-malformed", "the bearer token is not a compact JWS")
        header = _header(token)
        algorithm = header.get("alg")
        if algorithm not in TOKEN_ALGORITHMS:
            raise _refused("token-algorithm", f"algorithm {str(algorithm)[:16]!r} is not accepted")
        if header.get("typ") not in ACCESS_TOKEN_TYPES:
            raise _refused("token-type", "the bearer token is not an access token (typ at+jwt)")
        claims = self._decode(token, header)
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=CLOCK_SKEW_SECONDS,
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._audience},
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
            code = {"iss": "token-issuer", "aud": "token-audience"}.get(exc.claim, "token-claims")
            raise _refused(
                code, f"the access token's {exc.claim} claim is not acceptable"
            ) from None
        except (TypeError, ValueError):
            raise _refused("token-claims", "the access token's claims are malformed") from None
        if claims["sub"] != claims["client_id"]:
            raise _refused("token-claims", "the access token's sub is not its client")
        scope = claims.get("scope") or ""
        if not isinstance(scope, str):
            raise _refused("token-claims", "the access token's scope is malformed")
        scopes = frozenset(scope.split())
        if self._scope not in scopes:
            raise ForbiddenError(
                f"evaluation needs scope {self._scope}, which the token lacks", field="scope"
            )
        return Caller(
            partner_id=str(claims["partner_id"]),
            client_id=str(claims["client_id"]),
            jti=str(claims["jti"]),
            scopes=scopes,
        )

    def _decode(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(2):
            try:
                decoded = jwt.decode(token, self._keys.key_set, algorithms=list(TOKEN_ALGORITHMS))
            except BadSignatureError:
                raise _refused(
                    "token-signature", "the access token was not signed by the gateway"
                ) from None
            except (InvalidKeyIdError, ValueError):
                # No key with this kid: the gateway may have rotated its key.
                if attempt == 0 and header.get("kid") and self._keys.refetch():
                    continue
                raise _refused(
                    "token-key-unknown", "the access token names a key the gateway never published"
                ) from None
            except JoseError as exc:
                raise _refused("token-malformed", f"access token: {exc.error}") from None
            except (TypeError, RecursionError):
                raise _refused("token-malformed", "the access token is malformed") from None
            return dict(decoded.claims)
        raise _refused("token-key-unknown", "the access token's key is unknown")  # pragma: no cover
