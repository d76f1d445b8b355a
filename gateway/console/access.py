"""Who may see what in the console: role permissions first, then the policy engine.

A role says what a person can ever do (``gateway.auth.permissions``); *whose* audit entries
a privacy officer reads and whether a person may run the simulator is the policy engine's
decision, asked with the same ``DecisionRequest`` the API uses: the person's partner, the
purpose that partner registered for the action, its legal basis, and (for audit reads) the
partner whose entries are wanted. Every refusal is audited before it is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.audit_trail.deps import AuditReader
from gateway.audit_trail.events import AuditTag
from gateway.auth.permissions import Permission
from gateway.auth.principal import Principal
from gateway.console.bundles import live_bundle
from gateway.db import transaction
from gateway.errors import PermissionDeniedError
from gateway.policy.decision import Action, Decision, DecisionRequest
from gateway.policy.refusals import refusal
from gateway.services import Services

OWN_ENTRIES_ONLY = "own-entries-only"
NO_PURPOSE = "unregistered"


@dataclass(frozen=True, slots=True)
class Grant:
    """An allowed console act: the decision and the purpose it was made under."""

    decision: Decision
    purpose: str
    legal_basis: str | None


@dataclass(frozen=True, slots=True)
class AuditAccess:
    """An allowed audit read: whose entries, under which decision."""

    reader: AuditReader
    grant: Grant

    @property
    def scope(self) -> str | None:
        return self.reader.scope


def purpose_for(data: Mapping[str, Any], partner_id: str, action: Action) -> tuple[str, str | None]:
    """The purpose (and its registered legal basis) under which a partner does ``action``.

    When the partner registered none, the first purpose that covers the action is named so
    that the policy's refusal explains what is missing, instead of the console guessing.
    """
    purposes: Mapping[str, Any] = data.get("purposes", {})
    registrations: Mapping[str, Any] = (
        data.get("partners", {}).get(partner_id, {}).get("registrations", {})
    )
    for purpose_id in sorted(registrations):
        if action.value in purposes.get(purpose_id, {}).get("actions", []):
            basis = registrations[purpose_id].get("legal_basis")
            return purpose_id, basis if isinstance(basis, str) else None
    for purpose_id in sorted(purposes):
        if action.value in purposes[purpose_id].get("actions", []):
            return purpose_id, None
    return NO_PURPOSE, None


def record_refusal(
    services: Services,
    request_id: str,
    principal: Principal,
    tag: AuditTag,
    *,
    codes: tuple[str, ...],
    grant: Grant | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    """Audit a console refusal in its own transaction (it must survive the error response)."""
    with transaction(services.session_factory) as session:
        services.audit.record(
            session,
            principal.actor(request_id).event(
                tag,
                purpose=grant.purpose if grant else None,
                legal_basis=grant.legal_basis if grant else None,
                decision="deny",
                reason_codes=codes,
                policy_digest=grant.decision.policy_digest if grant else None,
                detail=detail,
            ),
        )


def refused(
    services: Services,
    request_id: str,
    principal: Principal,
    tag: AuditTag,
    text: str,
    *,
    field: str,
    codes: tuple[str, ...],
    grant: Grant | None = None,
    detail: dict[str, object] | None = None,
) -> PermissionDeniedError:
    """Audit a console refusal (:func:`record_refusal`) and return the error to raise."""
    record_refusal(services, request_id, principal, tag, codes=codes, grant=grant, detail=detail)
    return PermissionDeniedError(text, field=field, reasons=codes, audited=True)


def require_any(
    services: Services,
    request_id: str,
    principal: Principal,
    tag: AuditTag,
    *permissions: Permission,
) -> None:
    """Refuse (audited) unless the role holds at least one of ``permissions``."""
    if principal.permissions & set(permissions):
        return
    raise refused(
        services,
        request_id,
        principal,
        tag,
        "your role lacks permission " + " or ".join(sorted(str(p) for p in permissions)),
        field="role",
        codes=("permission-missing",),
        detail={"needs_one_of": sorted(str(p) for p in permissions)},
    )


def decide(
    services: Services,
    principal: Principal,
    action: Action,
    context: dict[str, object] | None = None,
) -> Grant:
    """Ask the policy engine about a console act of ``principal`` (no audit here)."""
    with transaction(services.session_factory) as session:
        data = live_bundle(services, session).data
    purpose, basis = purpose_for(data, principal.partner_id, action)
    decision = services.policy.decide(
        DecisionRequest(
            action=action,
            partner_id=principal.partner_id,
            purpose=purpose,
            legal_basis=basis,
            # The registry's sector: a contradiction with the policy data is a deny.
            context={**(context or {}), "partner_sector": principal.sector},
        )
    )
    return Grant(decision=decision, purpose=purpose, legal_basis=basis)


def _refuse(
    services: Services,
    request_id: str,
    principal: Principal,
    tag: AuditTag,
    *,
    grant: Grant,
    detail: dict[str, object] | None,
) -> PermissionDeniedError:
    codes = grant.decision.reason_codes or ("denied",)
    record_refusal(services, request_id, principal, tag, codes=codes, grant=grant, detail=detail)
    text = "; ".join(reason.text_en for reason in grant.decision.reasons) or "denied by policy"
    return refusal(grant.decision, text, field="partner", reasons=codes)


def audit_access(
    services: Services,
    request_id: str,
    principal: Principal,
    *,
    target_partner: str | None = None,
) -> AuditAccess:
    """Whose audit entries ``principal`` may read; a refusal is audited and raised.

    ``target_partner`` names the partner whose entries are wanted (a filter or an entry's
    actor); the policy refuses another partner's entries under a purpose limited to the
    reader's own. Without a target the obligations of the allow decide the scope.
    """
    require_any(
        services,
        request_id,
        principal,
        AuditTag.AUDIT_ACCESS_DENY,
        Permission.AUDIT_READ_OWN,
        Permission.AUDIT_READ_ALL,
    )
    context: dict[str, object] = {}
    if target_partner is not None:
        context["target_partner"] = target_partner
    grant = decide(services, principal, Action.AUDIT_READ, context)
    if not grant.decision.allow:
        detail: dict[str, object] | None = (
            {"target_partner": target_partner} if target_partner else None
        )
        raise _refuse(
            services,
            request_id,
            principal,
            AuditTag.AUDIT_ACCESS_DENY,
            grant=grant,
            detail=detail,
        )
    everything = (
        OWN_ENTRIES_ONLY not in grant.decision.obligations
        and Permission.AUDIT_READ_ALL in principal.permissions
    )
    reader = AuditReader(
        partner_id=principal.partner_id, user=principal.user, all_partners=everything
    )
    return AuditAccess(reader=reader, grant=grant)


def simulate_access(services: Services, request_id: str, principal: Principal) -> Grant:
    """Whether ``principal`` may run the policy simulator; a refusal is audited and raised."""
    require_any(
        services, request_id, principal, AuditTag.POLICY_SIMULATION_DENY, Permission.POLICY_SIMULATE
    )
    grant = decide(services, principal, Action.POLICY_SIMULATE)
    if not grant.decision.allow:
        raise _refuse(
            services,
            request_id,
            principal,
            AuditTag.POLICY_SIMULATION_DENY,
            grant=grant,
            detail=None,
        )
    return grant
