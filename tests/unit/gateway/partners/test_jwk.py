from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.keystore import ConnectorKeys
from gateway.errors import InvalidRequestError
from gateway.partners.jwk import parse_client_keys


@pytest.fixture
def keys() -> ConnectorKeys:
    return ConnectorKeys.generate()


def test_keys_init_output_is_accepted(keys: ConnectorKeys) -> None:
    parsed = parse_client_keys(json.dumps(keys.public_jwks()))
    assert parsed.key_id == keys.key_id
    signing = json.loads(parsed.signing_jwk)
    assert signing["alg"] == "ES256"
    assert signing["use"] == "sig"
    assert "d" not in signing
    assert json.loads(parsed.encryption_jwk or "{}")["crv"] == "X25519"


def test_a_single_signing_jwk_is_enough(keys: ConnectorKeys) -> None:
    parsed = parse_client_keys(keys.public_signing_jwk())
    assert parsed.encryption_jwk is None


def test_private_key_material_is_refused(keys: ConnectorKeys) -> None:
    private = dict(keys.signing_key.as_dict(private=True))
    with pytest.raises(InvalidRequestError, match="PRIVATE") as caught:
        parse_client_keys({"keys": [private]})
    assert caught.value.field == "jwk"


def _refusal(data: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        parse_client_keys(data)
    return caught.value


def test_bad_inputs_name_field_and_reason(keys: ConnectorKeys) -> None:
    signing = keys.public_signing_jwk()
    assert _refusal("not json").reason == "is not valid JSON"
    assert "exactly one" in _refusal({"keys": []}).reason
    assert "exactly one" in _refusal({"keys": [signing, signing]}).reason
    assert _refusal({**signing, "crv": "P-384"}).field == "jwk.crv"
    assert _refusal({**signing, "alg": "ES512"}).field == "jwk.alg"
    assert _refusal({**signing, "use": "enc"}).field == "jwk.use"
    assert _refusal({**signing, "y": signing["x"]}).field == "jwk.x"  # not on the curve
    assert _refusal({"kty": "RSA", "n": "x", "e": "AQAB"}).reason.startswith("needs exactly one")
    bad_x25519 = {**keys.public_encryption_jwk(), "x": "c2hvcnQ"}
    assert _refusal({"keys": [signing, bad_x25519]}).field == "jwk.x"
