"""Object-level authorisation rules of areas beyond indicators and matching.

Each area adds its operations here with "public" or a probe (a callable taking the running
``Gateway``) showing that partner A cannot reach partner B's objects; the OpenAPI-walking
test in tests/functional/test_object_authorisation.py fails for any operation missing here
or there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors.client import GatewayAPIError
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


PUBLIC = "public"
RULES: dict[tuple[str, str], str | Callable[[Any], None]] = {
    # Transparency log (RFC 6962 style): anyone verifies; entries carry no identifiers.
    ("GET", "/v1/audit/sth"): PUBLIC,
    ("GET", "/v1/audit/sth/consistency"): PUBLIC,
    ("GET", "/v1/audit/proof/inclusion"): PUBLIC,
    ("GET", "/v1/audit/entries"): PUBLIC,
    ("GET", "/v1/audit/checkpoints"): PUBLIC,
    ("GET", "/v1/audit/receipt"): PUBLIC,
    ("GET", "/v1/audit/public-key"): PUBLIC,
    # Witnesses post cosignatures; only those of configured witness keys are accepted.
    ("POST", "/v1/audit/cosignatures"): PUBLIC,
    ("GET", "/v1/audit/search"): probe_audit_scope,
    ("GET", "/v1/audit/export"): probe_audit_scope,
    ("POST", "/v1/audit/subject-access"): probe_audit_scope,
}
