"""``private_key_jwt`` client authentication (RFC 7523 section 2.2) on Authlib's verifier.

Authlib's :class:`JWTBearerClientAssertion` does the protocol; we fill in its documented hooks
(the client's public key, the audience, the ``jti`` store) and tighten it where a gateway
must be strict:

- an explicit algorithm allow-list (ES256 only) checked on the header *and* passed to joserfc,
  so ``alg: none``, HMAC and every other algorithm are refused by name;
- ``iss`` = ``sub`` = the client, ``aud`` = the token endpoint URL, ``exp`` and ``jti``
  required, ``exp`` at most ``client_assertion_max_lifetime_seconds`` ahead;
- every verified ``jti`` is stored until the assertion expires, and a second use is refused
  (the primary key makes this hold under concurrency too).

Failures raise :class:`~gateway.auth.errors.AssertionRefused` with a stable reason code.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7523.client import ASSERTION_TYPE
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import ECKey
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.auth.errors import AssertionRefused
from gateway.auth.models import UsedClientAssertion

CLIENT_ASSERTION_ALGORITHMS = ("ES256",)
CLOCK_SKEW_SECONDS = 30
MAX_JTI_LENGTH = 255


def public_key_from_jwk(text: str) -> ECKey:
    """The registered public key of a client (an EC P-256 JWK)."""
    data = json.loads(text)
    return ECKey.import_key({k: v for k, v in data.items() if k != "d"})


class PrivateKeyJWTAssertion(JWTBearerClientAssertion):  # type: ignore[misc]
    """Verifies one token request's client assertion; built per request with its session."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(
        self,
        *,
        session: Session,
        token_endpoint_url: str,
        max_lifetime_seconds: int,
        now: Callable[[], datetime],
    ) -> None:
        super().__init__(validate_jti=True, leeway=CLOCK_SKEW_SECONDS)
        self.session = session
        self.token_endpoint_url = token_endpoint_url
        self.max_lifetime_seconds = max_lifetime_seconds
        self._now = now
        self.verified_claims: dict[str, Any] | None = None
        self.header_client_id: str | None = None

    def _timestamp(self) -> int:
        return int(self._now().timestamp())

    def __call__(self, query_client: Callable[[str], Any], request: Any) -> Any:
        form = request.form
        assertion_type = form.get("client_assertion_type")
        if not form.get("client_assertion"):
            raise AssertionRefused(
                "assertion-missing",
                "client authentication requires a client_assertion (private_key_jwt); "
                "client secrets are not supported",
                field="client_assertion",
            )
        if assertion_type != ASSERTION_TYPE:
            raise AssertionRefused(
                "assertion-type",
                f"client_assertion_type must be {ASSERTION_TYPE}",
                field="client_assertion_type",
            )

        def query_known_client(client_id: str) -> Any:
            client = query_client(client_id)
            if client is None:
                raise AssertionRefused(
                    "client-unknown", "no client is registered under this id", field="sub"
                )
            return client

        try:
            client = super().__call__(query_known_client, request)
        except AssertionRefused:
            raise
        except InvalidClientError as exc:  # Authlib's own checks (e.g. a missing ``sub``)
            raise AssertionRefused(
                "assertion-claims", str(exc.description), field="client_assertion"
            ) from None
        form_client_id = form.get("client_id")
        if form_client_id is not None and form_client_id != client.get_client_id():
            raise AssertionRefused(
                "client-mismatch",
                "client_id does not match the assertion's subject",
                field="client_id",
            )
        return client

    def extract_assertion(self, assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            headers, claims = super().extract_assertion(assertion)
        except (InvalidClientError, RecursionError):
            # RecursionError: JSON nested deeper than the parser's stack (a cheap crash lever).
            raise AssertionRefused(
                "assertion-malformed",
                "client_assertion is not a compact JWS with a JSON object payload",
                field="client_assertion",
            ) from None
        for part, values in (("header", headers), ("claims", claims)):
            holder = _nul_holder(values)
            if holder is not None:
                raise AssertionRefused(
                    "assertion-malformed",
                    f"the assertion's {part} contain a NUL character",
                    field=f"client_assertion.{holder}",
                )
        algorithm = headers.get("alg")
        if algorithm not in CLIENT_ASSERTION_ALGORITHMS:
            raise AssertionRefused(
                "assertion-algorithm",
                f"algorithm {str(algorithm)[:16]!r} is not allowed; sign with "
                + ", ".join(CLIENT_ASSERTION_ALGORITHMS),
                field="client_assertion.alg",
            )
        return dict(headers), claims

    def resolve_client_public_key(self, client: Any) -> ECKey:
        return public_key_from_jwk(client.row.public_jwk)

    def get_audiences(self) -> list[str]:
        return [self.token_endpoint_url]

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=list(CLIENT_ASSERTION_ALGORITHMS))
        except RecursionError:
            raise AssertionRefused(
                "assertion-malformed",
                "client_assertion is nested too deeply",
                field="client_assertion",
            ) from None
        except BadSignatureError:
            raise AssertionRefused(
                "assertion-signature",
                "the assertion's signature does not verify with the client's registered key",
                field="client_assertion",
            ) from None
        except JoseError as exc:
            raise AssertionRefused(
                "assertion-malformed", f"client_assertion: {exc.error}", field="client_assertion"
            ) from None
        self.verify_claims(token.claims)
        self.verified_claims = dict(token.claims)
        return dict(token.claims)

    def verify_claims(self, claims: dict[str, Any]) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=self._timestamp,
            leeway=self.leeway,
            iss={"essential": True},
            sub={"essential": True},
            aud={"essential": True, "values": self.get_audiences()},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise AssertionRefused(
                "assertion-expired", "the assertion has expired", field="client_assertion.exp"
            ) from None
        except MissingClaimError as exc:
            raise AssertionRefused(
                "assertion-claims",
                f"the assertion lacks required claim(s) {exc.claim}",
                field=f"client_assertion.{exc.claim.split(',')[0]}",
            ) from None
        except InvalidClaimError as exc:
            raise _invalid_claim(exc.claim, self.token_endpoint_url) from None
        if claims["iss"] != claims["sub"]:
            raise AssertionRefused(
                "client-mismatch", "iss and sub must both be the client id", field="iss"
            )
        if claims["exp"] - self._timestamp() > self.max_lifetime_seconds + self.leeway:
            raise AssertionRefused(
                "assertion-lifetime",
                f"the assertion is valid for too long; exp may be at most "
                f"{self.max_lifetime_seconds} s ahead",
                field="client_assertion.exp",
            )
        if len(claims["jti"]) > MAX_JTI_LENGTH:
            raise AssertionRefused(
                "assertion-claims",
                f"jti is longer than {MAX_JTI_LENGTH} characters",
                field="client_assertion.jti",
            )
        if not self.validate_jti(claims, claims["jti"]):
            raise AssertionRefused(
                "assertion-replayed",
                "this assertion (jti) was already used; sign a new one for every request",
                field="client_assertion.jti",
            )

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        """Record the ``jti``; False if this client used it before (replay)."""
        now = self._now()
        expires_at = datetime.fromtimestamp(float(claims["exp"]) + self.leeway, tz=UTC)
        self.session.execute(
            delete(UsedClientAssertion).where(UsedClientAssertion.expires_at < now)
        )
        try:
            with self.session.begin_nested():
                self.session.add(
                    UsedClientAssertion(client_id=claims["sub"], jti=jti, expires_at=expires_at)
                )
        except IntegrityError:
            return False
        return True

    def authenticate_client(self, client: Any) -> Any:
        """After the signature is verified: is the client (and its partner) still active?"""
        refusal = client.inactive_reason()
        if refusal is not None:
            code, text = refusal
            raise AssertionRefused(code, text, field="sub")
        return super().authenticate_client(client)


def unverified_subject(assertion: str | None) -> str | None:
    """The ``sub`` an assertion claims, unverified (only to name a registered client)."""
    if not assertion or assertion.count(".") != 2:
        return None
    payload = assertion.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, RecursionError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) else None


def _nul_holder(values: Any) -> str | None:
    """The top-level name whose value (at any depth) holds a NUL character, if any."""
    if not isinstance(values, dict):
        return None
    for name, value in values.items():
        if _holds_nul([name, value]):
            return str(name).replace("\x00", "") or "claims"
    return None


def _holds_nul(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _invalid_claim(claim: str, audience: str) -> AssertionRefused:
    if claim == "aud":
        return AssertionRefused(
            "assertion-audience",
            f"aud must be the token endpoint URL {audience}",
            field="client_assertion.aud",
        )
    if claim in {"nbf", "iat"}:
        return AssertionRefused(
            "assertion-not-yet-valid",
            f"the assertion is not valid yet ({claim} is in the future)",
            field=f"client_assertion.{claim}",
        )
    return AssertionRefused(
        "assertion-claims", f"claim {claim} is invalid", field=f"client_assertion.{claim}"
    )
