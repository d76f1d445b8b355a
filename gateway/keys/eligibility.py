"""Who may receive which type keys: the policy decides, per partner and per kind.

The custodian seals a type key for a client only when the policy allows the partner to fetch
keys of that kind for the purpose ``key_distribution`` (``Action.KEYS_FETCH``), under the
legal basis the partner registered for that purpose in the policy data. Nothing here knows
which sector holds which kinds: a telecom operator gets no IBAN key because the policy says
so, and a policy change takes effect for the next envelope issued or fetched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from gateway.identifiers import Kind
from gateway.partners.models import ClientStatus, PartnerClient, PartnerStatus
from gateway.policy.decision import Action, Decision, DecisionRequest, PolicyEngine
from gateway.scopes import Scope

KEY_PURPOSE = "key_distribution"
REGISTRATION_RULE = "data.gateway.partners.registration"


def registered_legal_basis(policy: PolicyEngine, partner_id: str) -> str | None:
    """The legal basis the partner registered for key distribution, from the policy data.

    Read through the engine (embedded or OPA) rather than from a copy, so it is the data of
    the policy version that decides. ``None`` (no registration, engine trouble) fails closed.
    """
    engine = getattr(policy, "current", policy)
    evaluate = getattr(engine, "evaluate", None)
    if not callable(evaluate):
        return None
    try:
        registration = evaluate(
            REGISTRATION_RULE, {"partner_id": partner_id, "purpose": KEY_PURPOSE}
        )
    except Exception:  # noqa: BLE001 - any engine failure means "no registration": fail closed
        return None
    if isinstance(registration, dict) and isinstance(registration.get("legal_basis"), str):
        return str(registration["legal_basis"])
    return None


@dataclass(frozen=True, slots=True)
class KindDecisions:
    """The policy's answer for each identifier kind, for one partner."""

    partner_id: str
    legal_basis: str | None
    decisions: dict[str, Decision]

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(sorted(kind for kind, d in self.decisions.items() if d.allow))

    def denial(self, kinds: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
        """(reason codes, text) when any of ``kinds`` is denied, else ``None``."""
        denied = [self.decisions[k] for k in kinds if not self.decisions[k].allow]
        if not denied and self.legal_basis is not None:
            return None
        if self.legal_basis is None:
            return (
                ("purpose-not-registered",),
                f"the partner has no registration for the purpose {KEY_PURPOSE}",
            )
        codes = tuple(sorted({code for d in denied for code in d.reason_codes}))
        text = "; ".join(
            f"{kind}: " + ", ".join(r.code for r in self.decisions[kind].reasons)
            for kind in kinds
            if not self.decisions[kind].allow
        )
        return codes, text


def decide_kinds(
    policy: PolicyEngine,
    partner_id: str,
    partner_status: str,
    kinds: tuple[str, ...] = (),
    *,
    partner_sector: str | None = None,
) -> KindDecisions:
    """One ``keys:fetch`` decision per kind (all kinds when none are given)."""
    asked = kinds or tuple(kind.value for kind in Kind)
    basis = registered_legal_basis(policy, partner_id)
    decisions = {
        kind: policy.decide(
            DecisionRequest(
                action=Action.KEYS_FETCH,
                partner_id=partner_id,
                purpose=KEY_PURPOSE,
                legal_basis=basis,
                kinds=(kind,),
                context={
                    "partner_status": partner_status,
                    **({"partner_sector": partner_sector} if partner_sector else {}),
                },
            )
        )
        for kind in asked
    }
    return KindDecisions(partner_id=partner_id, legal_basis=basis, decisions=decisions)


def recipient_key_id(client: PartnerClient) -> str | None:
    """The thumbprint of the client's registered X25519 key, or ``None`` without one."""
    if not client.encryption_jwk:
        return None
    try:
        jwk: Any = json.loads(client.encryption_jwk)
    except ValueError:
        return None
    kid = jwk.get("kid") if isinstance(jwk, dict) else None
    return str(kid) if isinstance(kid, str) else None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A client as the custodian must judge it: eligible with kinds, or why not."""

    client: PartnerClient
    kinds: tuple[str, ...]
    excluded: str | None
    policy_digest: str | None


def candidates(session: Session, policy: PolicyEngine) -> list[Candidate]:
    """Every registered client, with the kinds it may receive or the reason it gets none."""
    clients = session.scalars(
        select(PartnerClient).options(joinedload(PartnerClient.partner)).order_by(PartnerClient.id)
    ).all()
    by_partner: dict[str, KindDecisions] = {}
    out: list[Candidate] = []
    for client in clients:
        reason = exclusion(client)
        if reason is not None:
            out.append(Candidate(client, (), reason, None))
            continue
        decided = by_partner.get(client.partner_id)
        if decided is None:
            decided = decide_kinds(
                policy,
                client.partner_id,
                client.partner.status,
                partner_sector=client.partner.sector,
            )
            by_partner[client.partner_id] = decided
        digest = next(iter(decided.decisions.values())).policy_digest
        if not decided.allowed:
            why = decided.denial(tuple(decided.decisions))
            out.append(
                Candidate(client, (), f"policy allows no kind ({why[1] if why else ''})", digest)
            )
            continue
        out.append(Candidate(client, decided.allowed, None, digest))
    return out


def exclusion(client: PartnerClient) -> str | None:
    """Why a client can receive no envelope at all, regardless of the policy."""
    if client.partner.status != PartnerStatus.ACTIVE:
        return f"partner is {client.partner.status}"
    if client.status != ClientStatus.ACTIVE:
        return f"client is {client.status}"
    if Scope.KEYS_READ.value not in client.scopes.split():
        return f"client is not registered for the scope {Scope.KEYS_READ.value}"
    if recipient_key_id(client) is None:
        return "client registered no X25519 envelope key"
    return None
