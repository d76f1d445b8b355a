"""Reading and verifying the custodian's manifests at the gateway (no decryption anywhere)."""

from __future__ import annotations

import json

import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.canonical import canonical_json
from connectors.custodian import formats as fm
from gateway.errors import InvalidRequestError
from gateway.keys import manifest as mf

KEY = nacl.signing.SigningKey(bytes(range(32)))
PUBLIC = bytes(KEY.verify_key)
ENTRY = {
    "client_id": "bank-a-c1",
    "partner_id": "bank-a",
    "recipient_key_id": "A" * 43,
    "kinds": ["email", "iban", "phone"],
    "sha256": "ab" * 32,
}


def manifest_doc(**changes: object) -> dict[str, object]:
    document: dict[str, object] = {
        "format": "ppsgate-key-manifest",
        "version": 1,
        "spec": "v1",
        "epoch": 3,
        "kind": "epoch",
        "issued_at": "2026-11-29T10:00:00Z",
        "custodian_key_id": mf.custodian_key_id(PUBLIC),
        "envelopes": [ENTRY],
    }
    document.update(changes)
    return document


def test_gateway_and_connector_agree_on_the_format() -> None:
    assert mf.MANIFEST_CONTEXT == fm.MANIFEST_CONTEXT
    assert mf.CUSTODIAN_KEY_CONTEXT == fm.CUSTODIAN_KEY_CONTEXT
    assert mf.MANIFEST_FORMAT == fm.MANIFEST_FORMAT
    assert mf.custodian_key_id(PUBLIC) == fm.custodian_key_id(PUBLIC)
    assert mf.parse_custodian_key(fm.custodian_key_text(PUBLIC)) == PUBLIC
    assert mf.registration_statement("c", PUBLIC) == fm.registration_statement("c", PUBLIC)


def test_a_good_manifest_reads_and_verifies() -> None:
    body = canonical_json(manifest_doc())
    signature = fm.sign(KEY, fm.MANIFEST_CONTEXT, body)
    assert mf.verify_signature(PUBLIC, mf.MANIFEST_CONTEXT, body, signature)
    parsed = mf.parse_manifest(body)
    assert parsed.epoch == 3
    assert parsed.entries[0].kinds == ("email", "iban", "phone")
    # The same signature under another context (e.g. an envelope's) does not verify.
    assert not mf.verify_signature(PUBLIC, fm.ENVELOPE_CONTEXT, body, signature)
    other = nacl.signing.SigningKey.generate()
    assert not mf.verify_signature(bytes(other.verify_key), mf.MANIFEST_CONTEXT, body, signature)
    assert not mf.verify_signature(PUBLIC, mf.MANIFEST_CONTEXT, body, signature[:63])


@settings(max_examples=60, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_breaks_the_signature(position: int, bit: int) -> None:
    body = canonical_json(manifest_doc())
    signature = fm.sign(KEY, fm.MANIFEST_CONTEXT, body)
    altered = bytearray(body)
    altered[position % len(body)] ^= 1 << bit
    assert not mf.verify_signature(PUBLIC, mf.MANIFEST_CONTEXT, bytes(altered), signature)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"format": "other"}, "manifest.format"),
        ({"version": 2}, "manifest.version"),
        ({"spec": "v2"}, "manifest.spec"),
        ({"epoch": 0}, "manifest.epoch"),
        ({"epoch": True}, "manifest.epoch"),
        ({"kind": "other"}, "manifest.kind"),
        ({"issued_at": "yesterday"}, "manifest.issued_at"),
        ({"custodian_key_id": "x"}, "manifest.custodian_key_id"),
        ({"envelopes": {}}, "manifest.envelopes"),
        ({"envelopes": [{**ENTRY, "kinds": ["iban", "email"]}]}, "manifest.envelopes.0.kinds"),
        ({"envelopes": [{**ENTRY, "kinds": ["ssn"]}]}, "manifest.envelopes.0.kinds"),
        ({"envelopes": [{**ENTRY, "kinds": []}]}, "manifest.envelopes.0.kinds"),
        ({"envelopes": [{**ENTRY, "sha256": "AB" * 32}]}, "manifest.envelopes.0.sha256"),
        ({"envelopes": [{**ENTRY, "client_id": "Bank A"}]}, "manifest.envelopes.0.client_id"),
        (
            {"envelopes": [{**ENTRY, "recipient_key_id": "short"}]},
            "manifest.envelopes.0.recipient_key_id",
        ),
        ({"envelopes": [ENTRY, ENTRY]}, "manifest.envelopes.1.client_id"),
        ({"envelopes": [{**ENTRY, "extra": 1}]}, "manifest.envelopes.0"),
    ],
)
def test_bad_manifests_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        mf.parse_manifest(canonical_json(manifest_doc(**changes)))
    assert refused.value.field == field


def test_only_the_exact_canonical_bytes_are_read() -> None:
    pretty = json.dumps(manifest_doc(), indent=2).encode()
    with pytest.raises(InvalidRequestError) as refused:
        mf.parse_manifest(pretty)
    assert refused.value.field == "manifest"
    assert "canonical" in refused.value.reason


@pytest.mark.parametrize(
    "text", ["", "ed25519:", "ed25519:!!", "x25519:" + "A" * 43, "ed25519:" + "A" * 40]
)
def test_custodian_keys_are_checked(text: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        mf.parse_custodian_key(text)
    assert refused.value.field == "public_key"
