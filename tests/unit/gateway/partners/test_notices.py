"""Notices for the competent authorities: generated from the registry, policy and audit log."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from connectors.keystore import ConnectorKeys
from gateway.audit_trail.events import Actor
from gateway.audit_trail.service import AuditTrail, build_audit_trail
from gateway.clock import FixedClock
from gateway.config import load_settings
from gateway.db import build_engine, build_session_factory, transaction
from gateway.errors import InvalidRequestError
from gateway.offboarding import RetentionDecision, offboard
from gateway.partners.notices import (
    MembershipEvent,
    MembershipNotice,
    build_notice,
    notice_csv,
    notice_pdf,
)
from gateway.partners.service import PartnerRegistry
from gateway.policy.bundle import load_bundle

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
BUNDLE = load_bundle()


@pytest.fixture
def factory(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[sessionmaker[Session], AuditTrail]]:
    settings = load_settings(env="test", data_dir=tmp_path, database_url=database_url)
    engine = build_engine(settings)
    yield build_session_factory(engine), build_audit_trail(settings)
    engine.dispose()


def _registry(session: Session, audit: AuditTrail) -> PartnerRegistry:
    actor = Actor(request_id="req-notice", user="cli:operator")
    return PartnerRegistry(session, audit, actor=actor, clock=FixedClock(NOW))


def _notice(session: Session, event: MembershipEvent) -> MembershipNotice:
    return build_notice(
        session,
        BUNDLE.data,
        partner_id="psp-a",
        event=event,
        policy_digest=BUNDLE.digest,
        now=NOW,
    )


def test_joining_and_leaving_notices_come_from_registry_policy_and_log(
    factory: tuple[sessionmaker[Session], AuditTrail],
) -> None:
    sessions, audit = factory
    with transaction(sessions) as session:
        registry = _registry(session, audit)
        registry.add_partner(name="PSP A B.V.", sector="psp", partner_id="psp-a")
        registry.add_client(
            partner_id="psp-a",
            jwk=ConnectorKeys.generate().public_jwks(),
            scopes="indicators:write match:query",
            client_id="psp-a-1",
        )
    with transaction(sessions) as session:
        joined = _notice(session, MembershipEvent.JOINED)
        with pytest.raises(InvalidRequestError) as still_active:
            _notice(session, MembershipEvent.LEFT)
        assert still_active.value.field == "event"
    text = notice_csv(joined)
    rows = list(csv.reader(io.StringIO(text)))
    assert ["partner", "notice", "partner joined the partnership"] in rows
    notify = next(value for section, field, value in rows if field == "notify")
    assert "De Nederlandsche Bank" in notify  # psp-a is registered under the PSR profile
    registered = {field for section, field, _ in rows if section == "registration"}
    assert {"psr_fraud_sharing", "indicator_submission"} <= registered
    acts = [value for section, _, value in rows if section == "audit"]
    assert any("partner:onboard" in act for act in acts)
    assert any("partner:client:add" in act for act in acts)

    with transaction(sessions) as session:
        offboard(_registry(session, audit), "psp-a", decision=RetentionDecision.EXPIRE, reason=None)
    with transaction(sessions) as session:
        left = _notice(session, MembershipEvent.LEFT)
    rows = list(csv.reader(io.StringIO(notice_csv(left))))
    tags = " ".join(value for section, _, value in rows if section == "audit")
    for tag in ("partner:offboard", "partner:client:suspend", "partner:indicators:expire"):
        assert tag in tags
    assert "NL91" not in notice_csv(left)
    assert notice_pdf(left).startswith(b"%PDF")
