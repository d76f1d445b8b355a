"""Decide a request and, when the policy refuses, audit the refusal and raise it.

The shape every single-decision service shares (retraction, disputes, feedback): one
decision, one audit event describing the request, and on a deny the event recorded in the
request's transaction with an audited 403, so the refusal is on the record although the
request fails.

It sits above the policy, the services and authentication (it needs all three), so the
policy area itself stays below the services container that builds its engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.auth.principal import Principal
from gateway.policy.decision import Decision, DecisionRequest
from gateway.policy.refusals import denial_text, refusal
from gateway.services import Services


@dataclass(frozen=True, slots=True)
class Allowed:
    """An allowed decision and the audit event to complete and record for the act."""

    decision: Decision
    event: AuditEvent


def decide_or_refuse(
    session: Session,
    services: Services,
    principal: Principal,
    request_id: str,
    *,
    request: DecisionRequest,
    tag: AuditTag,
    counts: dict[str, int],
) -> Allowed:
    decision = services.policy.decide(request)
    event = AuditEvent(
        tag=tag,
        request_id=request_id,
        actor_partner=principal.partner_id,
        actor_client=principal.client_id,
        purpose=request.purpose,
        legal_basis=request.legal_basis,
        decision="allow" if decision.allow else "deny",
        reason_codes=decision.reason_codes,
        policy_digest=decision.policy_digest,
        counts=counts,
    )
    if not decision.allow:
        services.audit.record(session, event)
        raise refusal(decision, denial_text(decision), field="purpose")
    return Allowed(decision, event)
