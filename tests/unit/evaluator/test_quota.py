"""Quota windows and the volume log on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from evaluator.auth import Caller
from evaluator.errors import QuotaExceededError
from evaluator.quota import Charge, charge_quota, window_start
from evaluator.storage import QuotaWindow, VolumeRecord, build_engine, create_schema

CALLER = Caller(partner_id="bank-a", client_id="bank-a-1", jti="j1", scopes=frozenset())
NOW = 1_700_000_123.0


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = build_engine(database_url)
    create_schema(engine)
    create_schema(engine)  # idempotent
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def _charge(count: int, caller: Caller = CALLER) -> Charge:
    return Charge(caller=caller, request_id="r", epoch=3, kind="phone", count=count)


def test_charges_until_the_limit_then_refuses(factory: sessionmaker[Session]) -> None:
    charge_quota(factory, _charge(6), limit=10, window_seconds=3600, now=NOW)
    charge_quota(factory, _charge(4), limit=10, window_seconds=3600, now=NOW)
    with pytest.raises(QuotaExceededError) as caught:
        charge_quota(factory, _charge(1), limit=10, window_seconds=3600, now=NOW)
    start = window_start(NOW, 3600)
    assert caught.value.retry_after_seconds == int(start + 3600 - NOW)
    assert "quota of 10 elements per 3600 s window is used up" in caught.value.reason
    # Another partner and the next window are unaffected.
    other = Caller(partner_id="bank-b", client_id="b", jti="j", scopes=frozenset())
    charge_quota(factory, _charge(10, other), limit=10, window_seconds=3600, now=NOW)
    charge_quota(factory, _charge(10), limit=10, window_seconds=3600, now=NOW + 3600)
    with factory() as session:
        used = session.get(QuotaWindow, ("bank-a", start))
        assert used is not None
        assert used.used == 10
        outcomes = session.execute(
            select(VolumeRecord.partner_id, VolumeRecord.count, VolumeRecord.outcome).order_by(
                VolumeRecord.id
            )
        ).all()
    assert [tuple(row) for row in outcomes] == [
        ("bank-a", 6, "evaluated"),
        ("bank-a", 4, "evaluated"),
        ("bank-a", 1, "over-quota"),
        ("bank-b", 10, "evaluated"),
        ("bank-a", 10, "evaluated"),
    ]


def test_batch_larger_than_the_quota_says_so(factory: sessionmaker[Session]) -> None:
    with pytest.raises(QuotaExceededError, match="exceeds this partner's whole quota"):
        charge_quota(factory, _charge(11), limit=10, window_seconds=3600, now=NOW)


def test_concurrent_charges_never_overshoot(factory: sessionmaker[Session]) -> None:
    def attempt(_index: int) -> bool:
        try:
            charge_quota(factory, _charge(3), limit=20, window_seconds=3600, now=NOW)
        except QuotaExceededError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(16)))
    assert results.count(True) == 6  # 6 x 3 = 18 <= 20 < 21
    with factory() as session:
        total = session.scalar(
            select(func.sum(VolumeRecord.count)).where(VolumeRecord.outcome == "evaluated")
        )
    assert total == 18
