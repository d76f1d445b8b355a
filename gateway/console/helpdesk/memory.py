"""The help desk's memory: earlier answers to the same question, however it was put.

A question about one partner and the same question about that partner's whole sector are
the same legal question, so both find the cases answered with either (``equivalent_keys``).
Each earlier answer is shown with what was answered, under which policy version, the
decision the simulator gave then, and whether the policy of today decides differently for
the partners both runs asked about. A case's own history (who created and changed it,
with which status) is read back from the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.entry import decode_detail
from gateway.audit_trail.events import AuditTag
from gateway.audit_trail.models import AuditDetail, AuditEntry
from gateway.console.helpdesk.models import HelpdeskCase, HelpdeskCaseRun, SimulationRun
from gateway.console.helpdesk.simulator import PartnerAnswer, Question
from gateway.console.sql import body_count

EXCERPT = 400


def equivalent_keys(data: Mapping[str, Any], question: Question) -> list[str]:
    """Keys of the question as asked about its partner, its sector, or the sector's partners."""
    partners: Mapping[str, Any] = data.get("partners", {})
    variants = [question]
    if question.partner is not None:
        sector = partners.get(question.partner, {}).get("sector")
        if sector:
            variants.append(replace(question, partner=None, sector=sector))
    elif question.sector is not None:
        variants += [
            replace(question, partner=pid, sector=None)
            for pid, partner in sorted(partners.items())
            if partner.get("sector") == question.sector
        ]
    return list(dict.fromkeys(variant.key for variant in variants))


@dataclass(frozen=True, slots=True)
class EarlierAnswer:
    case: HelpdeskCase
    run: SimulationRun
    asked_as: str  # "partner:<id>" or "sector:<id>"
    same_question: bool
    answer_excerpt: str
    differs_today: bool | None  # None: no partner in common to compare

    @property
    def answered_at(self) -> datetime:
        return self.run.created_at


def _asked_as(run: SimulationRun) -> str:
    raw = json.loads(run.question)
    return f"partner:{raw['partner']}" if raw.get("partner") else f"sector:{raw.get('sector')}"


def _differs(run: SimulationRun, today: Sequence[PartnerAnswer]) -> bool | None:
    then = {item["partner_id"]: item for item in json.loads(run.results)}
    common = [answer for answer in today if answer.partner_id in then]
    if not common:
        return None
    return any(
        then[answer.partner_id]["allow"] != answer.allow
        or then[answer.partner_id]["disclosure"] != answer.disclosure
        for answer in common
    )


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def earlier_answers(
    session: Session,
    keys: Sequence[str],
    *,
    own_key: str,
    today: Sequence[PartnerAnswer],
    exclude_run: int | None = None,
) -> list[EarlierAnswer]:
    """Cases answered with a run of one of ``keys``, newest first (one line per case)."""
    rows = session.execute(
        select(HelpdeskCase, SimulationRun)
        .join(HelpdeskCaseRun, HelpdeskCaseRun.case_id == HelpdeskCase.id)
        .join(SimulationRun, SimulationRun.id == HelpdeskCaseRun.run_id)
        .where(SimulationRun.question_key.in_(list(keys)))
        .order_by(SimulationRun.id.desc())
    ).all()
    found: dict[int, EarlierAnswer] = {}
    for case, run in rows:
        if case.id in found or run.id == exclude_run:
            continue
        found[case.id] = EarlierAnswer(
            case=case,
            run=run,
            asked_as=_asked_as(run),
            same_question=run.question_key == own_key,
            answer_excerpt=_excerpt(case.answer),
            differs_today=_differs(run, today),
        )
    return sorted(found.values(), key=lambda item: item.case.updated_at, reverse=True)


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One change of a case, as its audit entry records it."""

    seq: int
    time: str
    user: str
    created: bool
    status: str | None
    assignee: str | None
    runs: int


def case_history(session: Session, case_id: int) -> list[CaseEvent]:
    """Every creation and update of a case, oldest first, read from the audit log.

    The log is append-only and tamper-evident, so the history cannot be rewritten with the
    case; the status and assignee come from the entry's purgeable detail while it is kept.
    """
    tags = (AuditTag.HELPDESK_CASE_CREATE.value, AuditTag.HELPDESK_CASE_UPDATE.value)
    rows = session.execute(
        select(AuditEntry.seq, AuditEntry.tag, AuditEntry.body, AuditDetail.body)
        .outerjoin(AuditDetail, AuditDetail.seq == AuditEntry.seq)
        .where(AuditEntry.tag.in_(tags), body_count(session, "case") == case_id)
        .order_by(AuditEntry.seq)
    ).all()
    events = []
    for seq, tag, body, detail_bytes in rows:
        entry = json.loads(bytes(body))
        detail = decode_detail(bytes(detail_bytes)) if detail_bytes is not None else {}
        events.append(
            CaseEvent(
                seq=int(seq),
                time=str(entry.get("time", ""))[:19].replace("T", " "),
                user=str((entry.get("actor") or {}).get("user") or "-"),
                created=tag == AuditTag.HELPDESK_CASE_CREATE.value,
                status=detail.get("status") or None,
                assignee=detail.get("assignee") or None,
                runs=int((entry.get("counts") or {}).get("runs", 0)),
            )
        )
    return events
