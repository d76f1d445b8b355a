"""Access-token verification: every RFC 9068 check refuses with its own reason code."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from gateway.auth.access_tokens import verify_access_token
from gateway.auth.errors import CredentialRefusedError
from gateway.auth.keys import TokenSigningKey

ISSUER = "https://gateway.test"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
KEY = TokenSigningKey.from_scalar(bytes.fromhex("11" * 32))


def claims(**overrides: Any) -> dict[str, Any]:
    base = {
        "iss": ISSUER,
        "aud": ISSUER,
        "sub": "bank-1",
        "client_id": "bank-1",
        "partner_id": "bank",
        "scope": "match:query",
        "jti": "j1",
        "key_version": 1,
        "iat": T - 10,
        "exp": T + 290,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], *, key: Any = None, header: dict[str, Any] | None = None) -> str:
    return jwt.encode(header or {"alg": "ES256", "typ": "at+jwt"}, payload, key or KEY.private)


def verify(token: str) -> Any:
    return verify_access_token(token, key=KEY, issuer=ISSUER, audience=ISSUER, now=NOW)


def refusal(token: str) -> str:
    with pytest.raises(CredentialRefusedError) as caught:
        verify(token)
    assert caught.value.status == 401
    assert caught.value.field == "Authorization"
    return caught.value.reason_code


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def test_valid_token_yields_its_claims() -> None:
    verified = verify(sign(claims()))
    assert (verified.client_id, verified.partner_id, verified.key_version) == ("bank-1", "bank", 1)
    assert verified.scopes == {"match:query"}


def test_expired() -> None:
    assert refusal(sign(claims(exp=T - 31, iat=T - 331))) == "token-expired"


def test_clock_skew_is_tolerated_up_to_30_seconds() -> None:
    assert verify(sign(claims(exp=T - 20))).client_id == "bank-1"
    assert verify(sign(claims(iat=T + 20))).client_id == "bank-1"


def test_not_yet_valid() -> None:
    assert refusal(sign(claims(iat=T + 120))) == "token-not-yet-valid"
    assert refusal(sign(claims(nbf=T + 120))) == "token-not-yet-valid"


def test_wrong_audience_and_issuer() -> None:
    assert refusal(sign(claims(aud="https://elsewhere.test"))) == "token-audience"
    assert refusal(sign(claims(iss="https://evil.test"))) == "token-issuer"


def test_signed_by_another_key() -> None:
    partner_key = ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))
    assert refusal(sign(claims(), key=partner_key)) == "token-signature"


def test_alg_none_is_refused_before_verification() -> None:
    token = unsigned({"alg": "none", "typ": "at+jwt"}, claims())
    assert refusal(token) == "token-algorithm"


def test_hmac_with_the_public_key_is_refused() -> None:
    public_pem = json.dumps(KEY.public_jwk()).encode()
    token = jwt.encode({"alg": "HS256", "typ": "at+jwt"}, claims(), OctKey.import_key(public_pem))
    assert refusal(token) == "token-algorithm"


def test_other_jwt_types_are_not_access_tokens() -> None:
    assert refusal(sign(claims(), header={"alg": "ES256", "typ": "JWT"})) == "token-type"
    assert refusal(sign(claims(), header={"alg": "ES256"})) == "token-type"


@pytest.mark.parametrize("missing", ["client_id", "partner_id", "jti", "exp", "iat", "sub"])
def test_missing_claims(missing: str) -> None:
    assert refusal(sign(claims(**{missing: None}))) == "token-claims"


def test_subject_must_be_the_client() -> None:
    assert refusal(sign(claims(sub="bank-2"))) == "token-claims"


def test_tampered_payload_breaks_the_signature() -> None:
    header, _payload, signature = sign(claims()).split(".")
    forged = (
        base64.urlsafe_b64encode(json.dumps(claims(scope="admin")).encode()).rstrip(b"=").decode()
    )
    assert refusal(f"{header}.{forged}.{signature}") == "token-signature"


@given(st.text(max_size=300))
def test_arbitrary_strings_are_refused_cleanly(text: str) -> None:
    with pytest.raises(CredentialRefusedError):
        verify(text)


def test_a_remembered_signature_is_not_checked_again_but_the_claims_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.auth import access_tokens

    checked: list[str] = []
    real = access_tokens._verify_signature

    def counting(token: str, key: TokenSigningKey) -> dict[str, Any]:
        checked.append(token)
        return real(token, key)

    monkeypatch.setattr(access_tokens, "_verify_signature", counting)
    verified: access_tokens.VerifiedTokens = {}
    token = sign(claims())
    for _ in range(3):
        verify_access_token(
            token, key=KEY, issuer=ISSUER, audience=ISSUER, now=NOW, verified=verified
        )
    assert checked == [token]
    later = datetime.fromtimestamp(T + 3600, tz=UTC)  # expired: the claims are checked anew
    with pytest.raises(CredentialRefusedError) as caught:
        verify_access_token(
            token, key=KEY, issuer=ISSUER, audience=ISSUER, now=later, verified=verified
        )
    assert caught.value.reason_code == "token-expired"
    verify(token)  # without a memory of its own, the signature is checked every call
    assert checked == [token, token]
