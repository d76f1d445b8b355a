"""Story 10: a partner leaves; each step happens in one transaction and is audited."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.keystore import ConnectorKeys
from gateway.alerts.models import WatchEntry
from gateway.audit_trail.events import Actor
from gateway.audit_trail.models import AuditDetail, AuditEntry
from gateway.audit_trail.service import AuditTrail, build_audit_trail
from gateway.clock import FixedClock
from gateway.config import load_settings
from gateway.db import build_engine, build_session_factory, transaction
from gateway.errors import ConflictError, InvalidRequestError
from gateway.indicators.models import Indicator
from gateway.keys.eligibility import exclusion
from gateway.offboarding import RetentionDecision, offboard
from gateway.partners.models import ClientStatus, PartnerClient, PartnerStatus
from gateway.partners.service import PartnerRegistry
from gateway.retention import purge

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
SELLER = "NL91ABNA0417164300"  # never sent: indicators below carry random hashes only


@dataclass
class Env:
    factory: sessionmaker[Session]
    audit: AuditTrail

    def registry(self, session: Session) -> PartnerRegistry:
        actor = Actor(request_id="req-offboard", user="cli:operator")
        return PartnerRegistry(session, self.audit, actor=actor, clock=FixedClock(NOW))

    def tags(self) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """Each entry's tag, counts (in the entry) and detail record (erasable)."""
        with transaction(self.factory) as session:
            details = {d.seq: json.loads(d.body) for d in session.scalars(select(AuditDetail))}
            entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
            bodies = [(e.seq, json.loads(e.body)) for e in entries]
        return [
            (body["tag"], body.get("counts") or {}, details.get(seq, {})) for seq, body in bodies
        ]

    def live_indicators(self, partner_id: str) -> int:
        with transaction(self.factory) as session:
            rows = session.scalars(
                select(Indicator).where(
                    Indicator.partner_id == partner_id, Indicator.expires_at > NOW
                )
            )
            return len(list(rows))


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    settings = load_settings(env="test", data_dir=tmp_path, database_url=database_url)
    engine = build_engine(settings)
    built = Env(build_session_factory(engine), build_audit_trail(settings))
    with transaction(built.factory) as session:
        registry = built.registry(session)
        for partner_id, sector in (("marketplace-a", "marketplace"), ("bank-a", "bank")):
            registry.add_partner(name=partner_id, sector=sector, partner_id=partner_id)
            for number in (1, 2):
                registry.add_client(
                    partner_id=partner_id,
                    jwk=ConnectorKeys.generate().public_jwks(),
                    scopes="keys:read indicators:write match:query",
                    client_id=f"{partner_id}-{number}",
                )
            for _ in range(3):
                session.add(
                    Indicator(
                        partner_id=partner_id,
                        kind="iban",
                        epoch=1,
                        token_hash=secrets.token_bytes(32),
                        category="purchase_fraud",
                        role="suspect",
                        reference_hash=secrets.token_bytes(32),
                        purpose="indicator_submission",
                        legal_basis="art6_1_f",
                        observed_at=NOW - timedelta(days=1),
                        expires_at=NOW + timedelta(days=90),
                    )
                )
            session.add(
                WatchEntry(
                    partner_id=partner_id,
                    kind="iban",
                    epoch=1,
                    token_hash=secrets.token_bytes(32),
                    purpose="watchlist_alerts",
                    legal_basis="art6_1_f",
                    created_at=NOW,
                )
            )
        registry.suspend_client("marketplace-a-2")
    try:
        yield built
    finally:
        engine.dispose()


def _offboard(env: Env, decision: RetentionDecision, reason: str | None = None) -> Any:
    with transaction(env.factory) as session:
        return offboard(env.registry(session), "marketplace-a", decision=decision, reason=reason)


def test_offboarding_suspends_excludes_from_keys_and_expires_indicators(env: Env) -> None:
    before = len(env.tags())
    report = _offboard(env, RetentionDecision.EXPIRE)
    assert report.clients_suspended == ("marketplace-a-1",)  # -2 was suspended already
    assert report.indicators == 3

    with transaction(env.factory) as session:
        clients = session.scalars(
            select(PartnerClient).where(PartnerClient.partner_id == "marketplace-a")
        ).all()
        assert {c.status for c in clients} == {ClientStatus.SUSPENDED.value}
        assert clients[0].partner.status == PartnerStatus.LEFT.value
        # The custodian's recipient list leaves it out of the next epoch, with the reason.
        assert {exclusion(c) for c in clients} == {"partner is left"}
    assert env.live_indicators("marketplace-a") == 0
    assert env.live_indicators("bank-a") == 3  # nobody else's data is touched
    with transaction(env.factory) as session:
        watched = session.scalars(select(WatchEntry.partner_id)).all()
    assert watched == ["bank-a"]

    steps = env.tags()[before:]
    assert [tag for tag, _, _ in steps] == [
        "partner:client:suspend",
        "partner:offboard",
        "partner:indicators:expire",
    ]
    assert steps[0][2]["client_id"] == "marketplace-a-1"
    assert steps[1][1] == {"clients_suspended": 1, "watch_entries_deleted": 1}
    assert steps[1][2]["decision"] == "expire"
    assert steps[2][1] == {"indicators": 3}


def test_expired_indicators_are_deleted_by_the_retention_purge(
    env: Env, database_url: str, tmp_path: Path
) -> None:
    from gateway.bootstrap import build_services

    _offboard(env, RetentionDecision.EXPIRE)
    settings = load_settings(env="test", data_dir=tmp_path, database_url=database_url)
    services = build_services(settings, clock=FixedClock(NOW + timedelta(seconds=1)))
    try:
        with transaction(services.session_factory) as session:
            counts = purge(session, services, request_id="req-purge", actor="test")
        assert counts.counts["indicators"] == 3
    finally:
        services.engine.dispose()


def test_keeping_indicators_needs_and_records_the_partnerships_reason(env: Env) -> None:
    with pytest.raises(InvalidRequestError) as missing:
        _offboard(env, RetentionDecision.KEEP)
    assert missing.value.field == "reason"
    with pytest.raises(InvalidRequestError) as identifier:
        _offboard(env, RetentionDecision.KEEP, f"keep, case {SELLER}")
    assert identifier.value.field == "reason"
    with transaction(env.factory) as session:  # a refusal changed nothing
        assert env.registry(session).get("marketplace-a").status == PartnerStatus.ACTIVE.value

    report = _offboard(env, RetentionDecision.KEEP, "PPS board decision 2026-14: open cases")
    assert report.indicators == 3
    assert env.live_indicators("marketplace-a") == 3
    tag, counts, detail = env.tags()[-1]
    assert tag == "partner:indicators:keep"
    assert counts == {"indicators": 3}
    assert detail["partner_id"] == "marketplace-a"
    assert detail["reason"] == "PPS board decision 2026-14: open cases"


def test_offboarding_is_final(env: Env) -> None:
    _offboard(env, RetentionDecision.EXPIRE)
    with pytest.raises(ConflictError):
        _offboard(env, RetentionDecision.EXPIRE)
    with transaction(env.factory) as session, pytest.raises(ConflictError) as refused:
        env.registry(session).reinstate("marketplace-a")
    assert "offboarding is final" in refused.value.reason
