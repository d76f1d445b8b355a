"""Errors of the gateway's audit trail.

An audit write that cannot happen fails the request it belongs to (fail closed): the action
and its entry are one transaction, so raising here rolls both back.
"""

from __future__ import annotations

from gateway.errors import GatewayError


class AuditEventInvalidError(GatewayError):
    """A service tried to record an event that breaks the entry format (a bug, not input)."""

    status = 500
    code = "audit-event-invalid"
    title = "Audit event refused"


class AuditIntegrityError(GatewayError):
    """The stored log disagrees with itself; the gateway refuses to sign over it."""

    status = 500
    code = "audit-integrity"
    title = "Audit log integrity failure"


class AuditVerificationError(GatewayError):
    """Independent verification of a log failed; ``index`` names the first bad entry."""

    status = 422
    code = "audit-verification-failed"
    title = "Audit log verification failed"

    def __init__(self, reason: str, *, index: int | None = None) -> None:
        super().__init__(reason, field=f"entry {index}" if index is not None else None)
        self.index = index


class CosignatureRejectedError(GatewayError):
    """A submitted cosignature is not from a configured witness or does not verify."""

    status = 403
    code = "cosignature-rejected"
    title = "Cosignature rejected"
