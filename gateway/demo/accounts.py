"""The demo's console accounts: organisations without a connector and one user per role.

Accounts are made by :meth:`ConsoleAccounts.add_user`, the code behind ``ppsgate user add``,
with a random password per run; the demo prints the passwords and TOTP secrets (marked as
demo only) so a newcomer can sign in to the console at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.audit_trail.events import Actor
from gateway.auth.console_users import ConsoleAccounts
from gateway.db import transaction
from gateway.demo.cast import CONSOLE_USERS, ORGANISATIONS, DemoOrganisation, DemoUser
from gateway.partners.service import PartnerRegistry
from gateway.services import Services


@dataclass(frozen=True, slots=True)
class DemoAccount:
    user: DemoUser
    password: str
    totp_secret: str


def create_console_accounts(
    services: Services,
    organisations: Iterable[DemoOrganisation] = ORGANISATIONS,
    users: Iterable[DemoUser] = CONSOLE_USERS,
) -> list[DemoAccount]:
    """Onboard the console-only organisations and create one account per demo user."""
    actor = Actor(request_id=f"demo-{secrets.token_hex(6)}", user="demo")
    created: list[DemoAccount] = []
    with transaction(services.session_factory) as session:
        registry = PartnerRegistry(session, services.audit, actor=actor, clock=services.clock)
        for organisation in organisations:
            registry.add_partner(
                name=organisation.name,
                sector=organisation.sector,
                partner_id=organisation.partner_id,
            )
        accounts = ConsoleAccounts(
            session,
            services.audit,
            services.settings,
            clock=services.clock,
            request_id=actor.request_id,
        )
        for user in users:
            password = secrets.token_urlsafe(15)
            account = accounts.add_user(
                username=user.username,
                role=user.role.value,
                partner_id=user.partner_id,
                password=password,
            )
            created.append(DemoAccount(user, password, account.totp_secret))
    return created
