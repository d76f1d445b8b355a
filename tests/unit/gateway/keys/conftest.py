"""A gateway's services over a fresh database (both backends), partners and a custodian.

The service-level tests drive ``gateway.keys`` directly in transactions, with uploads built
by the real custodian code (``connectors.custodian``), so every check of the gateway is
exercised without HTTP; the functional tests cover the same flow over the API.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.custodian import epochs as custody
from connectors.custodian.state import CustodianState
from connectors.keystore import ConnectorKeys
from gateway.audit_trail.events import Actor
from gateway.audit_trail.models import AuditEntry
from gateway.bootstrap import build_services
from gateway.clock import FixedClock
from gateway.config import load_settings
from gateway.db import transaction
from gateway.keys.eligibility import candidates
from gateway.keys.schemas import EpochUpload
from gateway.keys.service import KeyCustody
from gateway.keys.uploads import EpochUploads
from gateway.partners.service import PartnerRegistry
from gateway.services import Services

SECTORS = {
    "bank-a": "bank",
    "telecom-a": "telecom",
    "marketplace-a": "marketplace",
    "bank-b": "bank",
    "psp-b": "psp",
}
READER = ("keys:read", "match:query")


@dataclass
class World:
    services: Services
    clock: FixedClock
    custodian: CustodianState
    custodian_keys: ConnectorKeys
    clients: dict[str, ConnectorKeys] = field(default_factory=dict)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with transaction(self.services.session_factory) as session:
            yield session

    def custody(self, session: Session, client: str | None = None) -> EpochUploads:
        partner = client.rsplit("-c", 1)[0] if client else None
        return EpochUploads(
            session, self.services, Actor("t-" + secrets.token_hex(4), partner, client)
        )

    def add_client(self, partner_id: str, scopes: tuple[str, ...] = READER) -> str:
        keys = ConnectorKeys.generate()
        with self.session() as session:
            registry = PartnerRegistry(
                session,
                self.services.audit,
                actor=Actor(request_id="t", user="t"),
                clock=self.clock,
            )
            if partner_id not in {p.id for p in registry.list_partners()}:
                registry.add_partner(
                    name=partner_id,
                    sector=SECTORS.get(partner_id, "partnership_dpo"),
                    partner_id=partner_id,
                )
            number = len(registry.clients_of(partner_id)) + 1
            client = registry.add_client(
                partner_id=partner_id,
                jwk=keys.public_jwks(),
                scopes=list(scopes),
                client_id=f"{partner_id}-c{number}",
            )
        self.clients[client.id] = keys
        return client.id

    def recipients(self) -> list[dict[str, Any]]:
        """What ``GET /v1/keys/recipients`` lists, as the custodian receives it."""
        with self.session() as session:
            return [
                {
                    "client_id": c.client.id,
                    "partner_id": c.client.partner_id,
                    "recipient_key_id": json.loads(c.client.encryption_jwk or "{}")["kid"],
                    "encryption_jwk": json.loads(c.client.encryption_jwk or "{}"),
                    "kinds": list(c.kinds),
                }
                for c in candidates(session, self.services.policy)
                if c.excluded is None
            ]

    def upload(
        self,
        epoch: int,
        recipients: list[dict[str, Any]] | None = None,
        *,
        kind: str = "epoch",
        master_salt: bytes | None = None,
        signer: CustodianState | None = None,
    ) -> EpochUpload:
        """A signed upload as ``custodian new-epoch`` builds it (optionally by another key)."""
        state = signer or self.custodian
        report = custody.IssueReport(epoch=epoch)
        entries, uploads = custody.seal_for_recipients(
            state,
            master_salt or secrets.token_bytes(32),
            self.recipients() if recipients is None else recipients,
            epoch=epoch,
            pin_new=True,
            report=report,
        )
        body = custody.signed_upload(
            state, epoch=epoch, kind=kind, entries=entries, uploads=uploads
        )
        return EpochUpload.model_validate(body)

    def tags(self) -> list[str]:
        with self.session() as session:
            return list(session.scalars(select(AuditEntry.tag).order_by(AuditEntry.seq)))

    def entries(self, tag: str) -> list[dict[str, Any]]:
        with self.session() as session:
            bodies = session.scalars(
                select(AuditEntry.body).where(AuditEntry.tag == tag).order_by(AuditEntry.seq)
            )
            return [json.loads(bytes(body)) for body in bodies]


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    settings = load_settings(env="test", data_dir=tmp_path / "data", database_url=database_url)
    clock = FixedClock(datetime(2026, 11, 29, 10, 0, tzinfo=UTC))
    services = build_services(settings, clock=clock)
    custodian_keys = ConnectorKeys.generate()
    state = CustodianState.generate("custodian-pps-c1")
    made = World(services, clock, state, custodian_keys)
    try:
        custody_client = made.add_client("custodian-pps", ("keys:custody",))
        assert custody_client == state.client_id
        for partner in ("bank-a", "telecom-a", "marketplace-a"):
            made.add_client(partner)
        with made.session() as session:
            body = state.registration()
            KeyCustody(
                session, services, Actor("t", "custodian-pps", state.client_id)
            ).register_custodian(state.client_id, body["public_key"], body["proof"])
        yield made
    finally:
        services.engine.dispose()
