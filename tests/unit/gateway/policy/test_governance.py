"""Four-eyes policy changes on a real database (both backends)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.audit_trail.models import AuditEntry
from gateway.auth.models import ConsoleUser
from gateway.bootstrap import build_services
from gateway.config import load_settings
from gateway.db import transaction
from gateway.errors import InvalidRequestError, PermissionDeniedError
from gateway.governance import PolicyGovernance
from gateway.partners.models import Partner
from gateway.policy.bundle import default_policy_dir, load_bundle
from gateway.policy.governance import active_version
from gateway.services import Services


def _services(database_url: str, tmp_path: Path) -> Services:
    settings = load_settings(env="test", data_dir=tmp_path / "data", database_url=database_url)
    return build_services(settings)


def _users(services: Services) -> None:
    with transaction(services.session_factory) as session:
        session.add(Partner(id="dpo-pps", name="PPS", sector="partnership_dpo", status="active"))
        session.flush()
        for name, role in (
            ("alice", "privacy_officer"),
            ("bob", "privacy_officer"),
            ("dora", "partnership_dpo"),
            ("hank", "helpdesk"),
        ):
            session.add(
                ConsoleUser(
                    username=name,
                    partner_id="dpo-pps",
                    role=role,
                    password_hash="x",
                    totp_secret="x",
                    created_at=datetime.now(tz=UTC),
                )
            )


def _changed_bundle(tmp_path: Path) -> Path:
    """A copy of the shipped policies with one more (unused) instrument."""
    target = tmp_path / "proposal"
    shutil.copytree(default_policy_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    instruments = target / "data" / "instruments.json"
    data = json.loads(instruments.read_text())
    data["covenant-addendum-2026"] = {**next(iter(data.values()))}
    instruments.write_text(json.dumps(data, indent=1))
    return target


def test_first_start_records_the_bundled_policies(database_url: str, tmp_path: Path) -> None:
    services = _services(database_url, tmp_path)
    with transaction(services.session_factory) as session:
        version = active_version(session)
        assert version is not None
        assert version.digest == services.policy.digest
        tags = list(session.scalars(select(AuditEntry.tag)))
        assert "policy:bundle:load" in tags
    services.engine.dispose()


def test_four_eyes_then_every_worker_follows(database_url: str, tmp_path: Path) -> None:
    services = _services(database_url, tmp_path)
    _users(services)
    old = services.policy.digest
    bundle = load_bundle(_changed_bundle(tmp_path))
    assert bundle.digest != old
    with transaction(services.session_factory) as session:
        gov = PolicyGovernance(session, services.audit, services.clock, request_id="t")
        gov.propose(bundle, by="alice", note="covenant addendum")
    with transaction(services.session_factory) as session:
        gov = PolicyGovernance(session, services.audit, services.clock, request_id="t")
        with pytest.raises(PermissionDeniedError, match="proposer"):
            gov.approve(bundle.digest, by="alice")
    with transaction(services.session_factory) as session:
        gov = PolicyGovernance(session, services.audit, services.clock, request_id="t")
        with pytest.raises(PermissionDeniedError, match="privacy officers"):
            gov.approve(bundle.digest, by="hank")
    with transaction(services.session_factory) as session:
        gov = PolicyGovernance(session, services.audit, services.clock, request_id="t")
        assert gov.approve(bundle.digest[:12], by="bob") == 1
    with transaction(services.session_factory) as session:
        gov = PolicyGovernance(session, services.audit, services.clock, request_id="t")
        with pytest.raises(PermissionDeniedError, match="2 approvals"):
            gov.activate(bundle.digest, by="bob")
    with transaction(services.session_factory) as session:
        gov = PolicyGovernance(session, services.audit, services.clock, request_id="t")
        gov.approve(bundle.digest, by="dora")
        gov.activate(bundle.digest, by="dora")
    # A second worker process would start on the new version; this one switches on refresh.
    assert services.policy.digest == old
    with transaction(services.session_factory) as session:
        assert services.policy.follow_database(session)  # type: ignore[attr-defined]
    assert services.policy.digest == bundle.digest
    with transaction(services.session_factory) as session:
        ordered = select(AuditEntry.tag).order_by(AuditEntry.seq)
        tags = [t for t in session.scalars(ordered) if t.startswith("policy:")]
        assert tags == [
            "policy:bundle:load",
            "policy:bundle:propose",
            "policy:bundle:approve",
            "policy:bundle:approve",
            "policy:bundle:activate",
        ]
        assert [
            v.status
            for v in PolicyGovernance(
                session, services.audit, services.clock, request_id="t"
            ).history()
        ] == ["superseded", "active"]
    services.engine.dispose()


def test_a_bundle_that_fails_its_tests_cannot_be_proposed(
    database_url: str, tmp_path: Path
) -> None:
    services = _services(database_url, tmp_path)
    target = _changed_bundle(tmp_path)
    rego = target / "gateway" / "retention" / "retention_test.rego"
    rego.write_text(rego.read_text() + "\ntest_deliberately_broken if {\n\tfalse\n}\n")
    with transaction(services.session_factory) as session:
        gov = PolicyGovernance(session, services.audit, services.clock, request_id="t")
        with pytest.raises(InvalidRequestError, match="policy tests fail"):
            gov.propose(load_bundle(target), by="alice", note="")
    services.engine.dispose()


def test_a_note_holding_an_identifier_is_refused(database_url: str, tmp_path: Path) -> None:
    services = _services(database_url, tmp_path)
    with transaction(services.session_factory) as session:
        gov = PolicyGovernance(session, services.audit, services.clock, request_id="t")
        with pytest.raises(InvalidRequestError, match="kind email") as refused:
            gov.propose(
                load_bundle(_changed_bundle(tmp_path)), by="alice", note="asked by jan@example.nl"
            )
    assert refused.value.field == "note"
    assert "jan@" not in refused.value.reason
    services.engine.dispose()
