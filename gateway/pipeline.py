"""One request pipeline for every partner action: context, decision, refusal, quota, audit.

Every metered or policy-decided partner action (match, indicator submission, watch-list
write, dispute, retraction, feedback, tracked requests) runs the same steps, each written
once here:

1. **Context.** The route opens :meth:`Caller.transaction` and gets a
   :class:`RequestContext`: the request's session, the services, the verified principal,
   the request id, and the purpose and legal basis the caller invoked.
2. **Decide.** :meth:`RequestContext.decide` asks the policy for the partner (always with its
   registered sector) for the action and any narrowing (kinds, hashing specs, categories);
   a batch is decided per distinct (kind, spec, ...) with :meth:`RequestContext.decide_each`.
3. **Admit.** :meth:`RequestContext.admit` refuses (an audited 403 with the policy's own
   reasons, texts and legal references) when the decisions deny, and otherwise charges the
   action's items to the partner's and client's quota (an audited 429 when used up).
4. **Act and audit.** The action's service does its own work and records one event made by
   :meth:`RequestContext.event` in the same transaction; the receipt goes back to the caller.

A refusal's audit entry is written in the request's transaction, which then commits only
that entry (``audited=True`` on the error), so every refusal is on the record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, Protocol, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import Session

from gateway.abuse import Charge, charge_quota
from gateway.audit_trail.events import Actor, AuditEvent, AuditTag
from gateway.audit_trail.service import AuditReceipt
from gateway.auth.deps import authenticate, bearer_scheme, scope_check
from gateway.auth.principal import Principal
from gateway.db import transaction
from gateway.deps import get_request_id, get_services
from gateway.errors import GatewayError
from gateway.policy.decision import Action, Decision, DecisionRequest
from gateway.policy.refusals import denial_text, refusal
from gateway.services import Services

Key = TypeVar("Key", bound=Hashable)
Answer = TypeVar("Answer")


class Asking(Protocol):
    """A request body naming the purpose and the legal basis the caller invokes."""

    @property
    def purpose(self) -> str: ...

    @property
    def legal_basis(self) -> str: ...


Body = TypeVar("Body", bound=Asking)


def reason_codes(decisions: Sequence[Decision]) -> tuple[str, ...]:
    """One decision's codes as the policy gave them; several decisions' codes, sorted once."""
    if len(decisions) == 1:
        return decisions[0].reason_codes
    return tuple(sorted({code for d in decisions for code in d.reason_codes}))


@dataclass(frozen=True, slots=True)
class RequestContext:
    """One partner request inside its transaction: who asks, under which purpose and basis."""

    session: Session
    services: Services
    principal: Principal
    request_id: str
    purpose: str | None = None
    legal_basis: str | None = None

    @property
    def actor(self) -> Actor:
        return self.principal.actor(self.request_id)

    def decide(self, action: Action, **narrowing: Any) -> Decision:
        """The policy's decision on ``action`` for this caller (``narrowing`` as in
        :class:`DecisionRequest`: kinds, specs, categories, batch_size, context)."""
        context = {"partner_sector": self.principal.sector, **narrowing.pop("context", {})}
        request = DecisionRequest(
            action=action,
            partner_id=self.principal.partner_id,
            context=context,
            purpose=self.purpose or "",
            legal_basis=self.legal_basis,
            **narrowing,
        )
        return self.services.policy.decide(request)

    def decide_each(
        self, action: Action, keys: Iterable[Key], narrowing: Callable[[Key], dict[str, Any]]
    ) -> dict[Key, Decision]:
        """One decision per distinct key (e.g. per (kind, spec) in a batch), in key order."""
        return {key: self.decide(action, **narrowing(key)) for key in sorted(set(keys))}  # type: ignore[type-var]

    def event(self, tag: AuditTag, decisions: Sequence[Decision] = (), **fields: Any) -> AuditEvent:
        """The audit event of this request: actor, purpose, basis, and the decisions' verdict,
        reason codes and policy digest (``fields`` add counts, detail, or override)."""
        verdict: dict[str, Any] = {"policy_digest": self.services.policy.digest}
        if decisions:
            allowed = all(d.allow for d in decisions)
            verdict = {
                "decision": "allow" if allowed else "deny",
                "reason_codes": reason_codes(decisions),
                "policy_digest": decisions[0].policy_digest,
            }
        return self.actor.event(
            tag,
            purpose=self.purpose,
            legal_basis=self.legal_basis,
            **{**verdict, **fields},
        )

    def record(self, event: AuditEvent) -> AuditReceipt:
        """Append ``event`` in this request's transaction; its receipt."""
        return self.services.audit.record(self.session, event)

    def refuse(
        self, tag: AuditTag, decisions: Sequence[Decision], *, items: int, field: str = "purpose"
    ) -> NoReturn:
        """Audit the policy's refusal of this request and raise it (403, with references)."""
        denied = tuple(d for d in decisions if not d.allow) or tuple(decisions)
        codes = reason_codes(denied)
        self.record(self.event(tag, denied, decision="deny", counts={"items": items}))
        raise refusal(denied, denial_text(*denied), field=field, reasons=codes)

    def fail(
        self, tag: AuditTag, error: GatewayError, *, code: str, counts: dict[str, int]
    ) -> NoReturn:
        """Audit a refusal the gateway decides itself (e.g. an unusable epoch) and raise it."""
        self.record(self.event(tag, decision="deny", reason_codes=(code,), counts=counts))
        error.audited = True
        raise error

    def admit(
        self,
        tag: AuditTag,
        decisions: Mapping[Any, Decision] | Sequence[Decision],
        *,
        items: int,
        refuse_if: Literal["any", "all"] = "any",
        metered: bool = True,
        field: str = "purpose",
    ) -> Charge | None:
        """Refuse when the decisions deny (``any`` of them, or ``all``), else charge the quota.

        The quota charged is that of the first allowed decision (all decisions of one request
        carry the same purpose and so the same quota). ``metered=False`` for the actions that
        no quota bounds. Returns the charge (None when nothing was charged).
        """
        group = list(decisions.values()) if isinstance(decisions, Mapping) else list(decisions)
        denied = [d for d in group if not d.allow]
        if denied and (refuse_if == "any" or len(denied) == len(group)):
            self.refuse(tag, group, items=items, field=field)
        allowed = [d for d in group if d.allow]
        if not metered or not allowed:
            return None
        return self.charge(allowed[0], items=items, deny_tag=tag)

    def charge(self, decision: Decision, *, items: int, deny_tag: AuditTag) -> Charge:
        """Charge ``items`` to the client's and partner's quota for this purpose (or refuse)."""
        return charge_quota(
            self.session,
            self.services,
            self.principal,
            request_id=self.request_id,
            purpose=self.purpose or "",
            legal_basis=self.legal_basis,
            decision=decision,
            items=items,
            deny_tag=deny_tag,
        )


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller of one route, before its transaction opens."""

    services: Services
    principal: Principal
    request_id: str

    def act(self, action: Callable[[RequestContext, Body], Answer], body: Body) -> Answer:
        """Run one partner action on ``body`` in the request's transaction, under the purpose
        and legal basis the body invokes."""
        with self.transaction(body.purpose, body.legal_basis) as ctx:
            return action(ctx, body)

    @contextmanager
    def transaction(
        self, purpose: str | None = None, legal_basis: str | None = None
    ) -> Iterator[RequestContext]:
        """The request's one transaction and its context (commits on success)."""
        with transaction(self.services.session_factory) as session:
            yield RequestContext(
                session, self.services, self.principal, self.request_id, purpose, legal_basis
            )


def caller(*scopes: str) -> Callable[..., Awaitable[Caller]]:
    """A route dependency: the caller authenticated with all of ``scopes``.

    One dependency that authenticates and checks the scopes itself (as ``require_scopes``
    does, in the same order, with the same audited refusals): FastAPI's resolution of each
    further sub-dependency cost more CPU per request than what it computed.
    """
    check = scope_check(*scopes)

    # Defaults rather than ``Annotated``: the annotations are strings resolved against this
    # module's globals, where a per-call ``Annotated`` alias could not be found.
    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),  # noqa: B008
    ) -> Caller:
        services = await get_services(request)
        request_id = await get_request_id(request)
        principal = await authenticate(services, request_id, credentials)
        return Caller(services, await check(principal, services, request_id), request_id)

    dependency.__name__ = "caller_" + "_".join(sorted(scopes)).replace(":", "_")
    return dependency
