"""Key custody over the real API: sealed envelopes, each partner only its own kinds.

A custodian creates epoch 1 for three partners; each fetches, checks and opens its envelope
with its own X25519 key; a fourth key opens none; envelopes altered at the gateway, a forged
manifest and a custodian key swapped by the gateway operator are all refused by the
connector, and forged or altered uploads by the gateway. Finally the database is searched
for every secret the flow produced: none is there.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.public
import pytest
from sqlalchemy import select, text, update

from connectors.canonical import Kind, canonicalize
from connectors.client import GatewayAPIError
from connectors.custodian import epochs as custody
from connectors.custodian import formats as fm
from connectors.custodian.formats import CustodyFormatError
from connectors.custodian.state import CustodianState
from connectors.errors import KeyMaterialError
from connectors.hashing import HmacTokeniserV1, type_key
from connectors.keystore import ConnectorKeys
from gateway.audit_trail.events import Actor
from gateway.audit_trail.models import AuditEntry
from gateway.db import transaction
from gateway.keys.models import KeyEnvelope, KeyManifest
from gateway.keys.service import KeyCustody
from tests.support.gateway import Custodian, Gateway, Partner, running_gateway

THREE = ("bank-a", "telecom-a", "marketplace-a")


@pytest.fixture
def keyless(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    """A gateway with a registered custodian but no epoch yet."""
    with running_gateway(database_url, tmp_path / "data", bootstrap_epoch=False) as running:
        yield running


def audit_tags(gateway: Gateway) -> list[str]:
    with transaction(gateway.services.session_factory) as session:
        return list(session.scalars(select(AuditEntry.tag).order_by(AuditEntry.seq)))


def epoch_one(gateway: Gateway) -> tuple[Custodian, dict[str, Partner]]:
    partners = {p: gateway.partner(p) for p in THREE}
    custodian = gateway.custodian
    assert custodian is not None
    report = custodian.new_epoch()
    assert sorted(client for client, _, _ in report.sealed) == [f"{p}-c1" for p in sorted(THREE)]
    custodian.activate(1)
    return custodian, partners


def test_three_partners_open_their_own_envelopes_and_nobody_else_can(keyless: Gateway) -> None:
    custodian, partners = epoch_one(keyless)
    answers: dict[str, dict[str, Any]] = {}
    for partner_id, partner in partners.items():
        report = partner.fetch_keys()
        assert report.states == {1: "active"}
        answers[partner_id] = partner.call("GET", "/v1/keys/epochs/1/envelope")
        assert answers[partner_id]["client_id"] == partner.client_id  # only its own
    kinds = {
        p: sorted(k.value for k in partner.store.active().keys) for p, partner in partners.items()
    }
    assert kinds == {
        "bank-a": ["crypto_address", "email", "iban", "phone", "social_account", "url"],
        "telecom-a": ["phone"],  # registered for phone numbers only: no IBAN key
        "marketplace-a": ["domain", "email", "iban", "phone", "social_account", "url"],
    }
    # The keys are the custodian's epoch-1 type keys (spec v1), so everyone's tokens agree.
    master_salt = custodian.state.open_salt(custodian.keys, 1)
    for partner in partners.values():
        for kind, key in partner.store.active().keys.items():
            assert key == type_key(master_salt, kind)
    number = canonicalize(Kind.PHONE, "06 12345678")
    tokens = {
        HmacTokeniserV1(p.store.active().type_keys()).token(Kind.PHONE, number)
        for p in partners.values()
    }
    assert len(tokens) == 1
    with pytest.raises(KeyMaterialError, match="no iban key for epoch 1"):
        HmacTokeniserV1(partners["telecom-a"].store.active().type_keys()).token(
            Kind.IBAN, "NL91ABNA0417164300"
        )

    # A fourth key, registered nowhere, opens none of the three envelopes.
    stranger = ConnectorKeys.generate()
    for data in answers.values():
        with pytest.raises(nacl.exceptions.CryptoError):
            nacl.public.SealedBox(stranger.encryption_key).decrypt(fm.unb64(data["sealed"]))
    # Nor can a partner open another partner's envelope.
    bank_keys = partners["bank-a"].keys
    assert bank_keys is not None
    with pytest.raises(nacl.exceptions.CryptoError):
        nacl.public.SealedBox(bank_keys.encryption_key).decrypt(
            fm.unb64(answers["telecom-a"]["sealed"])
        )

    tags = audit_tags(keyless)
    assert tags.count("key:custodian:register") == 1
    assert tags.count("key:epoch:create") == 1
    assert tags.count("key:epoch:activate") == 1
    assert tags.count("key:envelope:fetch") == 6  # three fetch_keys, three direct downloads


def test_the_connector_refuses_what_the_gateway_altered_or_forged(keyless: Gateway) -> None:
    custodian, partners = epoch_one(keyless)
    bank = partners["bank-a"]
    factory = keyless.services.session_factory
    with transaction(factory) as session:
        original = session.scalars(
            select(KeyEnvelope.sealed).where(KeyEnvelope.client_id == bank.client_id)
        ).one()
        flipped = bytearray(original)
        flipped[40] ^= 0x01
        session.execute(
            update(KeyEnvelope)
            .where(KeyEnvelope.client_id == bank.client_id)
            .values(sealed=bytes(flipped))
        )
    with pytest.raises(CustodyFormatError, match="does not match the SHA-256") as altered:
        bank.fetch_keys()
    assert "nothing was stored" in str(altered.value)
    assert bank.store.epochs == {}

    with transaction(factory) as session:
        session.execute(
            update(KeyEnvelope)
            .values(sealed=original)
            .where(KeyEnvelope.client_id == bank.client_id)
        )
        manifest = session.scalars(select(KeyManifest)).one()
        body = bytes(manifest.body).replace(
            b'"kinds":["crypto_address","email","iban","phone","social_account","url"]',
            b'"kinds":["email","iban"]',
        )
        assert body != bytes(manifest.body)
        manifest.body = body
    with pytest.raises(CustodyFormatError, match="signature does not verify"):
        bank.fetch_keys()
    assert bank.store.epochs == {}

    # The gateway operator replaces the custodian with a key of its own and relays an epoch
    # whose salt it knows, sealed to the partners' real keys: the pinned key stops it.
    with transaction(factory) as session:
        KeyCustody(session, keyless.services, Actor("op", user="cli:operator")).revoke_custodian()
    rogue = CustodianState.generate(custodian.state.client_id)
    custody.register(custodian.api, rogue)
    known_salt = secrets.token_bytes(32)
    listing = custodian.api.call("GET", "/v1/keys/recipients")["recipients"]
    report = custody.IssueReport(epoch=2)
    entries, uploads = custody.seal_for_recipients(
        rogue, known_salt, listing, epoch=2, pin_new=True, report=report
    )
    custodian.api.call(
        "POST",
        "/v1/keys/epochs",
        json=custody.signed_upload(rogue, epoch=2, kind="epoch", entries=entries, uploads=uploads),
    )
    custody.activate(custodian.api, 2)
    telecom = partners["telecom-a"]
    with pytest.raises(CustodyFormatError, match="not by the pinned key"):
        telecom.fetch_keys(2)
    assert 2 not in telecom.store.epochs


def test_the_gateway_refuses_forged_and_altered_uploads(keyless: Gateway) -> None:
    for partner in THREE:
        keyless.partner(partner)
    custodian = keyless.custodian
    assert custodian is not None
    listing = custodian.api.call("GET", "/v1/keys/recipients")
    assert {r["client_id"]: r["kinds"] for r in listing["recipients"]} == {
        "bank-a-c1": ["crypto_address", "email", "iban", "phone", "social_account", "url"],
        "marketplace-a-c1": ["domain", "email", "iban", "phone", "social_account", "url"],
        "telecom-a-c1": ["phone"],
    }

    def upload(state: CustodianState, recipients: list[dict[str, Any]]) -> dict[str, Any]:
        report = custody.IssueReport(epoch=1)
        entries, uploads = custody.seal_for_recipients(
            state, secrets.token_bytes(32), recipients, epoch=1, pin_new=True, report=report
        )
        return custody.signed_upload(state, epoch=1, kind="epoch", entries=entries, uploads=uploads)

    forged = upload(CustodianState.generate(custodian.state.client_id), listing["recipients"])
    with pytest.raises(GatewayAPIError) as refused:
        custodian.api.call("POST", "/v1/keys/epochs", json=forged)
    assert refused.value.status == 403
    assert refused.value.field == "signature"
    assert refused.value.reasons == ("manifest-signature-invalid",)

    honest = upload(custodian.state, listing["recipients"])
    sealed = bytearray(fm.unb64(honest["envelopes"][0]["sealed"]))
    sealed[50] ^= 0x80
    altered = {
        **honest,
        "envelopes": [
            {**honest["envelopes"][0], "sealed": fm.b64(bytes(sealed))},
            *honest["envelopes"][1:],
        ],
    }
    with pytest.raises(GatewayAPIError) as tampered:
        custodian.api.call("POST", "/v1/keys/epochs", json=altered)
    assert tampered.value.status == 422
    assert tampered.value.field is not None
    assert tampered.value.field.endswith(".sha256")

    greedy = [dict(r) for r in listing["recipients"]]
    next(r for r in greedy if r["client_id"] == "telecom-a-c1")["kinds"] = ["iban", "phone"]
    with pytest.raises(GatewayAPIError) as too_much:
        custodian.api.call("POST", "/v1/keys/epochs", json=upload(custodian.state, greedy))
    assert too_much.value.status == 403
    assert "kind-not-allowed-for-sector" in too_much.value.reasons

    assert custodian.api.call("GET", "/v1/keys/epochs")["epochs"] == []
    assert audit_tags(keyless).count("key:epoch:deny") == 3
    # A partner's client cannot act as custodian, nor read envelopes without keys:read.
    with pytest.raises(GatewayAPIError) as not_custodian:
        keyless.partners["bank-a"].call("POST", "/v1/keys/epochs", honest)
    assert not_custodian.value.status == 403
    reader = keyless.partner("bank-b", scopes=("match:query",))
    with pytest.raises(GatewayAPIError) as no_scope:
        reader.call("GET", "/v1/keys/epochs")
    assert no_scope.value.status == 403


def test_a_partner_that_joins_mid_epoch_is_issued_the_same_keys(keyless: Gateway) -> None:
    custodian, partners = epoch_one(keyless)
    late = keyless.partner("bank-b")
    with pytest.raises(GatewayAPIError) as nothing_yet:
        late.call("GET", "/v1/keys/epochs/1/envelope")
    assert nothing_yet.value.status == 404
    assert "custodian issue" in str(nothing_yet.value)
    assert late.fetch_keys().missing == [1]
    report = custodian.issue(1)
    assert [client for client, _, _ in report.sealed] == ["bank-b-c1"]  # not the others again
    late.fetch_keys()
    partners["bank-a"].fetch_keys()
    assert dict(late.store.active().keys) == dict(partners["bank-a"].store.active().keys)
    assert "key:envelope:issue" in audit_tags(keyless)


def test_no_salt_type_key_or_private_key_reaches_the_database(keyless: Gateway) -> None:
    custodian, partners = epoch_one(keyless)
    for partner in partners.values():
        partner.fetch_keys()
    master_salt = custodian.state.open_salt(custodian.keys, 1)
    secrets_made: list[bytes] = [master_salt, bytes(custodian.state.signing_key)]
    secrets_made += [type_key(master_salt, kind) for kind in Kind]
    for partner in partners.values():
        assert partner.keys is not None
        secrets_made += [bytes(partner.keys.encryption_key)]
        secrets_made += [partner.keys.signing_key.as_dict(private=True)["d"].encode()]
    forms = [
        form for raw in secrets_made for form in (raw, raw.hex().encode(), fm.b64(raw).encode())
    ]
    dump = _dump(keyless)
    assert len(dump) > 10_000  # the dump really holds the database's content
    assert [form for form in forms if form in dump] == []


def _dump(gateway: Gateway) -> bytes:
    """Every row of every table, as bytes and text (what a database thief would hold)."""
    parts: list[bytes] = []
    with gateway.services.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            database = gateway.services.settings.effective_database_url.split(":///", 1)[1]
            return b"".join(
                p.read_bytes() for p in Path(database).parent.glob(Path(database).name + "*")
            )
        tables = (
            connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            .scalars()
            .all()
        )
        for table in tables:
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value))
                    elif value is not None:
                        parts.append(json.dumps(value, default=str).encode())
    return b"\n".join(parts)
