"""The help desk's case register: questions, answers, linked runs, and full-text search.

Search is an inverted index kept in the same transaction as the case: every case's text
(title, question, answer, asker, status, assignee, and the purposes and reason codes of its
linked runs) is folded to ASCII words, and a query matches the cases that contain a word
starting with each of its words. The register must never hold an identifier: free text
that holds an IBAN, a phone number or an e-mail address is refused with the field and the
kind named (:mod:`gateway.freetext`, the guard of every free-text field).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gateway.console.helpdesk.models import (
    CaseStatus,
    HelpdeskCase,
    HelpdeskCaseRun,
    HelpdeskCaseTerm,
    SimulationRun,
)
from gateway.errors import InvalidRequestError, NotFoundError
from gateway.freetext import find_identifier, identifier_problem

MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_TERMS = 2_000
MAX_QUERY_TERMS = 8
TERM_LENGTH = 64
RESULTS = 50

_WORD = re.compile(r"[a-z0-9]+")


def reference(case_id: int) -> str:
    return f"HD-{case_id:05d}"


def words(text: str) -> list[str]:
    """Lowercase ASCII words of ``text`` (accents folded), at least two characters."""
    folded = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return [word[:TERM_LENGTH] for word in _WORD.findall(ascii_text) if len(word) >= 2]


class CaseInputError(InvalidRequestError):
    """A case field that cannot be saved; ``message`` is the console text that explains it.

    The form is shown again with what was typed and this text next to the field, in the
    reader's language (``values`` fill its placeholders).
    """

    def __init__(self, reason: str, *, field: str, message: str, **values: object) -> None:
        super().__init__(reason, field=field)
        self.message = message
        self.values = values


def refuse_identifiers(text: str, field: str) -> None:
    """Refuse free text that holds an identifier, with the shared detector
    (:mod:`gateway.freetext`), as a case error the form can show next to the field."""
    kind = find_identifier(text)
    if kind is not None:
        raise CaseInputError(
            identifier_problem(text) or kind.value,
            field=field,
            message="helpdesk.error.identifier",
            kind=kind.value,
        )


@dataclass(frozen=True, slots=True)
class CaseInput:
    title: str
    question: str
    answer: str
    asker_partner: str | None
    status: str
    assignee: str | None

    def checked(self) -> CaseInput:
        title = " ".join(self.title.split())
        for name, value in (("title", title), ("question", self.question.strip())):
            if not value:
                raise CaseInputError(
                    "must not be empty", field=name, message="helpdesk.error.empty"
                )
        for name, value, limit in (
            ("title", title, MAX_TITLE),
            ("question", self.question, MAX_TEXT),
            ("answer", self.answer, MAX_TEXT),
        ):
            if len(value) > limit:
                raise CaseInputError(
                    f"longer than {limit} characters",
                    field=name,
                    message="helpdesk.error.too_long",
                    limit=limit,
                )
        try:
            status = CaseStatus(self.status)
        except ValueError:
            raise CaseInputError(
                "must be open, answered or closed", field="status", message="helpdesk.error.status"
            ) from None
        if status is not CaseStatus.OPEN and not self.answer.strip():
            raise CaseInputError(
                "give the answer before marking the case " + status,
                field="answer",
                message="helpdesk.error.answer_needed",
            )
        for name in ("title", "question", "answer"):
            refuse_identifiers(getattr(self, name), name)
        return CaseInput(
            title,
            self.question.strip(),
            self.answer.strip(),
            self.asker_partner or None,
            status.value,
            self.assignee or None,
        )


def linked_runs(session: Session, case_id: int) -> list[SimulationRun]:
    return list(
        session.scalars(
            select(SimulationRun)
            .join(HelpdeskCaseRun, HelpdeskCaseRun.run_id == SimulationRun.id)
            .where(HelpdeskCaseRun.case_id == case_id)
            .order_by(SimulationRun.id)
        )
    )


def _reindex(session: Session, case: HelpdeskCase) -> None:
    runs = linked_runs(session, case.id)
    parts: list[str] = [
        reference(case.id),
        case.title,
        case.question,
        case.answer,
        case.status,
        case.asker_partner or "",
        case.assignee or "",
    ]
    for run in runs:
        parts.extend((run.question, run.results))
    terms = sorted(set(words(" ".join(parts))))[:MAX_TERMS]
    session.execute(delete(HelpdeskCaseTerm).where(HelpdeskCaseTerm.case_id == case.id))
    session.add_all(HelpdeskCaseTerm(term=term, case_id=case.id) for term in terms)
    session.flush()


def _link(session: Session, case: HelpdeskCase, run_ids: Iterable[int]) -> None:
    known = {
        run_id
        for (run_id,) in session.execute(
            select(HelpdeskCaseRun.run_id).where(HelpdeskCaseRun.case_id == case.id)
        )
    }
    for run_id in sorted(set(run_ids) - known):
        run = session.get(SimulationRun, run_id)
        if run is None:
            raise NotFoundError(f"no simulator run {run_id}", field="run")
        session.add(HelpdeskCaseRun(case_id=case.id, run_id=run_id))
        # The answer stands on the policy version of the newest run it links.
        case.policy_digest = run.policy_digest
        case.question_key = run.question_key
    session.flush()


def create_case(
    session: Session, data: CaseInput, *, run_ids: Sequence[int], by: str, now: datetime
) -> HelpdeskCase:
    checked = data.checked()
    case = HelpdeskCase(
        title=checked.title,
        question=checked.question,
        answer=checked.answer,
        asker_partner=checked.asker_partner,
        status=checked.status,
        assignee=checked.assignee,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    _link(session, case, run_ids)
    _reindex(session, case)
    return case


def update_case(
    session: Session, case_id: int, data: CaseInput, *, run_ids: Sequence[int], now: datetime
) -> HelpdeskCase:
    case = get_case(session, case_id)
    checked = data.checked()
    case.title, case.question, case.answer = checked.title, checked.question, checked.answer
    case.asker_partner, case.status, case.assignee = (
        checked.asker_partner,
        checked.status,
        checked.assignee,
    )
    case.updated_at = now
    _link(session, case, run_ids)
    _reindex(session, case)
    return case


def get_case(session: Session, case_id: int) -> HelpdeskCase:
    case = session.get(HelpdeskCase, case_id)
    if case is None:
        raise NotFoundError(f"no case {reference(case_id)}", field="case")
    return case


def search_cases(
    session: Session, text: str = "", *, status: str | None = None, limit: int = RESULTS
) -> list[HelpdeskCase]:
    """Cases containing a word that starts with every query word; newest change first."""
    query = select(HelpdeskCase)
    if status:
        query = query.where(HelpdeskCase.status == status)
    for term in list(dict.fromkeys(words(text)))[:MAX_QUERY_TERMS]:
        matching = select(HelpdeskCaseTerm.case_id).where(
            HelpdeskCaseTerm.term >= term, HelpdeskCaseTerm.term < term + "{"
        )
        query = query.where(HelpdeskCase.id.in_(matching))
    query = query.order_by(HelpdeskCase.updated_at.desc(), HelpdeskCase.id.desc()).limit(limit)
    return list(session.scalars(query))


def count_cases(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(HelpdeskCase)) or 0)
