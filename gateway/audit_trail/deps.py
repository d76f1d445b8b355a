"""Who may read the audit trail: a dependency that fails closed until auth wires it.

Search, export and subject access take an :class:`AuditReader`. The default dependency
refuses everyone (401); the app overrides :func:`get_audit_reader` with one that
authenticates a privacy officer and asks the policy engine whether they see one partner's
entries or everyone's (the partnership's DPO). The public transparency endpoints (tree
heads, proofs, entries, public key) need no reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from gateway.errors import AuthenticationError


@dataclass(frozen=True, slots=True)
class AuditReader:
    """An authenticated reader of the audit trail and the scope policy granted them."""

    partner_id: str
    user: str | None = None
    client_id: str | None = None
    all_partners: bool = False

    @property
    def scope(self) -> str | None:
        """The partner whose entries this reader sees, or None for all partners."""
        return None if self.all_partners else self.partner_id


def get_audit_reader() -> AuditReader:
    """Refuse by default; the app overrides this with real authentication and policy."""
    raise AuthenticationError("reading the audit trail needs an authenticated privacy officer")


AuditReaderDep = Annotated[AuditReader, Depends(get_audit_reader)]
