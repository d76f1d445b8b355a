"""Access tokens from the gateway's issuer, checked with its public JWKS only."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from bench.evaluators import GatewayTokenIssuer
from evaluator.auth import AccessTokenVerifier, TokenKeys, parse_jwks
from evaluator.errors import EvaluatorConfigurationError, ForbiddenError, UnauthenticatedError

ISSUER = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def issuer() -> GatewayTokenIssuer:
    return GatewayTokenIssuer(ISSUER)


def _verifier(
    token_issuer: GatewayTokenIssuer, tmp_path: Path, **options: Any
) -> AccessTokenVerifier:
    keys = TokenKeys(jwks_file=token_issuer.write_jwks(tmp_path / "jwks.json"))
    values: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": ISSUER,
        "required_scope": "oprf:evaluate",
    }
    values.update(options)
    return AccessTokenVerifier(keys, **values)


def _claims(token: str) -> dict[str, Any]:
    import base64

    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_gateway_token_is_accepted(issuer: GatewayTokenIssuer, tmp_path: Path) -> None:
    caller = _verifier(issuer, tmp_path).verify(issuer.mint("bank-a", "bank-a-1"))
    assert caller.partner_id == "bank-a"
    assert caller.client_id == "bank-a-1"
    assert "oprf:evaluate" in caller.scopes


def test_missing_scope_is_forbidden(issuer: GatewayTokenIssuer, tmp_path: Path) -> None:
    token = issuer.mint("bank-a", scope="match:query")
    with pytest.raises(ForbiddenError, match="oprf:evaluate") as caught:
        _verifier(issuer, tmp_path).verify(token)
    assert caught.value.status == 403


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"issuer": "https://other.example"}, "token-issuer"),
        ({"audience": "https://evaluator.example"}, "token-audience"),
        ({"clock": lambda: time.time() + 3600}, "token-expired"),
    ],
)
def test_claims_are_checked(
    issuer: GatewayTokenIssuer, tmp_path: Path, options: dict[str, Any], code: str
) -> None:
    with pytest.raises(UnauthenticatedError) as caught:
        _verifier(issuer, tmp_path, **options).verify(issuer.mint("bank-a"))
    assert caught.value.code == code


def test_token_of_another_signer_is_refused(issuer: GatewayTokenIssuer, tmp_path: Path) -> None:
    stranger = GatewayTokenIssuer(ISSUER)
    with pytest.raises(UnauthenticatedError) as caught:
        _verifier(issuer, tmp_path).verify(stranger.mint("bank-a"))
    assert caught.value.code in {"token-signature", "token-key-unknown"}


def test_algorithm_allow_list_comes_first(issuer: GatewayTokenIssuer, tmp_path: Path) -> None:
    claims = _claims(issuer.mint("bank-a"))
    hmac_key = OctKey.generate_key(256)
    forged = jwt.encode({"alg": "HS256", "typ": "at+jwt"}, claims, hmac_key, algorithms=["HS256"])
    with pytest.raises(UnauthenticatedError) as caught:
        _verifier(issuer, tmp_path).verify(forged)
    assert caught.value.code == "token-algorithm"
    _header, payload, _signature = issuer.mint("bank-a").split(".")
    import base64

    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=").decode()
    with pytest.raises(UnauthenticatedError) as caught:
        _verifier(issuer, tmp_path).verify(f"{none_header}.{payload}.")
    assert caught.value.code == "token-algorithm"


def test_plain_jwt_is_not_an_access_token(issuer: GatewayTokenIssuer, tmp_path: Path) -> None:
    claims = _claims(issuer.mint("bank-a"))
    token = jwt.encode({"alg": "ES256", "typ": "JWT"}, claims, issuer.key.private)
    with pytest.raises(UnauthenticatedError) as caught:
        _verifier(issuer, tmp_path).verify(token)
    assert caught.value.code == "token-type"


def test_jwks_with_a_private_key_is_refused() -> None:
    private = ECKey.generate_key("P-256").as_dict(private=True)
    with pytest.raises(EvaluatorConfigurationError, match="private key"):
        parse_jwks({"keys": [private]}, source="jwks.json")


def test_jwks_url_is_refetched_for_a_new_key(issuer: GatewayTokenIssuer) -> None:
    rotated = GatewayTokenIssuer(ISSUER)
    served = [issuer.jwks()]
    now = [1000.0]
    keys = TokenKeys(jwks_url="https://gw/jwks", fetch=lambda _url: served[0], clock=lambda: now[0])
    verifier = AccessTokenVerifier(
        keys, issuer=ISSUER, audience=ISSUER, required_scope="oprf:evaluate"
    )
    token = rotated.mint("bank-a")
    served[0] = rotated.jwks()
    with pytest.raises(UnauthenticatedError):  # fetched less than a minute ago: no refetch
        verifier.verify(token)
    now[0] += 61
    assert verifier.verify(token).partner_id == "bank-a"


def test_no_key_source_is_a_configuration_error() -> None:
    with pytest.raises(EvaluatorConfigurationError, match="TOKEN_JWKS"):
        TokenKeys()
