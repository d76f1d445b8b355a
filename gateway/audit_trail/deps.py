"""Who reads the audit trail: the reader and the scope the policy granted them.

Search, export and subject access take an :class:`AuditReader` from
``gateway.audit_api.readers.api_audit_reader``, which authenticates a partner client
with ``audit:read`` and asks the policy whether it sees one partner's entries or everyone's
(the partnership's DPO); the console builds one for its signed-in users. The public
transparency endpoints (tree heads, proofs, entries, public key) need no reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.audit_trail.events import Actor


@dataclass(frozen=True, slots=True)
class AuditReader:
    """An authenticated reader of the audit trail and the scope policy granted them."""

    partner_id: str
    user: str | None = None
    client_id: str | None = None
    all_partners: bool = False

    def actor(self, request_id: str) -> Actor:
        """This reader as audit entries name them, acting in request ``request_id``."""
        return Actor(request_id, self.partner_id, self.client_id, self.user)

    @property
    def scope(self) -> str | None:
        """The partner whose entries this reader sees, or None for all partners."""
        return None if self.all_partners else self.partner_id
