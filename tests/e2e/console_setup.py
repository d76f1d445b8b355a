"""A gateway on loopback with the demo's story played over HTTP, plus console accounts.

The partners play the demo's scenarios (1-3, 12, 13) through their own ``private_key_jwt``
clients (as the demo does), so the audit trail holds real match, submission and alert
entries; a second policy version is proposed so the history has something to diff. Console
users get their TOTP secret back here, and the tests compute codes with pyotp at the
gateway's (fixed) time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import nacl.pwhash
import pyotp
import pytest

from connectors.canonical import Kind
from connectors.client import GatewayAPIError
from gateway.audit_trail.events import Actor
from gateway.auth.console_users import ConsoleAccounts, NewConsoleUser, PasswordHashing
from gateway.db import transaction
from gateway.demo import cast, story
from gateway.demo import partners as demo_partners
from gateway.governance import PolicyGovernance
from gateway.partners.service import PartnerRegistry
from gateway.policy.bundle import bundle_from_files
from gateway.policy.governance import active_version, stored_bundle
from tests.support.gateway import Gateway

PASSWORD = "correct horse battery staple"
FAST = PasswordHashing(
    opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN, memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN
)
STORY_PARTNERS = tuple(partner.partner_id for partner in cast.PARTNERS)
USERS = {
    "petra": ("privacy_officer", "bank-a"),
    "bram": ("privacy_officer", "bank-b"),
    "hanna": ("helpdesk", "helpdesk-pps"),
    "dora": ("partnership_dpo", "dpo-pps"),
}


@dataclass
class Console:
    gateway: Gateway
    users: dict[str, NewConsoleUser]

    @property
    def url(self) -> str:
        return self.gateway.url

    def code(self, username: str) -> str:
        """A fresh TOTP code (each 30 s step is accepted once, so the clock moves on)."""
        self.gateway.clock.current += timedelta(seconds=31)
        return pyotp.TOTP(self.users[username].totp_secret).at(self.gateway.clock.now())


def _play_story(gateway: Gateway) -> None:
    handles = {pid: gateway.partner(pid) for pid in STORY_PARTNERS}
    partners = demo_partners.Partners(
        {pid: handle.client for pid, handle in handles.items()},
        {pid: handle.tokeniser for pid, handle in handles.items()},
        demo_partners.StoryLog(),
    )
    story.play(partners)
    # A denied request too: the telecom operator asks about an IBAN under spoofing prevention.
    with pytest.raises(GatewayAPIError):
        handles["telecom-a"].client.request(
            "POST",
            "/v1/match",
            json={
                **story.SPOOFING,
                "items": [partners.item("telecom-a", Kind.IBAN, cast.SELLER_IBAN)],
            },
        )


def _propose_revision(gateway: Gateway) -> None:
    """A second policy version (a clarified label) so the history shows a diff."""
    services = gateway.services
    with transaction(services.session_factory) as session:
        version = active_version(session)
        assert version is not None
        bundle = stored_bundle(version)
        files = {module.path: module.text.encode() for module in bundle.modules}
        data = json.loads(json.dumps(dict(bundle.data)))
        data["purposes"]["spoofing_prevention"]["label_en"] += " (reviewed 2026)"
        files.update(
            {f"data/{name}.json": json.dumps(value).encode() for name, value in data.items()}
        )
        PolicyGovernance(session, services.audit, services.clock, request_id="e2e").propose(
            bundle_from_files(files, source="e2e revision"),
            by="dora",
            note="Clarify the spoofing-prevention label",
        )


def prepare(gateway: Gateway) -> Console:
    services = gateway.services
    _play_story(gateway)
    users: dict[str, NewConsoleUser] = {}
    with transaction(services.session_factory) as session:
        registry = PartnerRegistry(
            session, services.audit, actor=Actor(request_id="e2e", user="e2e"), clock=gateway.clock
        )
        registry.add_partner(name="PPS help desk", sector="helpdesk", partner_id="helpdesk-pps")
        registry.add_partner(name="Partnership DPO", sector="partnership_dpo", partner_id="dpo-pps")
        accounts = ConsoleAccounts(
            session,
            services.audit,
            services.settings,
            clock=gateway.clock,
            request_id="e2e",
            hashing=FAST,
        )
        for username, (role, partner) in USERS.items():
            users[username] = accounts.add_user(
                username=username, role=role, partner_id=partner, password=PASSWORD
            )
    _propose_revision(gateway)
    with transaction(services.session_factory) as session:
        services.audit.sign_checkpoint(session)
    return Console(gateway, users)
