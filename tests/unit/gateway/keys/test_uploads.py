"""Uploads are verified before anything is stored, and every refusal is audited."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import func, select

from audit.canonical import canonical_json
from connectors.custodian import formats as fm
from connectors.custodian.state import CustodianState
from gateway.epochs.models import KeyEpoch
from gateway.errors import ConflictError, GatewayError, InvalidRequestError, PermissionDeniedError
from gateway.keys.models import KeyEnvelope, KeyManifest
from gateway.keys.schemas import EpochUpload
from tests.unit.gateway.keys.conftest import World

CUSTODIAN = "custodian-pps-c1"


def refused(world: World, body: EpochUpload, *, client: str = CUSTODIAN) -> GatewayError:
    with pytest.raises(GatewayError) as caught, world.session() as session:
        world.custody(session, client).upload_epoch(client, body)
    return caught.value


def nothing_stored(world: World) -> bool:
    with world.session() as session:
        return not any(
            session.scalar(select(func.count()).select_from(model))
            for model in (KeyEpoch, KeyManifest, KeyEnvelope)
        )


def resigned(world: World, body: EpochUpload, change: Any) -> EpochUpload:
    """The custodian itself signing a manifest it changed (to test the gateway's checks)."""
    document = fm.parse_document(fm.unb64(body.manifest), "manifest")
    before = [entry["client_id"] for entry in document["envelopes"]]
    change(document)
    renamed = dict(zip(before, (e["client_id"] for e in document["envelopes"]), strict=True))
    manifest = canonical_json(document)
    signature = fm.sign(world.custodian.signing_key, fm.MANIFEST_CONTEXT, manifest)
    envelopes = [
        item.model_copy(update={"client_id": renamed[item.client_id]}) for item in body.envelopes
    ]
    return body.model_copy(
        update={
            "manifest": fm.b64(manifest),
            "signature": fm.b64(signature),
            "envelopes": envelopes,
        }
    )


def test_a_verified_upload_is_stored_as_signed(world: World) -> None:
    body = world.upload(1)
    with world.session() as session:
        done = world.custody(session, CUSTODIAN).upload_epoch(CUSTODIAN, body)
    assert (done.epoch.epoch, done.epoch.state, done.envelopes) == (1, "pending", 3)
    with world.session() as session:
        manifest = session.scalars(select(KeyManifest)).one()
        envelopes = {e.client_id: e for e in session.scalars(select(KeyEnvelope))}
    assert bytes(manifest.body) == fm.unb64(body.manifest)  # byte for byte
    assert envelopes["telecom-a-c1"].kinds == "phone"
    assert envelopes["bank-a-c1"].kinds == "crypto_address,email,iban,phone,social_account,url"
    assert envelopes["marketplace-a-c1"].kinds == "domain,email,iban,phone,social_account,url"
    for envelope in envelopes.values():
        assert hashlib.sha256(envelope.sealed).hexdigest() == envelope.sha256
    (created,) = world.entries("key:epoch:create")
    assert created["counts"] == {"epoch": 1, "envelopes": 3}
    assert created["actor"]["client"] == CUSTODIAN

    # The same upload again (a retry) changes nothing and is not audited twice.
    with world.session() as session:
        again = world.custody(session, CUSTODIAN).upload_epoch(CUSTODIAN, body)
    assert again.receipt is None
    assert again.manifest_sha256 == done.manifest_sha256
    assert world.tags().count("key:epoch:create") == 1


def test_a_forged_signature_is_refused_and_audited(world: World) -> None:
    forger = CustodianState.generate(CUSTODIAN)
    body = world.upload(1, signer=forger)
    # The manifest even names the real custodian's key id: only the signature betrays it.
    body = body.model_copy(
        update={
            "manifest": fm.b64(
                fm.unb64(body.manifest).replace(
                    forger.key_id.encode(), world.custodian.key_id.encode()
                )
            )
        }
    )
    error = refused(world, body)
    assert isinstance(error, PermissionDeniedError)
    assert error.field == "signature"
    assert error.reasons == ("manifest-signature-invalid",)
    assert "nothing was stored" in error.reason
    assert nothing_stored(world)
    (denied,) = world.entries("key:epoch:deny")
    assert denied["decision"] == "deny"
    assert denied["reasons"] == ["manifest-signature-invalid"]


def test_an_envelope_altered_after_signing_is_refused(world: World) -> None:
    body = world.upload(1)
    first = body.envelopes[0]
    sealed = bytearray(fm.unb64(first.sealed))
    sealed[-1] ^= 1
    tampered = body.model_copy(
        update={
            "envelopes": [
                first.model_copy(update={"sealed": fm.b64(bytes(sealed))}),
                *body.envelopes[1:],
            ]
        }
    )
    error = refused(world, tampered)
    assert isinstance(error, InvalidRequestError)
    assert error.field == "manifest.envelopes.0.sha256"
    assert "altered after signing" in error.reason
    assert nothing_stored(world)
    assert world.tags().count("key:epoch:deny") == 1


def test_a_telecom_cannot_be_given_an_iban_key(world: World) -> None:
    recipients = world.recipients()
    telecom = next(r for r in recipients if r["partner_id"] == "telecom-a")
    assert telecom["kinds"] == ["phone"]
    telecom["kinds"] = ["iban", "phone"]
    error = refused(world, world.upload(1, recipients))
    assert isinstance(error, PermissionDeniedError)
    assert error.field is not None
    assert error.field.endswith(".kinds")
    assert "kind-not-allowed" in error.reasons
    assert "kind-not-allowed-for-sector" in error.reasons
    assert "iban" in error.reason
    assert nothing_stored(world)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.update(recipient_key_id="A" * 43), "recipient_key_id"),
        (lambda e: e.update(client_id="nobody-c1"), "client_id"),
        (lambda e: e.update(partner_id="bank-b"), "client_id"),
    ],
)
def test_recipients_must_be_registered_clients_with_their_own_keys(
    world: World, change: Any, field: str
) -> None:
    body = world.upload(1)

    def alter(document: dict[str, Any]) -> None:
        change(document["envelopes"][0])

    error = refused(world, resigned(world, body, alter))
    assert isinstance(error, InvalidRequestError)
    assert error.field is not None
    assert error.field.endswith(field)


def test_only_the_registered_custodian_may_upload(world: World) -> None:
    other = world.add_client("custodian-pps", ("keys:custody",))
    error = refused(world, world.upload(1), client=other)
    assert isinstance(error, PermissionDeniedError)
    assert error.reasons == ("custodian-mismatch",)


def test_epochs_come_in_order_and_one_pending_at_a_time(world: World) -> None:
    with world.session() as session:
        world.custody(session, CUSTODIAN).upload_epoch(CUSTODIAN, world.upload(1))
    error = refused(world, world.upload(2))
    assert isinstance(error, ConflictError)
    assert "epoch 1 is still pending" in error.reason
    with world.session() as session:
        world.custody(session, CUSTODIAN).activate(CUSTODIAN, 1, None)
    error = refused(world, world.upload(5))
    assert isinstance(error, ConflictError)
    assert error.field == "manifest.epoch"
    assert "must be 2" in error.reason


def test_a_supplement_issues_to_a_late_partner_and_to_a_new_key(world: World) -> None:
    salt = b"\x07" * 32
    with world.session() as session:
        world.custody(session, CUSTODIAN).upload_epoch(CUSTODIAN, world.upload(1, master_salt=salt))
    late = world.add_client("bank-b")
    only_late = [r for r in world.recipients() if r["client_id"] == late]
    body = world.upload(1, only_late, kind="supplement", master_salt=salt)
    with world.session() as session:
        done = world.custody(session, CUSTODIAN).add_envelopes(CUSTODIAN, 1, body)
    assert done.envelopes == 1
    # The same client and key again is a conflict, not a silent duplicate.
    again = world.upload(1, only_late, kind="supplement", master_salt=salt)
    with pytest.raises(ConflictError), world.session() as session:
        world.custody(session, CUSTODIAN).add_envelopes(CUSTODIAN, 1, again)
    # An upload of kind "epoch" cannot pose as a supplement, nor the reverse.
    with pytest.raises(InvalidRequestError), world.session() as session:
        world.custody(session, CUSTODIAN).add_envelopes(CUSTODIAN, 1, world.upload(1))
    assert world.tags().count("key:envelope:issue") == 1
