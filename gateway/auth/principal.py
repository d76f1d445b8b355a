"""Who is calling: the authenticated principal handed to routes and the policy engine.

A principal is built only after the credential was verified *and* the database confirmed that
the client (or console user) and its partner are still active, so holding one means "allowed
to be here right now"; what it may do with which object is still the policy engine's call.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.audit_trail.events import Actor
from gateway.auth.permissions import Permission, permissions_for


@dataclass(frozen=True)
class Principal:
    """A verified caller: a connector client (``client_id``) or a console user (``user``)."""

    partner_id: str
    client_id: str | None
    user: str | None
    sector: str
    scopes: frozenset[str]
    roles: frozenset[str]
    # The access token's ``jti`` (API) or a session reference (console), for audit entries.
    credential_id: str | None = None

    @property
    def is_console_user(self) -> bool:
        return self.user is not None

    @property
    def permissions(self) -> frozenset[Permission]:
        """Console permissions from the roles (empty for connector clients)."""
        return permissions_for(self.roles)

    def actor(self, request_id: str) -> Actor:
        """This caller as audit entries name them, acting in request ``request_id``."""
        return Actor(request_id, self.partner_id, self.client_id, self.user)

    def has_scopes(self, *scopes: str) -> bool:
        return set(scopes) <= self.scopes

    def policy_input(self) -> dict[str, object]:
        """The principal as the policy engine sees it (sorted lists, no credentials)."""
        return {
            "partner_id": self.partner_id,
            "client_id": self.client_id,
            "user": self.user,
            "sector": self.sector,
            "scopes": sorted(self.scopes),
            "roles": sorted(self.roles),
        }
