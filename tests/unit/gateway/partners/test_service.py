from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.keystore import ConnectorKeys
from gateway.audit_trail.events import Actor
from gateway.audit_trail.models import AuditEntry
from gateway.audit_trail.service import AuditTrail, build_audit_trail
from gateway.clock import FixedClock
from gateway.config import load_settings
from gateway.db import build_engine, build_session_factory, transaction
from gateway.errors import ConflictError, InvalidRequestError, NotFoundError
from gateway.partners.models import ClientStatus, PartnerClient, PartnerStatus
from gateway.partners.service import PartnerRegistry, slugify

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@dataclass
class Env:
    factory: sessionmaker[Session]
    audit: AuditTrail

    def registry(self, session: Session) -> PartnerRegistry:
        return PartnerRegistry(
            session,
            self.audit,
            actor=Actor(request_id="req-1", user="cli:tester"),
            clock=FixedClock(NOW),
        )

    def run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with transaction(self.factory) as session:
            return getattr(self.registry(session), method)(*args, **kwargs)

    def entries(self) -> list[dict[str, Any]]:
        with transaction(self.factory) as session:
            return [
                json.loads(e.body)
                for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
            ]


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    settings = load_settings(env="test", data_dir=tmp_path, database_url=database_url)
    engine = build_engine(settings)
    try:
        yield Env(build_session_factory(engine), build_audit_trail(settings))
    finally:
        engine.dispose()


@pytest.fixture
def keys() -> ConnectorKeys:
    return ConnectorKeys.generate()


def test_onboarding_and_clients_are_audited(env: Env, keys: ConnectorKeys) -> None:
    partner = env.run("add_partner", name="Example Bank N.V.", sector="bank")
    assert partner.id == "example-bank-n-v"
    client = env.run(
        "add_client",
        partner_id=partner.id,
        jwk=keys.public_jwks(),
        scopes="match:query indicators:write",
    )
    assert client.id.startswith("example-bank-n-v-")
    assert client.key_id == keys.key_id
    assert client.key_version == 1
    assert client.scopes == "indicators:write match:query"
    assert client.encryption_jwk is not None
    tags = [(e["tag"], e["actor"]["user"]) for e in env.entries()]
    assert tags == [("partner:onboard", "cli:tester"), ("partner:client:add", "cli:tester")]


def test_nothing_is_left_when_the_transaction_fails(env: Env) -> None:
    def fail_after_onboarding() -> None:
        with transaction(env.factory) as session:
            env.registry(session).add_partner(name="Bank", sector="bank")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_after_onboarding()
    with pytest.raises(NotFoundError):
        env.run("get", "bank")
    assert env.entries() == []


def test_suspend_reinstate_rotate(env: Env, keys: ConnectorKeys) -> None:
    env.run("add_partner", name="Bank", sector="bank", partner_id="bank")
    env.run(
        "add_client",
        partner_id="bank",
        jwk=keys.public_signing_jwk(),
        scopes=["match:query"],
        client_id="bank-1",
    )
    assert env.run("suspend", "bank").status == PartnerStatus.SUSPENDED
    with pytest.raises(ConflictError):
        env.run("suspend", "bank")
    assert env.run("reinstate", "bank").status == PartnerStatus.ACTIVE
    assert env.run("suspend_client", "bank-1").status == ClientStatus.SUSPENDED
    assert env.run("reinstate_client", "bank-1").status == ClientStatus.ACTIVE
    new = ConnectorKeys.generate()
    rotated = env.run("rotate_key", "bank-1", new.public_jwks())
    assert (rotated.key_id, rotated.key_version) == (new.key_id, 2)
    assert rotated.key_rotated_at is not None
    with pytest.raises(InvalidRequestError, match="already registered"):
        env.run("rotate_key", "bank-1", new.public_jwks())
    tags = [e["tag"] for e in env.entries()]
    assert tags == [
        "partner:onboard",
        "partner:client:add",
        "partner:suspend",
        "partner:reinstate",
        "partner:client:suspend",
        "partner:client:reinstate",
        "partner:client:rotate",
    ]


def test_refusals_name_the_field(env: Env, keys: ConnectorKeys) -> None:
    def field_of(method: str, **kwargs: Any) -> str | None:
        with pytest.raises((InvalidRequestError, ConflictError, NotFoundError)) as caught:
            env.run(method, **kwargs)
        return caught.value.field

    assert field_of("add_partner", name="X", sector="casino") == "sector"
    assert field_of("add_partner", name="  ", sector="bank") == "name"
    assert field_of("add_partner", name="Bank", sector="bank", partner_id="Bank_1") == "id"
    env.run("add_partner", name="Bank", sector="bank", partner_id="bank")
    assert field_of("add_partner", name="Bank", sector="bank", partner_id="bank") == "id"
    assert (
        field_of("add_client", partner_id="nobody", jwk=keys.public_jwks(), scopes="match:query")
        == "partner"
    )
    assert field_of("add_client", partner_id="bank", jwk=keys.public_jwks(), scopes="") == "scopes"
    assert (
        field_of(
            "add_client", partner_id="bank", jwk=keys.public_jwks(), scopes="match:query rob:bank"
        )
        == "scopes"
    )
    assert (
        field_of("add_client", partner_id="bank", jwk=keys.public_jwks(), scopes="admin")
        == "scopes"
    )
    env.run("add_client", partner_id="bank", jwk=keys.public_jwks(), scopes="match:query")
    assert (
        field_of("add_client", partner_id="bank", jwk=keys.public_jwks(), scopes="match:query")
        == "jwk"
    )


def test_admin_scope_only_for_the_operator(env: Env, keys: ConnectorKeys) -> None:
    env.run("add_partner", name="Operator", sector="operator", partner_id="operator")
    client = env.run("add_client", partner_id="operator", jwk=keys.public_jwks(), scopes="admin")
    assert client.scopes == "admin"


def test_listing(env: Env, keys: ConnectorKeys) -> None:
    env.run("add_partner", name="Telco", sector="telecom", partner_id="telco")
    env.run("add_partner", name="Bank", sector="bank", partner_id="bank")
    env.run("add_client", partner_id="bank", jwk=keys.public_jwks(), scopes="match:query")
    assert [p.id for p in env.run("list_partners")] == ["bank", "telco"]
    clients: list[PartnerClient] = env.run("clients_of", "bank")
    assert len(clients) == 1
    assert env.run("clients_of", "telco") == []


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("ING Bank N.V.", "ing-bank-n-v"),
        ("Rabobank", "rabobank"),
        ("Société Générale", "societe-generale"),
        ("  --KPN--  ", "kpn"),
        ("!!!", ""),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug
