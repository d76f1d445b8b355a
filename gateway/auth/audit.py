"""The audit sink the auth and partner services write to.

A protocol rather than the concrete audit trail, so these services depend only on
"something that records an :class:`AuditEvent` in the caller's transaction" (the gateway's
:class:`~gateway.audit_trail.service.AuditTrail` in production and in tests).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from gateway.audit_trail.events import AuditEvent


class AuditSink(Protocol):
    def record(self, session: Session, event: AuditEvent) -> object:
        """Append ``event`` within ``session``'s transaction (flush only, never commit)."""
        ...
