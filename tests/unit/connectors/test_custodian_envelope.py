"""Sign, then seal; and the connector's checks when it opens what the gateway relays."""

from __future__ import annotations

import hashlib
from typing import Any

import nacl.exceptions
import nacl.public
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.canonical import canonical_json
from connectors.canonical import Kind
from connectors.custodian import formats as fm
from connectors.custodian.envelope import open_envelope, seal_envelope
from connectors.custodian.formats import CustodyFormatError
from connectors.custodian.state import CustodianState
from connectors.hashing import type_key
from connectors.keystore import ConnectorKeys

SALT = bytes(range(32))
CUSTODIAN = CustodianState.generate("custodian-c1")
PARTNER = ConnectorKeys.generate()
KID = str(PARTNER.public_encryption_jwk()["kid"])


def answer(
    *,
    keys: dict[Kind, bytes] | None = None,
    epoch: int = 4,
    client_id: str = "bank-a-c1",
    signer: CustodianState = CUSTODIAN,
    recipient: nacl.public.PublicKey | None = None,
    manifest_kinds: list[str] | None = None,
) -> dict[str, Any]:
    """What ``GET /v1/keys/epochs/{n}/envelope`` returns for an honest custodian."""
    chosen = keys if keys is not None else {k: type_key(SALT, k) for k in (Kind.IBAN, Kind.PHONE)}
    sealed = seal_envelope(
        signer.signing_key,
        recipient or PARTNER.encryption_key.public_key,
        epoch=epoch,
        issued_at="2026-11-29T10:00:00Z",
        client_id=client_id,
        partner_id="bank-a",
        recipient_key_id=KID,
        keys=chosen,
    )
    entry = {
        "client_id": "bank-a-c1",
        "partner_id": "bank-a",
        "recipient_key_id": KID,
        "kinds": manifest_kinds or sorted(k.value for k in chosen),
        "sha256": hashlib.sha256(sealed).hexdigest(),
    }
    manifest = canonical_json(
        {
            "format": fm.MANIFEST_FORMAT,
            "version": 1,
            "spec": "v1",
            "epoch": epoch,
            "kind": "epoch",
            "issued_at": "2026-11-29T10:00:00Z",
            "custodian_key_id": signer.key_id,
            "envelopes": [entry],
        }
    )
    return {
        "epoch": epoch,
        "state": "active",
        "sealed": fm.b64(sealed),
        "manifest": fm.b64(manifest),
        "manifest_signature": fm.b64(fm.sign(signer.signing_key, fm.MANIFEST_CONTEXT, manifest)),
        "custodian_key_id": signer.key_id,
    }


def opened(data: dict[str, Any], *, keys: ConnectorKeys = PARTNER, epoch: int = 4) -> Any:
    return open_envelope(
        data, keys=keys, client_id="bank-a-c1", custodian_key=CUSTODIAN.public_key, epoch=epoch
    )


def test_the_recipient_opens_exactly_its_kinds() -> None:
    result = opened(answer())
    assert result.keys.epoch == 4
    assert dict(result.keys) == {
        Kind.IBAN: type_key(SALT, Kind.IBAN),
        Kind.PHONE: type_key(SALT, Kind.PHONE),
    }
    assert set(result.keys) == {Kind.IBAN, Kind.PHONE}  # no e-mail key was sealed
    assert result.custodian_key_id == CUSTODIAN.key_id


def test_another_key_cannot_open_it() -> None:
    data = answer()
    stranger = ConnectorKeys.generate()
    with pytest.raises(nacl.exceptions.CryptoError):
        nacl.public.SealedBox(stranger.encryption_key).decrypt(fm.unb64(data["sealed"]))
    with pytest.raises(CustodyFormatError, match="another X25519 key"):
        opened(data, keys=stranger)


def test_a_forged_custodian_is_refused() -> None:
    forger = CustodianState.generate("custodian-c1")
    data = answer(signer=forger)
    with pytest.raises(CustodyFormatError, match="not by the pinned key"):
        opened(data)
    # Even claiming the pinned key's id does not help: the signature is checked.
    with pytest.raises(CustodyFormatError, match="signature does not verify") as refused:
        opened({**data, "custodian_key_id": CUSTODIAN.key_id})
    assert "nothing was stored" in str(refused.value)


@settings(max_examples=40, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_altered_byte_of_the_envelope_is_refused(position: int, bit: int) -> None:
    data = answer()
    sealed = bytearray(fm.unb64(data["sealed"]))
    sealed[position % len(sealed)] ^= 1 << bit
    with pytest.raises(CustodyFormatError, match="does not match the SHA-256"):
        opened({**data, "sealed": fm.b64(bytes(sealed))})


def test_a_reissued_envelope_for_another_client_or_epoch_is_refused() -> None:
    # Signed by the real custodian, but made for someone else: the inner payload betrays it.
    with pytest.raises(CustodyFormatError, match="made for something else: client_id"):
        opened(answer(client_id="bank-b-c1"))
    with pytest.raises(CustodyFormatError, match="not one for epoch 5"):
        opened(answer(), epoch=5)


def test_kinds_must_match_the_manifest() -> None:
    with pytest.raises(CustodyFormatError, match="kinds differ"):
        opened(answer(manifest_kinds=["phone"]))
