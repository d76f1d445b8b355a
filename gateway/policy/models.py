"""Every policy bundle the gateway has known, and the approvals that activated it.

Versions are kept for good (the console shows diffs between any two, and every audit entry
names the digest that decided it); exactly one version is active at a time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime


class VersionStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class PolicyVersion(Base):
    __tablename__ = "policy_versions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    files: Mapped[str] = mapped_column(Text)  # JSON {path: UTF-8 text} of the bundle
    proposed_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    test_report: Mapped[str] = mapped_column(Text, default="{}")  # JSON counts
    previous_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_by: Mapped[str | None] = mapped_column(String(64))


class PolicyApproval(Base):
    __tablename__ = "policy_approvals"

    digest: Mapped[str] = mapped_column(ForeignKey("policy_versions.digest"), primary_key=True)
    approver: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
