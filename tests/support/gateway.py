"""A real gateway on a loopback port, with partners that authenticate like connectors do.

Functional and end-to-end tests drive it over HTTP with ``connectors.client.GatewayClient``
(``private_key_jwt``), so the production auth path is exercised everywhere; the clock is a
``FixedClock`` the test can move, shared with the running server.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.canonical import Kind, canonicalize
from connectors.client import GatewayClient
from connectors.hashing import HmacTokeniserV1, TypeKeys
from connectors.keystore import ConnectorKeys
from gateway.app import build_services, create_app
from gateway.clock import FixedClock
from gateway.config import load_settings
from gateway.db import transaction
from gateway.partners.service import Actor, PartnerRegistry
from gateway.server import BackgroundServer, free_port
from gateway.services import Services

ALL_SCOPES = (
    "indicators:write",
    "match:query",
    "watchlist:write",
    "alerts:read",
    "disputes:write",
)
SECTORS = {
    "bank-a": "bank",
    "bank-b": "bank",
    "telecom-a": "telecom",
    "marketplace-a": "marketplace",
    "psp-a": "psp",
    "registry-nl": "registry",
    "police-nl": "police",
    "bailiff-nl": "bailiff",
    "helpdesk-pps": "helpdesk",
}


@dataclass
class Partner:
    partner_id: str
    client: GatewayClient
    tokeniser: HmacTokeniserV1

    def item(self, kind: Kind | str, value: str, *, epoch: int | None = None) -> dict[str, Any]:
        kind = Kind(kind)
        return {
            "kind": kind.value,
            "epoch": epoch or self.tokeniser.epoch,
            "token": self.tokeniser.token(kind, canonicalize(kind, value)),
        }

    def post(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.client.request("POST", path, json=body, **kwargs).json()

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.request(method, path, json=body, **kwargs).json()


@dataclass
class Gateway:
    services: Services
    server: BackgroundServer
    clock: FixedClock
    master_salt: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    partners: dict[str, Partner] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def partner(
        self, partner_id: str, *, scopes: tuple[str, ...] = ALL_SCOPES, sector: str | None = None
    ) -> Partner:
        if partner_id in self.partners:
            return self.partners[partner_id]
        keys = ConnectorKeys.generate()
        with transaction(self.services.session_factory) as session:
            registry = PartnerRegistry(
                session,
                self.services.audit,
                actor=Actor(request_id="test", user="test"),
                clock=self.clock,
            )
            registry.add_partner(
                name=partner_id, sector=sector or SECTORS[partner_id], partner_id=partner_id
            )
            client = registry.add_client(
                partner_id=partner_id,
                jwk=keys.public_jwks(),
                scopes=list(scopes),
                client_id=f"{partner_id}-c1",
            )
        tokeniser = HmacTokeniserV1(TypeKeys.from_master_salt(self.master_salt, epoch=1))
        handle = Partner(
            partner_id, GatewayClient(self.url, client.id, keys, max_attempts=1), tokeniser
        )
        self.partners[partner_id] = handle
        return handle


@contextmanager
def running_gateway(database_url: str, data_dir: Path, **overrides: Any) -> Iterator[Gateway]:
    port = free_port()
    settings = load_settings(
        env="test",
        data_dir=data_dir,
        database_url=database_url,
        public_url=f"http://127.0.0.1:{port}",
        **overrides,
    )
    clock = FixedClock(datetime.now(tz=UTC).replace(microsecond=0))
    services = build_services(settings, clock=clock)
    server = BackgroundServer(create_app(settings, services=services), port=port).start()
    gateway = Gateway(services, server, clock)
    try:
        yield gateway
    finally:
        for partner in gateway.partners.values():
            partner.client.close()
        server.stop()
        services.engine.dispose()
