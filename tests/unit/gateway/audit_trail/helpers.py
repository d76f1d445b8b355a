"""Shared pieces of the audit trail tests: settings, a ticking clock, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from connectors.keystore import ConnectorKeys, save_keystore
from gateway.audit_trail.events import Actor, AuditEvent, AuditTag
from gateway.audit_trail.service import AuditReceipt, AuditTrail
from gateway.config import Settings, load_settings
from gateway.db import transaction
from gateway.partners.models import Partner
from gateway.partners.service import PartnerRegistry
from gateway.services import Services

START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
TOKEN = "ab" * 32


class TickingClock:
    """Advances one second per reading, so entry times are distinct and ordered."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def now(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    return load_settings(env="test", data_dir=data_dir, database_url=database_url, **overrides)


def event(number: int, **overrides: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "tag": AuditTag.MATCH_QUERY_ALLOW,
        "request_id": f"req-{number}",
        "actor_partner": "bank-a",
        "actor_client": "bank-a-screening",
        "purpose": "fraud-prevention",
        "legal_basis": "gdpr-6-1-f",
        "decision": "allow",
        "reason_codes": ("purpose-registered",),
        "policy_digest": "sha256:" + "1" * 64,
        "counts": {"items": 1, "hits": number % 2},
    }
    fields.update(overrides)
    return AuditEvent(**fields)


def record(
    factory: sessionmaker[Session], trail: AuditTrail, count: int, **overrides: Any
) -> list[AuditReceipt]:
    receipts = []
    for number in range(count):
        with transaction(factory) as session:
            receipts.append(trail.record(session, event(number, **overrides)))
    return receipts


def register_reader(
    services: Services,
    directory: Path,
    *,
    partner_id: str = "dpo-pps",
    sector: str = "partnership_dpo",
) -> list[str]:
    """An audit reader's API client (scope ``audit:read``) with its key store on disk.

    Returns the ``ppsgate audit`` options that name it. The partnership's DPO by default,
    whose registered purpose (oversight) lets it read every partner's entries.
    """
    keys = ConnectorKeys.generate()
    with transaction(services.session_factory) as session:
        registry = PartnerRegistry(session, services.audit, actor=Actor(request_id="test"))
        if session.get(Partner, partner_id) is None:
            registry.add_partner(name=partner_id, sector=sector, partner_id=partner_id)
        client = registry.add_client(
            partner_id=partner_id, jwk=keys.public_jwks(), scopes=["audit:read"]
        )
    path = directory / f"{client.id}.keystore.json"
    save_keystore(path, keys)
    return ["--client-id", client.id, "--keystore", str(path)]
