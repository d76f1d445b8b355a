"""Records as the connector's ``match`` and ``alerts`` commands write them (one dict a line)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PARTNER = "bank-a"

IBAN_RAW = "NL91 ABNA 0417 1643 00"
IBAN = "NL91ABNA0417164300"
PHONE_RAW = "06-12345678"
PHONE = "+31612345678"
EMAIL_RAW = "Fraud.Desk@Example.NL"
EMAIL = "fraud.desk@example.nl"
DOMAIN_RAW = "https://www.Nep-Winkel.nl/shop"
DOMAIN = "nep-winkel.nl"


def match_records() -> list[dict[str, Any]]:
    """Four rows: a fully disclosed IBAN hit, a bare phone hit, a miss, a disputed domain."""
    return [
        {
            "row": 1,
            "type": "iban",
            "value": IBAN_RAW,
            "epoch": 3,
            "hit": True,
            "reports": 4,
            "reporters": 3,
            "categories": ["phishing", "money_mule"],
            "roles": ["mule"],
            "sectors": ["bank", "telecom"],
            "first_seen": "2024-11-02T09:00:00Z",
            "last_seen": "2025-02-20T16:30:00Z",
            "disputed": False,
            "expires_at": "2026-02-20T16:30:00Z",
            "reporting_partners": ["bank-b", "telco-c", "bank-d"],
            "case_id": "CASE-17",
            "customer": '=HYPERLINK("http://evil.example","click")',
        },
        {"row": 2, "type": "phone", "value": PHONE_RAW, "epoch": 3, "hit": True, "case_id": "C-2"},
        {"row": 3, "type": "email", "value": EMAIL_RAW, "epoch": 3, "hit": False, "case_id": "C-3"},
        {
            "row": 4,
            "type": "domain",
            "value": DOMAIN_RAW,
            "epoch": 3,
            "hit": True,
            "disputed": True,
            "case_id": "@SUM(1+1)",
        },
    ]


def alert_records() -> list[dict[str, Any]]:
    """An alert batch: two alerts (IBAN, e-mail) and an update of the IBAN's evidence."""
    return [
        {
            "cursor": 11,
            "type": "alert",
            "watch_id": 5,
            "kind": "iban",
            "value": IBAN_RAW,
            "disclosed": {
                "hit": True,
                "reports": 2,
                "reporters": 2,
                "categories": ["phishing"],
                "roles": ["suspect"],
                "disputed": False,
            },
            "created_at": "2025-03-01T10:00:00Z",
            "customer": "K-100",
        },
        {
            "cursor": 12,
            "type": "alert",
            "watch_id": 6,
            "kind": "email",
            "value": EMAIL_RAW,
            "disclosed": {
                "hit": True,
                "reports": 1,
                "reporters": 1,
                "categories": ["fake_webshop"],
            },
            "created_at": "2025-03-01T10:05:00Z",
            "customer": "K-200",
        },
        {
            "cursor": 13,
            "type": "update",
            "watch_id": 5,
            "kind": "iban",
            "value": IBAN_RAW,
            "disclosed": {
                "hit": True,
                "reports": 3,
                "reporters": 3,
                "categories": ["money_mule", "phishing"],
                "roles": ["mule", "suspect"],
                "sectors": ["bank", "police"],
                "disputed": False,
                "expires_at": "2026-03-01T10:00:00Z",
            },
            "created_at": "2025-03-01T11:00:00Z",
            "customer": "K-100",
        },
    ]


def retraction_record(cursor: int, kind: str, value: str, watch_id: int) -> dict[str, Any]:
    return {
        "cursor": cursor,
        "type": "retraction",
        "watch_id": watch_id,
        "kind": kind,
        "value": value,
        "disclosed": {"reason": "retracted by the reporting partner"},
        "created_at": "2025-03-02T09:00:00Z",
        "customer": "K-200",
    }
