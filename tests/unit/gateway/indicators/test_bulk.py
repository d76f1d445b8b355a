"""The COPY path for large batches must insert and report exactly what the portable path does."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.config import load_settings
from gateway.db import build_engine, build_session_factory, transaction
from gateway.dialect import insert_ignoring_conflicts
from gateway.indicators import bulk
from gateway.indicators.models import Indicator
from gateway.partners.models import Partner

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def _row(partner: str, token: bytes, reference: bytes) -> dict[str, Any]:
    return {
        "partner_id": partner,
        "kind": "iban",
        "epoch": 1,
        "token_hash": token,
        "category": "phishing",
        "role": "suspect",
        "reference_hash": reference,
        "purpose": "indicator_submission",
        "legal_basis": "art6_1_f",
        "confidence": None,
        "victim_hash": None,
        "evidence": None,
        "retention_reason": None,
        "status": "active",
        "observed_at": NOW - timedelta(days=1),
        "expires_at": NOW + timedelta(days=30),
        "created_at": NOW,
    }


def _portable(session: Any, rows: list[dict[str, Any]]) -> set[tuple[bytes, str, bytes]]:
    statement = insert_ignoring_conflicts(
        session, Indicator, ["partner_id", "token_hash", "category", "reference_hash"]
    ).returning(Indicator.token_hash, Indicator.category, Indicator.reference_hash)
    return {(bytes(t), c, bytes(r)) for t, c, r in session.execute(statement, rows).all()}


def test_copy_insert_skips_stored_and_repeated_reports_like_the_portable_insert(
    database_url: str, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("COPY is the PostgreSQL path; SQLite always uses the portable insert")
    engine = build_engine(load_settings(database_url=database_url))
    factory = build_session_factory(engine)
    stored = [_row("p1", secrets.token_bytes(32), secrets.token_bytes(32)) for _ in range(10)]
    fresh = [_row("p1", secrets.token_bytes(32), secrets.token_bytes(32)) for _ in range(100)]
    batch = [*stored[:5], *fresh, fresh[3], fresh[7]]  # 5 stored, 2 repeated in the batch
    try:
        with transaction(factory) as session:
            session.add(Partner(id="p1", name="P1", sector="bank"))
            session.flush()
            assert len(_portable(session, stored)) == len(stored)
        with transaction(factory) as session:
            new = bulk.copy_insert(session, batch)
        assert new == {(r["token_hash"], r["category"], r["reference_hash"]) for r in fresh}
        with transaction(factory) as session:
            count = session.scalar(select(func.count()).select_from(Indicator))
            again = bulk.copy_insert(session, batch)  # the staging table was dropped at commit
            assert not again
        assert count == len(stored) + len(fresh)
        with transaction(factory) as session:
            observed = session.scalar(
                select(Indicator.observed_at).where(Indicator.token_hash == fresh[0]["token_hash"])
            )
        assert observed == NOW - timedelta(days=1)
    finally:
        engine.dispose()
