"""The audit entry of an allowed audit read in the console (a page, a lookup, a download)."""

from __future__ import annotations

from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.console.access import AuditAccess


def audit_read_event(
    access: AuditAccess,
    request_id: str,
    tag: AuditTag,
    *,
    counts: dict[str, int] | None = None,
    detail: dict[str, object] | None = None,
) -> AuditEvent:
    """An allowed read by ``access``'s reader, under the purpose and decision of its grant."""
    return access.reader.actor(request_id).event(
        tag,
        purpose=access.grant.purpose,
        legal_basis=access.grant.legal_basis,
        decision="allow",
        policy_digest=access.grant.decision.policy_digest,
        counts=counts or {},
        detail=detail,
    )
