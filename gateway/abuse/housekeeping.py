"""Deleting what ended windows no longer need, from the retention purge (not per request).

Probe fingerprints only serve to count a window's distinct tokens: once the window has
ended (plus a minute, for workers whose clocks lag) they go. Usage rows are kept
``USAGE_HISTORY_SECONDS`` for ``ppsgate abuse usage`` and then go too. Both run in the
periodic retention purge (``gateway.retention``), which each worker runs every
``PPSGATE_PURGE_INTERVAL_SECONDS`` and ``ppsgate purge`` runs on demand; rows outliving
their window until then change no count, because every row is keyed by its window.
"""

from __future__ import annotations

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from gateway.abuse.models import ProbeFingerprint, QuotaScope, QuotaUsage

USAGE_HISTORY_SECONDS = 35 * 86_400
CLOCK_SLACK_SECONDS = 60


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def forget_ended_windows(session: Session, now: float) -> dict[str, int]:
    """Delete fingerprints of ended windows and usage past its history; counts deleted."""
    live_window = exists(
        select(QuotaUsage.window_start).where(
            QuotaUsage.scope == QuotaScope.PARTNER.value,
            QuotaUsage.subject == ProbeFingerprint.partner_id,
            QuotaUsage.purpose == ProbeFingerprint.purpose,
            QuotaUsage.window_start == ProbeFingerprint.window_start,
            QuotaUsage.window_start + QuotaUsage.window_seconds > int(now) - CLOCK_SLACK_SECONDS,
        )
    )
    fingerprints = session.execute(delete(ProbeFingerprint).where(~live_window))
    usage = session.execute(
        delete(QuotaUsage).where(QuotaUsage.window_start < int(now) - USAGE_HISTORY_SECONDS)
    )
    return {"probe_fingerprints": _rowcount(fingerprints), "quota_usage": _rowcount(usage)}
