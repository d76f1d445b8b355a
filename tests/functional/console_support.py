"""A console over the real app for HTTP-level tests: partners, users, audit entries.

The app is ``create_app`` on the parametrised backend; users sign in through the sign-in
form itself (double-submit token, password, TOTP at the fixed clock), and activity is real
audit entries of two banks so that scoping can be checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import nacl.pwhash
import pyotp
from fastapi.testclient import TestClient

from gateway.audit_trail.events import Actor, AuditEvent, AuditTag
from gateway.auth.console_users import ConsoleAccounts, NewConsoleUser, PasswordHashing
from gateway.clock import FixedClock
from gateway.db import transaction
from gateway.partners.service import PartnerRegistry
from gateway.services import Services
from tests.functional.auth_helpers import START, build_app, make_settings

PASSWORD = "a sufficiently long password"
FAST = PasswordHashing(
    opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN, memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN
)
PARTNERS = {
    "bank-a": "bank",
    "bank-b": "bank",
    "helpdesk-pps": "helpdesk",
    "dpo-pps": "partnership_dpo",
    "operator": "operator",
}
USERS = {
    "petra": ("privacy_officer", "bank-a"),
    "bram": ("privacy_officer", "bank-b"),
    "hanna": ("helpdesk", "helpdesk-pps"),
    "dora": ("partnership_dpo", "dpo-pps"),
    "otto": ("admin", "operator"),
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGNIN = re.compile(r'name="signin_token" value="([^"]+)"')


@dataclass
class ConsoleApp:
    http: TestClient
    services: Services
    clock: FixedClock
    users: dict[str, NewConsoleUser] = field(default_factory=dict)

    def client(self) -> TestClient:
        return TestClient(self.http.app, base_url="https://testserver")

    def sign_in(self, username: str, client: TestClient | None = None) -> TestClient:
        client = client or self.client()
        form = client.get("/console/signin")
        token = SIGNIN.search(form.text)
        assert token is not None
        self.clock.current += timedelta(seconds=31)
        response = client.post(
            "/console/signin",
            data={
                "username": username,
                "password": PASSWORD,
                "totp": pyotp.TOTP(self.users[username].totp_secret).at(self.clock.now()),
                "signin_token": token.group(1),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text[:500]
        return client

    def audit_tags(self) -> list[str]:
        from sqlalchemy import select

        from gateway.audit_trail.models import AuditEntry

        with transaction(self.services.session_factory) as session:
            return list(session.scalars(select(AuditEntry.tag).order_by(AuditEntry.seq)))


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "page has no CSRF token"
    return found.group(1)


def _activity(services: Services) -> None:
    with transaction(services.session_factory) as session:
        for number in range(6):
            for partner in ("bank-a", "bank-b"):
                denied = number == 5
                services.audit.record(
                    session,
                    AuditEvent(
                        tag=AuditTag.MATCH_QUERY_DENY if denied else AuditTag.MATCH_QUERY_ALLOW,
                        request_id=f"req-{partner}-{number}",
                        actor_partner=partner,
                        actor_client=f"{partner}-c1",
                        purpose="payment_screening",
                        legal_basis="art6_1_c",
                        decision="deny" if denied else "allow",
                        reason_codes=("reporter-identity-not-permitted",) if denied else (),
                        counts={"items": 2, "hits": 1},
                    ),
                )
    with transaction(services.session_factory) as session:
        services.audit.sign_checkpoint(session)


@contextmanager
def console_app(database_url: str, data_dir: Path) -> Iterator[ConsoleApp]:
    clock = FixedClock(START)
    app, services = build_app(make_settings(database_url, data_dir), clock)
    users: dict[str, NewConsoleUser] = {}
    with transaction(services.session_factory) as session:
        registry = PartnerRegistry(session, services.audit, actor=Actor(request_id="setup"))
        for partner_id, sector in PARTNERS.items():
            registry.add_partner(name=partner_id, sector=sector, partner_id=partner_id)
        accounts = ConsoleAccounts(
            session,
            services.audit,
            services.settings,
            clock=clock,
            request_id="setup",
            hashing=FAST,
        )
        for username, (role, partner) in USERS.items():
            users[username] = accounts.add_user(
                username=username, role=role, partner_id=partner, password=PASSWORD
            )
    _activity(services)
    try:
        with TestClient(app, base_url="https://testserver") as http:
            yield ConsoleApp(http, services, clock, users)
    finally:
        services.engine.dispose()
