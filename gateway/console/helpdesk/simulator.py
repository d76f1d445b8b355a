"""The policy simulator: a question, asked of the live policies, recorded as a run.

A question names who asks (one partner, or every partner of a sector), the action, purpose,
legal basis (or "the partner's registered basis"), identifier kinds, fraud categories and
what the asker wants to learn. Its canonical JSON is the question's identity: the same
question always has the same key and the same shareable link, so earlier answers to it are
found again. Nothing is exchanged: the engine is asked exactly as the API would ask it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.console.helpdesk.models import SimulationRun
from gateway.errors import InvalidRequestError, NotFoundError
from gateway.policy.decision import Action, Decision, DecisionRequest, Disclosure, PolicyEngine

KINDS = ("iban", "phone", "email", "domain", "url", "crypto_address", "social_account")


@dataclass(frozen=True, slots=True)
class Question:
    action: str
    purpose: str
    partner: str | None = None
    sector: str | None = None
    legal_basis: str | None = None
    kinds: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    disclosure: tuple[str, ...] = ()

    def canonical(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @property
    def key(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()

    def query(self) -> list[tuple[str, str]]:
        """The question as query parameters: the shareable link."""
        pairs: list[tuple[str, str]] = []
        for name in ("partner", "sector", "action", "purpose", "legal_basis"):
            value = getattr(self, name)
            if value:
                pairs.append((name, value))
        for name in ("kinds", "categories", "disclosure"):
            pairs.extend((name, value) for value in getattr(self, name))
        return pairs


def _one_of(value: str | None, allowed: Any, field_name: str, *, required: bool) -> str | None:
    value = (value or "").strip() or None
    if value is None:
        if required:
            raise InvalidRequestError("choose a value", field=field_name)
        return None
    if value not in allowed:
        raise InvalidRequestError(f"unknown value {value[:64]!r}", field=field_name)
    return value


def _many(values: list[str], allowed: Any, field_name: str) -> tuple[str, ...]:
    chosen = sorted({value for value in values if value})
    unknown = [value for value in chosen if value not in allowed]
    if unknown:
        raise InvalidRequestError(f"unknown value {unknown[0][:64]!r}", field=field_name)
    return tuple(chosen)


def parse_question(data: Mapping[str, Any], raw: Mapping[str, Any]) -> Question:
    """A :class:`Question` from form or link fields, checked against the policy data."""
    partners: Mapping[str, Any] = data.get("partners", {})
    partner = _one_of(raw.get("partner"), partners, "partner", required=False)
    sector = _one_of(raw.get("sector"), data.get("sectors", {}), "sector", required=False)
    if (partner is None) == (sector is None):
        raise InvalidRequestError("choose either one partner or one sector", field="partner")
    action = _one_of(raw.get("action"), {a.value for a in Action}, "action", required=True)
    purpose = _one_of(raw.get("purpose"), data.get("purposes", {}), "purpose", required=True)
    basis = _one_of(
        raw.get("legal_basis"), data.get("legal_bases", {}), "legal_basis", required=False
    )
    categories = data.get("taxonomy", {}).get("categories", {})
    return Question(
        action=str(action),
        purpose=str(purpose),
        partner=partner,
        sector=sector,
        legal_basis=basis,
        kinds=_many(list(raw.get("kinds", [])), KINDS, "kinds"),
        categories=_many(list(raw.get("categories", [])), categories, "categories"),
        disclosure=_many(
            list(raw.get("disclosure", [])), {d.value for d in Disclosure}, "disclosure"
        ),
    )


@dataclass(frozen=True, slots=True)
class PartnerAnswer:
    partner_id: str
    legal_basis: str | None
    allow: bool
    reasons: list[str]
    disclosure: list[str]
    obligations: list[str]
    refs: list[str] = field(default_factory=list)


def _answer(partner_id: str, basis: str | None, decision: Decision) -> PartnerAnswer:
    order = [level.value for level in Disclosure]
    return PartnerAnswer(
        partner_id=partner_id,
        legal_basis=basis,
        allow=decision.allow,
        reasons=list(decision.reason_codes),
        disclosure=sorted((str(d) for d in decision.disclosure), key=order.index),
        obligations=sorted(decision.obligations),
        refs=sorted({ref for reason in decision.reasons for ref in reason.basis}),
    )


def ask(data: Mapping[str, Any], engine: PolicyEngine, question: Question) -> list[PartnerAnswer]:
    """The engine's decision for every partner the question is about."""
    partners: Mapping[str, Any] = data.get("partners", {})
    if question.partner is not None:
        chosen = [question.partner]
    else:
        chosen = sorted(pid for pid, p in partners.items() if p.get("sector") == question.sector)
    answers = []
    for partner_id in chosen:
        registration = (
            partners.get(partner_id, {}).get("registrations", {}).get(question.purpose, {})
        )
        basis = question.legal_basis or registration.get("legal_basis")
        decision = engine.decide(
            DecisionRequest(
                action=Action(question.action),
                partner_id=partner_id,
                purpose=question.purpose,
                legal_basis=basis,
                kinds=question.kinds,
                categories=question.categories,
                disclosure_requested=frozenset(Disclosure(d) for d in question.disclosure),
            )
        )
        answers.append(_answer(partner_id, basis, decision))
    return answers


def verdict(answers: list[PartnerAnswer]) -> str:
    if not answers:
        return "deny"
    allowed = {answer.allow for answer in answers}
    return "mixed" if len(allowed) > 1 else ("allow" if allowed == {True} else "deny")


def store_run(
    session: Session,
    question: Question,
    answers: list[PartnerAnswer],
    *,
    digest: str,
    user: str,
    partner: str,
    now: Any,
) -> SimulationRun:
    run = SimulationRun(
        created_at=now,
        created_by=user,
        actor_partner=partner,
        question=question.canonical(),
        question_key=question.key,
        verdict=verdict(answers),
        results=json.dumps([asdict(answer) for answer in answers], sort_keys=True),
        policy_digest=digest,
    )
    session.add(run)
    session.flush()
    return run


def load_run(session: Session, run_id: int) -> tuple[SimulationRun, Question, list[PartnerAnswer]]:
    run = session.get(SimulationRun, run_id)
    if run is None:
        raise NotFoundError(f"no simulator run {run_id}", field="run")
    raw: dict[str, Any] = json.loads(run.question)
    question = Question(
        action=str(raw["action"]),
        purpose=str(raw["purpose"]),
        partner=raw.get("partner"),
        sector=raw.get("sector"),
        legal_basis=raw.get("legal_basis"),
        kinds=tuple(raw.get("kinds", ())),
        categories=tuple(raw.get("categories", ())),
        disclosure=tuple(raw.get("disclosure", ())),
    )
    answers = [PartnerAnswer(**item) for item in json.loads(run.results)]
    return run, question, answers


def runs_by_key(session: Session, key: str, *, limit: int = 20) -> list[SimulationRun]:
    return list(
        session.scalars(
            select(SimulationRun)
            .where(SimulationRun.question_key == key)
            .order_by(SimulationRun.id.desc())
            .limit(limit)
        )
    )
