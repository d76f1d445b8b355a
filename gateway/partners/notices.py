"""Notices to the competent authorities when a partner joins or leaves the partnership.

The EU PSR's fraud-data sharing arrangements must tell the competent authorities when a
payment service provider joins or leaves; the partnership's covenant and the AP permit ask
the same of every member. A notice is generated, never typed: the partner's entry in the
registry (name, sector, status and its dates), its registrations in the live policy data
(purposes, legal bases, Art. 10 conditions, instruments) and the audit entries of the
registry acts about it (onboarding, clients, suspension, offboarding, the decision on its
indicators), each with its leaf index so the authority can ask for its inclusion proof
against the cited signed checkpoint. Who is to be notified comes from the profiles of the
purposes the partner is registered for (``profiles.json``, ``notify``). No identifier and no
person appears in a notice: partners, purposes, dates, counts and log positions.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.entry import decode_detail
from gateway.audit_trail import checkpoints
from gateway.audit_trail.events import AuditTag
from gateway.audit_trail.models import AuditDetail, AuditEntry
from gateway.errors import InvalidRequestError, NotFoundError
from gateway.partners.models import Partner

if TYPE_CHECKING:
    from fpdf import FPDF

REGISTRY_TAGS = tuple(tag.value for tag in AuditTag if tag.value.startswith("partner:"))


class MembershipEvent(StrEnum):
    JOINED = "joined"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class Registration:
    purpose: str
    purpose_label: str
    legal_basis: str
    art10: str
    instruments: str


@dataclass(frozen=True, slots=True)
class RegistryAct:
    leaf_index: int
    time: datetime
    tag: str
    counts: str


@dataclass(frozen=True, slots=True)
class MembershipNotice:
    event: MembershipEvent
    partner_id: str
    name: str
    sector: str
    status: str
    registered_at: datetime
    status_changed_at: datetime | None
    notify: tuple[str, ...]
    registrations: tuple[Registration, ...]
    acts: tuple[RegistryAct, ...]
    policy_digest: str
    checkpoint: str
    generated_at: datetime


def _registrations(data: Mapping[str, Any], partner_id: str) -> tuple[Registration, ...]:
    purposes = data.get("purposes", {})
    registered = data.get("partners", {}).get(partner_id, {}).get("registrations", {})
    return tuple(
        Registration(
            purpose=purpose,
            purpose_label=str(purposes.get(purpose, {}).get("label_en", purpose)),
            legal_basis=str(entry.get("legal_basis", "")),
            art10=str(entry.get("art10", "")),
            instruments=", ".join(entry.get("instruments", [])),
        )
        for purpose, entry in sorted(registered.items())
    )


def _authorities(
    data: Mapping[str, Any], registrations: tuple[Registration, ...]
) -> tuple[str, ...]:
    profiles = data.get("profiles", {}).get("profiles", {})
    purposes = data.get("purposes", {})
    found: list[str] = []
    for registration in registrations:
        profile = purposes.get(registration.purpose, {}).get("profile", "base")
        for authority in profiles.get(profile, {}).get("notify", []):
            if authority not in found:
                found.append(str(authority))
    return tuple(found)


def _acts(session: Session, partner_id: str) -> tuple[RegistryAct, ...]:
    """Registry acts about the partner whose detail record (naming it) is still retained."""
    rows = session.execute(
        select(AuditEntry.seq, AuditEntry.time, AuditEntry.tag, AuditEntry.body, AuditDetail.body)
        .join(AuditDetail, AuditDetail.seq == AuditEntry.seq)
        .where(AuditEntry.tag.in_(REGISTRY_TAGS))
        .order_by(AuditEntry.seq)
    )
    acts = []
    for seq, time, tag, body, detail in rows:
        if decode_detail(bytes(detail)).get("partner_id") != partner_id:
            continue
        counts = _entry_counts(bytes(body))
        acts.append(RegistryAct(leaf_index=int(seq), time=time, tag=tag, counts=counts))
    return tuple(acts)


def _entry_counts(body: bytes) -> str:
    counts = json.loads(body).get("counts") or {}
    return ", ".join(f"{name} {value}" for name, value in sorted(counts.items()))


def build_notice(
    session: Session,
    data: Mapping[str, Any],
    *,
    partner_id: str,
    event: MembershipEvent,
    policy_digest: str,
    now: datetime,
) -> MembershipNotice:
    """The notice of ``event`` for ``partner_id``, from the registry, policy and audit log."""
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFoundError(f"no partner {partner_id!r} in the registry", field="partner_id")
    if event is MembershipEvent.LEFT and partner.status == "active":
        raise InvalidRequestError(
            "the partner is still active; offboard it first (ppsgate partner offboard)",
            field="event",
        )
    registrations = _registrations(data, partner_id)
    head = checkpoints.latest(session)
    return MembershipNotice(
        event=event,
        partner_id=partner.id,
        name=partner.name,
        sector=partner.sector,
        status=partner.status,
        registered_at=partner.created_at,
        status_changed_at=partner.status_changed_at,
        notify=_authorities(data, registrations),
        registrations=registrations,
        acts=_acts(session, partner_id),
        policy_digest=policy_digest,
        checkpoint="" if head is None else head.note,
        generated_at=now,
    )


def _facts(notice: MembershipNotice) -> list[tuple[str, str]]:
    changed = notice.status_changed_at.isoformat() if notice.status_changed_at else ""
    return [
        ("notice", f"partner {notice.event.value} the partnership"),
        ("partner_id", notice.partner_id),
        ("name", notice.name),
        ("sector", notice.sector),
        ("status", notice.status),
        ("registered_at", notice.registered_at.isoformat()),
        ("status_changed_at", changed),
        ("notify", "; ".join(notice.notify) or "the partnership's DPO"),
        ("policy_digest", notice.policy_digest),
        ("generated_at", notice.generated_at.isoformat()),
    ]


def notice_csv(notice: MembershipNotice) -> str:
    """The notice as CSV: facts, registrations and registry acts, one section after another."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "field", "value"])
    for field, value in _facts(notice):
        writer.writerow(["partner", field, value])
    for reg in notice.registrations:
        writer.writerow(
            ["registration", reg.purpose, f"{reg.legal_basis}; {reg.art10}; {reg.instruments}"]
        )
    for act in notice.acts:
        writer.writerow(
            ["audit", str(act.leaf_index), f"{act.time.isoformat()} {act.tag} {act.counts}"]
        )
    writer.writerow(["audit", "checkpoint", notice.checkpoint])
    return buffer.getvalue()


def _line(pdf: FPDF, text: str, *, size: int = 9, bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", size)
    safe = text.encode("latin-1", "replace").decode("latin-1")
    # fpdf2 takes the XPos / YPos members by name, so the enums need no import per line.
    pdf.multi_cell(0, 5, safe, new_x="LMARGIN", new_y="NEXT")


def notice_pdf(notice: MembershipNotice) -> bytes:
    """The notice as a PDF an authority can file; the CSV holds the same facts."""
    # Imported here: fpdf (with fontTools) cost every ppsgate command ~0.25 s at start.
    from fpdf import FPDF  # noqa: PLC0415

    pdf = FPDF(format="A4")
    pdf.set_title(f"Membership notice: {notice.partner_id} {notice.event.value}")
    pdf.add_page()
    _line(pdf, f"Notice: {notice.name} {notice.event.value} the partnership", size=14, bold=True)
    for field, value in _facts(notice):
        _line(pdf, f"{field}: {value}")
    _line(pdf, "Registrations in the live policy", size=11, bold=True)
    for reg in notice.registrations:
        _line(
            pdf,
            f"{reg.purpose_label} ({reg.purpose}): {reg.legal_basis}, {reg.art10}; "
            f"{reg.instruments}",
        )
    _line(pdf, "Registry acts in the audit log (leaf index, time, act, counts)", size=11, bold=True)
    for act in notice.acts:
        _line(pdf, f"#{act.leaf_index}  {act.time.isoformat()}  {act.tag}  {act.counts}")
    _line(pdf, "Signed checkpoint the leaf indexes can be proved against", size=11, bold=True)
    _line(pdf, notice.checkpoint or "(none signed yet)")
    return bytes(pdf.output())
