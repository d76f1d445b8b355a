"""A report's expiry: from its category's maximum and its role, as the reporter adjusts it.

The category's retention period (the purpose's ``retention_days``, per category) is the
maximum any report may be kept. The role may set a shorter default (an unwitting mule or a
taken-over account should not stay listed as long as a witting mule: Kifid 2024-0001 and the
Hague Court of Appeal 2023:1262 on the banks' incident register, see docs/policies.md). The
reporter may shorten the default freely and extend it only with a reason code the policy
knows, never past the maximum. Pure functions: the caller has the decision and the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.indicators.schemas import IndicatorIn
from gateway.policy.decision import Decision


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a row cannot be stored: the field and a reason that never quotes the value."""

    field: str
    reason: str


def default_days(decision: Decision, role: str) -> int | None:
    """Days a report of this role is kept by default: the shorter of category and role."""
    maximum = decision.retention_days
    role_days = dict(decision.retention_by_role).get(role)
    if maximum is None or role_days is None:
        return maximum
    return min(maximum, role_days)


def _extended(item: IndicatorIn, decision: Decision, maximum: datetime) -> datetime | Refusal:
    """The expiry of a report kept past its default, or why it may not be."""
    if item.retention_reason is None:
        return Refusal(
            "expires_at",
            "later than the default retention for this category and role; give "
            "retention_reason to keep it longer (up to the category's maximum)",
        )
    if item.retention_reason not in decision.retention_extensions:
        known = ", ".join(sorted(decision.retention_extensions)) or "none"
        return Refusal("retention_reason", f"unknown reason; use one of: {known}")
    assert item.expires_at is not None
    return min(item.expires_at, maximum)


def report_expiry(item: IndicatorIn, decision: Decision, now: datetime) -> datetime | Refusal:
    """When this report expires under ``decision`` (an allow for its kind and category)."""
    maximum_days = decision.retention_days
    if maximum_days is None:
        if item.expires_at is None:
            return Refusal("expires_at", "no retention period applies; give expires_at")
        return item.expires_at
    days = default_days(decision, item.role)
    assert days is not None
    default = item.observed_at + timedelta(days=days)
    if item.expires_at is None or item.expires_at <= default:
        expiry: datetime | Refusal = item.expires_at or default
    else:
        expiry = _extended(item, decision, item.observed_at + timedelta(days=maximum_days))
    if isinstance(expiry, datetime) and expiry <= now:
        return Refusal(
            "observed_at", "older than the retention period for this purpose and category"
        )
    return expiry


def extends_default(item: IndicatorIn, decision: Decision) -> bool:
    """Whether the reporter asked to keep the report past its default retention."""
    days = default_days(decision, item.role)
    return (
        days is not None
        and item.expires_at is not None
        and item.expires_at > item.observed_at + timedelta(days=days)
    )


def evidence_refusal(item: IndicatorIn, decision: Decision) -> Refusal | None:
    """Why the stated evidence level is not one the policy knows, or None."""
    if item.evidence is None or item.evidence in dict(decision.evidence_levels):
        return None
    known = ", ".join(level for level, _ in sorted(decision.evidence_levels, key=lambda x: x[1]))
    return Refusal("evidence", f"unknown evidence level; use one of: {known}")
