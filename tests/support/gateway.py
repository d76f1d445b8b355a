"""A real gateway on a loopback port, with partners that authenticate like connectors do.

Functional and end-to-end tests drive it over HTTP with ``connectors.client.GatewayClient``
(``private_key_jwt``), so the production auth path is exercised everywhere; the clock is a
``FixedClock`` the test can move, shared with the running server.

Salt epochs go through the real custodian flow: a key custodian (its own partner and
``keys:custody`` client) registers its Ed25519 key and, unless ``bootstrap_epoch=False``,
creates and activates epoch 1 over HTTP. ``Gateway.master_salt`` is that epoch's salt, read
back from the custodian's own sealed copy, so partners made with ``partner()`` can keep the
shortcut of deriving epoch-1 keys from it; tests of key distribution make epochs with
``gateway.custodian`` and let partners ``fetch_keys()`` their envelopes instead.
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
from connectors.cli.gateway_options import ClientApi
from connectors.client import GatewayClient
from connectors.custodian import epochs as custody
from connectors.custodian.fetch import FetchReport, fetch_keys
from connectors.custodian.state import CustodianState
from connectors.hashing import HmacTokeniserV1, TypeKeys
from connectors.keystore import ConnectorKeys
from connectors.typekeys import TypeKeyStore
from gateway.app import create_app
from gateway.audit_trail.events import Actor
from gateway.bootstrap import build_services
from gateway.clock import FixedClock
from gateway.config import load_settings
from gateway.db import transaction
from gateway.partners.models import Partner as PartnerRow
from gateway.partners.service import PartnerRegistry
from gateway.server import BackgroundServer, free_port
from gateway.services import Services

ALL_SCOPES = (
    "indicators:write",
    "match:query",
    "watchlist:write",
    "alerts:read",
    "disputes:write",
    "keys:read",
)
CUSTODIAN_ID = "custodian-pps"
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
    keys: ConnectorKeys | None = None
    custodian_key: bytes | None = None
    store: TypeKeyStore = field(default_factory=TypeKeyStore)

    @property
    def client_id(self) -> str:
        return self.client.client_id

    def fetch_keys(self, *epochs: int, custodian_key: bytes | None = None) -> FetchReport:
        """``keys fetch``: download, check and open this client's envelopes into its store."""
        assert self.keys is not None
        pinned = custodian_key or self.custodian_key
        assert pinned is not None, "no custodian registered at this gateway"
        return fetch_keys(
            ClientApi(self.client),
            self.store,
            keys=self.keys,
            client_id=self.client_id,
            custodian_key=pinned,
            epochs=epochs,
        )

    def tokeniser_for(self, epoch: int | None = None) -> HmacTokeniserV1:
        """Keys from the envelopes this partner fetched, else the shared epoch-1 shortcut."""
        if self.store.epochs:
            held = self.store.get(epoch) if epoch else self.store.active()
            return HmacTokeniserV1(held.type_keys())
        return self.tokeniser

    def item(self, kind: Kind | str, value: str, *, epoch: int | None = None) -> dict[str, Any]:
        kind = Kind(kind)
        tokeniser = self.tokeniser_for(epoch)
        return {
            "kind": kind.value,
            "epoch": epoch or tokeniser.epoch,
            "token": tokeniser.token(kind, canonicalize(kind, value)),
        }

    def post(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.client.request("POST", path, json=body, **kwargs).json()

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.request(method, path, json=body, **kwargs).json()


@dataclass
class Custodian:
    """The key custodian, driving the gateway through ``connectors.custodian`` over HTTP."""

    keys: ConnectorKeys
    state: CustodianState
    client: GatewayClient
    saves: int = 0

    @property
    def api(self) -> ClientApi:
        return ClientApi(self.client)

    @property
    def public_key(self) -> bytes:
        return self.state.public_key

    def _save(self, _state: CustodianState) -> None:
        self.saves += 1

    def new_epoch(self, *, pin_new: bool = True) -> custody.IssueReport:
        return custody.new_epoch(self.api, self.state, self.keys, pin_new=pin_new, save=self._save)

    def issue(self, epoch: int, *clients: str, pin_new: bool = True) -> custody.IssueReport:
        return custody.issue(
            self.api,
            self.state,
            self.keys,
            epoch=epoch,
            clients=clients,
            pin_new=pin_new,
            save=self._save,
        )

    def activate(self, epoch: int, *, overlap_days: int | None = None) -> dict[str, Any]:
        return custody.activate(self.api, epoch, overlap_days=overlap_days)

    def retire(self, epoch: int) -> dict[str, Any]:
        return custody.retire(self.api, epoch)


@dataclass
class Gateway:
    services: Services
    server: BackgroundServer
    clock: FixedClock
    master_salt: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    partners: dict[str, Partner] = field(default_factory=dict)
    custodian: Custodian | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def _client(self, client_id: str, keys: ConnectorKeys) -> GatewayClient:
        """A connector client on the gateway's clock, so tests can move time for both."""
        return GatewayClient(
            self.url, client_id, keys, max_attempts=1, clock=lambda: self.clock.now().timestamp()
        )

    def register_client(
        self, partner_id: str, sector: str, scopes: tuple[str, ...], keys: ConnectorKeys
    ) -> str:
        with transaction(self.services.session_factory) as session:
            registry = PartnerRegistry(
                session,
                self.services.audit,
                actor=Actor(request_id="test", user="test"),
                clock=self.clock,
            )
            if session.get(PartnerRow, partner_id) is None:
                registry.add_partner(name=partner_id, sector=sector, partner_id=partner_id)
            existing = len(registry.clients_of(partner_id))
            client = registry.add_client(
                partner_id=partner_id,
                jwk=keys.public_jwks(),
                scopes=list(scopes),
                client_id=f"{partner_id}-c{existing + 1}",
            )
            return client.id

    def partner(
        self, partner_id: str, *, scopes: tuple[str, ...] = ALL_SCOPES, sector: str | None = None
    ) -> Partner:
        if partner_id in self.partners:
            return self.partners[partner_id]
        keys = ConnectorKeys.generate()
        client_id = self.register_client(partner_id, sector or SECTORS[partner_id], scopes, keys)
        tokeniser = HmacTokeniserV1(TypeKeys.from_master_salt(self.master_salt, epoch=1))
        handle = Partner(
            partner_id,
            self._client(client_id, keys),
            tokeniser,
            keys=keys,
            custodian_key=self.custodian.public_key if self.custodian else None,
        )
        self.partners[partner_id] = handle
        return handle

    def add_custodian(self, partner_id: str = CUSTODIAN_ID) -> Custodian:
        """The partnership's key custodian: its own client (``keys:custody``) and state."""
        keys = ConnectorKeys.generate()
        client_id = self.register_client(partner_id, "partnership_dpo", ("keys:custody",), keys)
        client = self._client(client_id, keys)
        custodian = Custodian(keys, CustodianState.generate(client_id), client)
        custody.register(custodian.api, custodian.state)
        self.custodian = custodian
        return custodian


@contextmanager
def running_gateway(
    database_url: str, data_dir: Path, *, bootstrap_epoch: bool = True, **overrides: Any
) -> Iterator[Gateway]:
    port = free_port()
    # The decision time limit is wall-clock: on a loaded two-core CI machine a scheduling stall
    # can exceed the production default of 1 s and deny a request (fail closed). Tests of the
    # limit itself drive the engines directly (tests/unit/gateway/policy).
    overrides.setdefault("policy_timeout_seconds", 10.0)
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
        custodian = gateway.add_custodian()
        if bootstrap_epoch:
            custodian.new_epoch()
            custodian.activate(1)
            gateway.master_salt = custodian.state.open_salt(custodian.keys, 1)
        yield gateway
    finally:
        for partner in gateway.partners.values():
            partner.client.close()
        if gateway.custodian is not None:
            gateway.custodian.client.close()
        server.stop()
        services.engine.dispose()
