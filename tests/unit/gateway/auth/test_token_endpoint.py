"""issue_token without HTTP: the jti store holds under concurrency, outcomes are audited."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc import jwt
from sqlalchemy import select

from connectors.keystore import ConnectorKeys
from gateway.audit_trail.events import Actor
from gateway.audit_trail.models import AuditEntry
from gateway.auth.keys import load_token_signing_key
from gateway.auth.models import UsedClientAssertion
from gateway.auth.token_endpoint import TokenOutcome, issue_token
from gateway.bootstrap import build_services
from gateway.clock import FixedClock
from gateway.config import load_settings
from gateway.db import transaction
from gateway.partners.service import PartnerRegistry
from gateway.services import Services
from tests.functional.auth_helpers import ASSERTION_TYPE, START, TOKEN_URL


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    settings = load_settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        public_url="https://gateway.test",
    )
    built = build_services(settings, clock=FixedClock(START))
    try:
        yield built
    finally:
        built.engine.dispose()


@pytest.fixture
def keys(services: Services) -> ConnectorKeys:
    keys = ConnectorKeys.generate()
    with transaction(services.session_factory) as session:
        registry = PartnerRegistry(session, services.audit, actor=Actor(request_id="setup"))
        registry.add_partner(name="Bank", sector="bank", partner_id="bank")
        registry.add_client(
            partner_id="bank", jwk=keys.public_jwks(), scopes="match:query", client_id="bank-1"
        )
    return keys


def signed(keys: ConnectorKeys, *, jti: str | None = None, exp_in: int = 60) -> str:
    t = int(START.timestamp())
    claims = {
        "iss": "bank-1",
        "sub": "bank-1",
        "aud": TOKEN_URL,
        "iat": t,
        "exp": t + exp_in,
        "jti": jti or secrets.token_urlsafe(12),
    }
    return jwt.encode({"alg": "ES256"}, claims, keys.signing_key)


def issue(services: Services, assertion: str, request_id: str = "req") -> TokenOutcome:
    return issue_token(
        session_factory=services.session_factory,
        settings=services.settings,
        key=load_token_signing_key(services.settings),
        audit=services.audit,
        clock=services.clock,
        request_id=request_id,
        form={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
        headers={},
    )


def test_concurrent_replays_issue_exactly_one_token(
    services: Services, keys: ConnectorKeys
) -> None:
    assertion = signed(keys)
    barrier = threading.Barrier(4)
    outcomes: list[TokenOutcome] = []
    lock = threading.Lock()

    def attempt(number: int) -> None:
        barrier.wait()
        outcome = issue(services, assertion, f"req-{number}")
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.status for o in outcomes) == [200, 401, 401, 401]
    assert sorted(o.reason_code or "" for o in outcomes) == [
        "",
        "assertion-replayed",
        "assertion-replayed",
        "assertion-replayed",
    ]
    with transaction(services.session_factory) as session:
        tags = session.scalars(select(AuditEntry.tag).order_by(AuditEntry.seq)).all()
    assert tags.count("auth:token:issue") == 1
    assert tags.count("auth:token:deny") == 3


def test_expired_jti_records_are_purged(services: Services, keys: ConnectorKeys) -> None:
    assert issue(services, signed(keys)).status == 200
    assert isinstance(services.clock, FixedClock)
    services.clock.current = START.replace(hour=START.hour + 1)
    later = int(services.clock.current.timestamp())
    fresh = jwt.encode(
        {"alg": "ES256"},
        {
            "iss": "bank-1",
            "sub": "bank-1",
            "aud": TOKEN_URL,
            "iat": later,
            "exp": later + 60,
            "jti": "fresh",
        },
        keys.signing_key,
    )
    assert issue(services, fresh).status == 200
    with transaction(services.session_factory) as session:
        remaining = session.scalars(select(UsedClientAssertion.jti)).all()
        assert remaining == ["fresh"]


def test_refusal_is_audited_with_its_reason(services: Services, keys: ConnectorKeys) -> None:
    outcome = issue(services, signed(keys, exp_in=3600))
    assert (outcome.status, outcome.reason_code) == (401, "assertion-lifetime")
    with transaction(services.session_factory) as session:
        body = session.scalars(
            select(AuditEntry.body).where(AuditEntry.tag == "auth:token:deny")
        ).one()
    entry = json.loads(body)
    assert entry["reasons"] == ["assertion-lifetime"]
    assert entry["actor"]["client"] == "bank-1"
