"""Tables of the help desk: simulator runs, cases, their links and the search index.

A run stores the exact question (canonical JSON and its SHA-256, so an identical question
finds earlier answers), the decisions per partner and the policy digest they were computed
on. Cases hold the question asked, the answer given, status and assignee; the term table is
a small inverted index that gives full-text search with the same behaviour on SQLite and
PostgreSQL (terms are ASCII letters and digits, compared bytewise).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, BigIntPK

# Bytewise ordering makes the prefix range [term, term + "{") exact on PostgreSQL too.
TERM_TYPE = String(64).with_variant(String(64, collation="C"), "postgresql")


class CaseStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class SimulationRun(Base):
    __tablename__ = "helpdesk_simulations"
    __table_args__ = (Index("ix_helpdesk_simulations_question_key", "question_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    actor_partner: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    question_key: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(8))  # allow | deny | mixed
    results: Mapped[str] = mapped_column(Text)  # JSON list, one decision per partner
    policy_digest: Mapped[str] = mapped_column(String(64))


class HelpdeskCase(Base):
    __tablename__ = "helpdesk_cases"
    __table_args__ = (
        Index("ix_helpdesk_cases_question_key", "question_key"),
        Index("ix_helpdesk_cases_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    asker_partner: Mapped[str | None] = mapped_column(ForeignKey("partners.id"))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN.value)
    assignee: Mapped[str | None] = mapped_column(String(64))
    policy_digest: Mapped[str | None] = mapped_column(String(64))
    question_key: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HelpdeskCaseRun(Base):
    __tablename__ = "helpdesk_case_runs"

    case_id: Mapped[int] = mapped_column(ForeignKey("helpdesk_cases.id"), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("helpdesk_simulations.id"), primary_key=True)


class HelpdeskCaseTerm(Base):
    __tablename__ = "helpdesk_case_terms"
    __table_args__ = (Index("ix_helpdesk_case_terms_case_id", "case_id"),)

    term: Mapped[str] = mapped_column(TERM_TYPE, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("helpdesk_cases.id"), primary_key=True)
