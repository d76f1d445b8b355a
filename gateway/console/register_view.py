"""The live Art. 30 register: the partner registry and the live policy together.

Controllers are the partners the gateway knows (the registry: name, status, also the key
custodian and the partnership's own bodies) joined with what the policy data says about
them (the legal entity, the purposes they registered); contacts of each controller and its
DPO come from the policy's ``register`` data document. The register is signed off by the
approval of the policy version it is generated from (four eyes, recorded in the audit log)
and is due for review ``review_months`` after that version was activated.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.partners.models import Partner
from gateway.policy.models import PolicyApproval, PolicyVersion

DEFAULT_REVIEW_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Controller:
    partner_id: str
    name: str
    legal_entity: str
    sector: str
    status: str
    contact: str
    dpo: str
    purposes: tuple[str, ...]
    in_registry: bool
    in_policy: bool


@dataclass(frozen=True, slots=True)
class SignOff:
    """Who put the register's policy version in force, and when it is due for review."""

    digest: str
    activated_at: datetime | None
    activated_by: str | None
    approvers: tuple[str, ...]
    next_review: date | None


def controllers(session: Session, data: Mapping[str, Any]) -> list[Controller]:
    """Every partner of the registry or the policy, with its contacts and purposes."""
    policy: Mapping[str, Any] = data.get("partners", {})
    contacts: Mapping[str, Any] = data.get("register", {}).get("contacts", {})
    registry = {row.id: row for row in session.scalars(select(Partner))}
    found = []
    for partner_id in sorted(set(policy) | set(registry)):
        listed = policy.get(partner_id, {})
        known = registry.get(partner_id)
        contact = contacts.get(partner_id, {})
        found.append(
            Controller(
                partner_id=partner_id,
                name=known.name if known is not None else str(listed.get("name", partner_id)),
                legal_entity=str(listed.get("controller", "")),
                sector=known.sector if known is not None else str(listed.get("sector", "")),
                status=known.status if known is not None else str(listed.get("status", "")),
                contact=str(contact.get("controller", "")),
                dpo=str(contact.get("dpo", "")),
                purposes=tuple(sorted(listed.get("registrations", {}))),
                in_registry=known is not None,
                in_policy=bool(listed),
            )
        )
    return found


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def sign_off(session: Session, digest: str, data: Mapping[str, Any]) -> SignOff | None:
    """The sign-off of the policy version ``digest`` (None when it is not stored)."""
    version = session.get(PolicyVersion, digest)
    if version is None:
        return None
    approvers = tuple(
        session.scalars(
            select(PolicyApproval.approver)
            .where(PolicyApproval.digest == digest)
            .order_by(PolicyApproval.created_at)
        )
    )
    months = int(data.get("register", {}).get("review_months", DEFAULT_REVIEW_MONTHS))
    activated = version.activated_at
    return SignOff(
        digest=digest,
        activated_at=activated,
        activated_by=version.activated_by,
        approvers=approvers,
        next_review=add_months(activated.date(), months) if activated else None,
    )
