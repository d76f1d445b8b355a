"""Who reads the audit trail through the API: a partner client with ``audit:read``.

The policy decides the scope (``Action.AUDIT_READ``): a partner's privacy officer tooling
sees its own partner's entries; the partnership DPO, whose purpose carries no
``own-entries-only`` obligation, sees everyone's. Asking for another partner's entries under
an own-entries purpose is refused and the refusal audited. The console decides the same way
for its signed-in users (``gateway.console.access``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from gateway.audit_trail.deps import AuditReader
from gateway.audit_trail.events import AuditTag
from gateway.auth.deps import require_scopes
from gateway.auth.principal import Principal
from gateway.console.access import OWN_ENTRIES_ONLY, decide, record_refusal
from gateway.deps import RequestIdDep, ServicesDep
from gateway.policy.decision import Action
from gateway.policy.refusals import refusal

Auditor = Annotated[Principal, Depends(require_scopes("audit:read"))]


def api_audit_reader(
    principal: Auditor,
    services: ServicesDep,
    request_id: RequestIdDep,
    partner: Annotated[str | None, Query(max_length=64)] = None,
) -> AuditReader:
    context: dict[str, object] = {"target_partner": partner} if partner else {}
    grant = decide(services, principal, Action.AUDIT_READ, context)
    if not grant.decision.allow:
        codes = grant.decision.reason_codes or ("denied",)
        record_refusal(
            services,
            request_id,
            principal,
            AuditTag.AUDIT_ACCESS_DENY,
            codes=codes,
            grant=grant,
            detail={"target_partner": partner} if partner else None,
        )
        text = "; ".join(r.text_en for r in grant.decision.reasons) or "denied by policy"
        raise refusal(grant.decision, text, field="partner", reasons=codes)
    everything = OWN_ENTRIES_ONLY not in grant.decision.obligations
    return AuditReader(
        partner_id=principal.partner_id, client_id=principal.client_id, all_partners=everything
    )


# Wired directly rather than through ``app.dependency_overrides``: any override makes FastAPI
# re-analyse every dependency of every request (~12 % of a single match's CPU).
AuditReaderDep = Annotated[AuditReader, Depends(api_audit_reader)]
