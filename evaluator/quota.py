"""Per-partner quotas in fixed windows, charged atomically, and the volume log beside them.

A request is charged in full or refused in full: ``UPDATE ... SET used = used + n WHERE
used + n <= limit`` is one atomic statement on SQLite and PostgreSQL, so concurrent
requests of one partner (several workers, several connector threads) can never overshoot.
The refusal is logged in the same transaction as a volume row with outcome ``over-quota``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from evaluator.auth import Caller
from evaluator.errors import QuotaExceededError
from evaluator.storage import QuotaWindow, VolumeRecord, transaction


@dataclass(frozen=True)
class Charge:
    """What one request asks for."""

    caller: Caller
    request_id: str
    epoch: int
    kind: str
    count: int


def window_start(now: float, window_seconds: int) -> int:
    return int(now // window_seconds) * window_seconds


def _try_charge(session: Session, partner_id: str, start: int, count: int, limit: int) -> bool:
    result = session.execute(
        update(QuotaWindow)
        .where(
            QuotaWindow.partner_id == partner_id,
            QuotaWindow.window_start == start,
            QuotaWindow.used + count <= limit,
        )
        .values(used=QuotaWindow.used + count)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _window_exists(session: Session, partner_id: str, start: int) -> bool:
    return session.get(QuotaWindow, (partner_id, start)) is not None


def _record(session: Session, charge: Charge, start: int, outcome: str, now: float) -> None:
    session.add(
        VolumeRecord(
            recorded_at=datetime.fromtimestamp(now, tz=UTC),
            request_id=charge.request_id[:64],
            partner_id=charge.caller.partner_id[:64],
            client_id=charge.caller.client_id[:64],
            token_jti=charge.caller.jti[:128],
            epoch=charge.epoch,
            kind=charge.kind,
            count=charge.count,
            window_start=start,
            outcome=outcome,
        )
    )


def charge_quota(
    factory: sessionmaker[Session],
    charge: Charge,
    *,
    limit: int,
    window_seconds: int,
    now: float,
) -> None:
    """Charge ``charge.count`` to the partner's current window or raise a 429 (logged)."""
    start = window_start(now, window_seconds)
    partner = charge.caller.partner_id
    allowed = False
    if charge.count <= limit:
        with transaction(factory) as session:
            allowed = _try_charge(session, partner, start, charge.count, limit)
            if not allowed and not _window_exists(session, partner, start):
                try:
                    with session.begin_nested():
                        session.add(QuotaWindow(partner_id=partner, window_start=start, used=0))
                except IntegrityError:
                    pass  # a concurrent request created it first
                allowed = _try_charge(session, partner, start, charge.count, limit)
            _record(session, charge, start, "evaluated" if allowed else "over-quota", now)
    else:
        with transaction(factory) as session:
            _record(session, charge, start, "over-quota", now)
    if not allowed:
        retry_after = max(1, int(start + window_seconds - now))
        if charge.count > limit:
            reason = (
                f"a batch of {charge.count} exceeds this partner's whole quota of {limit} "
                f"per {window_seconds} s window; send smaller batches"
            )
        else:
            reason = (
                f"this partner's quota of {limit} elements per {window_seconds} s window "
                f"is used up; the window resets in {retry_after} s"
            )
        raise QuotaExceededError(reason, retry_after_seconds=retry_after)
