"""Object-level authorisation rules of areas beyond indicators and matching.

Each area adds its operations here with "public" or a probe (a callable taking the running
``Gateway``) showing that partner A cannot reach partner B's objects; the OpenAPI-walking
test in tests/functional/test_object_authorisation.py fails for any operation missing here
or there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import nacl.exceptions
import nacl.public
import pytest

from connectors.client import GatewayAPIError
from connectors.custodian import formats
from gateway.db import transaction
from tests.support.gateway import ALL_SCOPES

AUDITOR_SCOPES = (*ALL_SCOPES, "audit:read")


def probe_audit_scope(gw: Any) -> None:
    """A partner's audit reader sees its own entries only, and cannot ask for another's."""
    bank = gw.partner("bank-a", scopes=AUDITOR_SCOPES)
    other = gw.partner("bank-b", scopes=AUDITOR_SCOPES)
    other.post(
        "/v1/match",
        {
            "purpose": "payment_screening",
            "legal_basis": "art6_1_c",
            "items": [other.item("iban", "NL91ABNA0417164300")],
        },
    )
    found = bank.call("GET", "/v1/audit/search", params={"limit": 100})
    partners = {entry["actor"]["partner"] for entry in found["entries"]}
    assert partners <= {"bank-a"}, partners
    with pytest.raises(GatewayAPIError) as refused:
        bank.call("GET", "/v1/audit/search", params={"partner": "bank-b"})
    assert refused.value.status == 403
    exported = bank.client.request("GET", "/v1/audit/export", params={"format": "jsonl"})
    assert b'"bank-b"' not in exported.content


def probe_audit_contents(gw: Any) -> None:
    """Entry contents and receipts: a partner's reader gets its own entries only; another
    partner's entries come as leaf hashes, and their receipts are refused."""
    bank = gw.partner("bank-a", scopes=AUDITOR_SCOPES)
    other = gw.partner("bank-b", scopes=AUDITOR_SCOPES)
    leaf = {}
    for partner in (bank, other):
        answer = partner.post(
            "/v1/match",
            {
                "purpose": "payment_screening",
                "legal_basis": "art6_1_c",
                "items": [partner.item("iban", "NL91ABNA0417164300")],
            },
        )
        leaf[partner.partner_id] = int(answer["receipt"]["leaf_index"])
    with transaction(gw.services.session_factory) as session:
        gw.services.audit.sign_checkpoint(session)
    size = leaf["bank-b"] + 1
    page = bank.call("GET", "/v1/audit/entries", params={"start": 0, "end": size - 1})
    assert [item["leaf_index"] for item in page["entries"]] == list(range(size))
    shown = [json.loads(item["entry"]) for item in page["entries"] if item["entry"]]
    assert shown, "bank-a sees its own entries"
    assert {entry["actor"]["partner"] for entry in shown} == {"bank-a"}
    with pytest.raises(GatewayAPIError) as refused:
        bank.call("GET", "/v1/audit/receipt", params={"leaf_index": leaf["bank-b"]})
    assert refused.value.status == 403
    own = bank.client.request("GET", "/v1/audit/receipt", params={"leaf_index": leaf["bank-a"]})
    assert own.text.startswith("c2sp.org/tlog-proof@v1\nextra ")


def probe_key_custody(gw: Any) -> None:
    """A client downloads only its own envelope and opens no one else's; partners cannot act
    as the custodian (``keys:custody``), and listing shows only the caller's envelopes."""
    bank, other = gw.partner("bank-a"), gw.partner("bank-b")
    gw.custodian.issue(1)  # epoch 1 exists; seal it for both banks
    mine = bank.call("GET", "/v1/keys/epochs/1/envelope")
    theirs = other.call("GET", "/v1/keys/epochs/1/envelope")
    assert (mine["client_id"], theirs["client_id"]) == (bank.client_id, other.client_id)
    with pytest.raises(nacl.exceptions.CryptoError):
        nacl.public.SealedBox(bank.keys.encryption_key).decrypt(formats.unb64(theirs["sealed"]))
    listed = bank.call("GET", "/v1/keys/epochs")["epochs"]
    assert [(e["epoch"], e["envelope"]) for e in listed] == [(1, True)]
    for method, path in (
        ("GET", "/v1/keys/recipients"),
        ("PUT", "/v1/keys/custodian"),
        ("POST", "/v1/keys/epochs"),
        ("POST", "/v1/keys/epochs/1/envelopes"),
        ("POST", "/v1/keys/epochs/1/activate"),
        ("POST", "/v1/keys/epochs/1/retire"),
    ):
        with pytest.raises(GatewayAPIError) as refused:
            bank.call(method, path, {})
        assert refused.value.status == 403, (method, path)
    assert [e["state"] for e in gw.custodian.api.call("GET", "/v1/keys/epochs")["epochs"]] == [
        "active"
    ]


PUBLIC = "public"
RULES: dict[tuple[str, str], str | Callable[[Any], None]] = {
    # Transparency log (RFC 6962 style): anyone verifies from checkpoints, proofs and leaf
    # hashes, which reveal nothing about the entries.
    ("GET", "/v1/audit/sth"): PUBLIC,
    ("GET", "/v1/audit/sth/consistency"): PUBLIC,
    ("GET", "/v1/audit/proof/inclusion"): PUBLIC,
    ("GET", "/v1/audit/leaves"): PUBLIC,
    ("GET", "/v1/audit/checkpoints"): PUBLIC,
    ("GET", "/v1/audit/public-key"): PUBLIC,
    # Witnesses post cosignatures; only those of configured witness keys are accepted.
    ("POST", "/v1/audit/cosignatures"): PUBLIC,
    # Entry contents are private: a partner's readers see their own, the DPO all.
    ("GET", "/v1/audit/entries"): probe_audit_contents,
    ("GET", "/v1/audit/receipt"): probe_audit_contents,
    ("GET", "/v1/audit/search"): probe_audit_scope,
    ("GET", "/v1/audit/export"): probe_audit_scope,
    ("POST", "/v1/audit/subject-access"): probe_audit_scope,
    # Key custody: envelopes are served to their own client only; custody is one client's.
    ("GET", "/v1/keys/epochs"): probe_key_custody,
    ("GET", "/v1/keys/epochs/{n}/envelope"): probe_key_custody,
    ("GET", "/v1/keys/recipients"): probe_key_custody,
    ("PUT", "/v1/keys/custodian"): probe_key_custody,
    ("POST", "/v1/keys/epochs"): probe_key_custody,
    ("POST", "/v1/keys/epochs/{n}/envelopes"): probe_key_custody,
    ("POST", "/v1/keys/epochs/{n}/activate"): probe_key_custody,
    ("POST", "/v1/keys/epochs/{n}/retire"): probe_key_custody,
}
