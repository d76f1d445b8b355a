"""Charging quotas in the database: atomic, shared, refused with 429 and audited, committed
on the side (no counter lock held by the request) and given back if the request rolls back."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.abuse.errors import QuotaExceededError
from gateway.abuse.housekeeping import USAGE_HISTORY_SECONDS
from gateway.abuse.models import ProbeFingerprint, QuotaUsage
from gateway.abuse.quotas import Charge, Window, charge_quota
from gateway.audit_trail.events import AuditTag
from gateway.audit_trail.models import AuditEntry
from gateway.auth.principal import Principal
from gateway.clock import FixedClock
from gateway.db import transaction
from gateway.errors import PermissionDeniedError
from gateway.policy.decision import Quota
from gateway.retention import purge
from gateway.services import Services
from tests.unit.gateway.abuse.conftest import BANK, OTHER_CLIENT, START, allowed, quota


def charge_in(
    session: Session,
    services: Services,
    items: int,
    limits: Quota | None,
    principal: Principal = BANK,
) -> Charge:
    return charge_quota(
        session,
        services,
        principal,
        request_id="r" * 16,
        purpose="payment_screening",
        legal_basis="art6_1_c",
        decision=allowed(limits),
        items=items,
        deny_tag=AuditTag.MATCH_QUERY_DENY,
    )


def charge(
    services: Services, items: int, limits: Quota | None, principal: Principal = BANK
) -> Charge:
    with transaction(services.session_factory) as session:
        return charge_in(session, services, items, limits, principal)


def usage(services: Services) -> dict[tuple[str, str], int]:
    with transaction(services.session_factory) as session:
        rows = session.scalars(select(QuotaUsage)).all()
        return {(row.scope, row.subject): row.used for row in rows}


def last_entry(services: Services) -> dict[str, Any]:
    with transaction(services.session_factory) as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None
        return dict(json.loads(entry.body))


@given(
    # Hypothesis takes naive bounds; ``timezones`` makes the generated moments aware.
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    seconds=st.integers(min_value=1, max_value=7 * 86_400),
)
def test_window_contains_the_moment_and_is_aligned(moment: datetime, seconds: int) -> None:
    window = Window.containing(moment, seconds)
    assert window.start % seconds == 0
    assert window.start <= moment.timestamp() < window.start + seconds
    assert 1 <= window.retry_after(moment) <= seconds


def test_charges_accumulate_per_partner_and_client(services: Services) -> None:
    assert charge(services, 4, quota()).partner_used == 4
    assert charge(services, 2, quota()).partner_used == 6
    assert charge(services, 3, quota(), OTHER_CLIENT).partner_used == 9
    assert usage(services) == {
        ("client", "bank-a-c1"): 6,
        ("client", "bank-a-c2"): 3,
        ("partner", "bank-a"): 9,
    }


def test_client_quota_refuses_with_retry_after_and_audit(
    services: Services, clock: FixedClock
) -> None:
    charge(services, 6, quota())
    clock.current = START + timedelta(minutes=20)
    with pytest.raises(QuotaExceededError) as refused:
        charge(services, 1, quota())
    assert refused.value.status == 429
    assert refused.value.retry_after == 40 * 60
    assert refused.value.field == "items"
    assert "client quota" in refused.value.reason
    entry = last_entry(services)
    assert entry["tag"] == "match:query:deny"
    assert entry["reasons"] == ["quota-exceeded"]
    assert entry["counts"] == {"items": 1, "limit": 6, "window_seconds": 3600}
    assert usage(services) == {  # the refusal charged nothing, the partner's row neither
        ("client", "bank-a-c1"): 6,
        ("partner", "bank-a"): 6,
    }


def test_a_client_at_its_limit_never_touches_a_new_partner_row(services: Services) -> None:
    """A client refused in a window where the partner has no row yet: no row appears."""
    charge(services, 6, quota(), OTHER_CLIENT)
    with transaction(services.session_factory) as session:
        session.query(QuotaUsage).filter_by(scope="partner").delete()
    with pytest.raises(QuotaExceededError, match="client quota"):
        charge(services, 1, quota(), OTHER_CLIENT)
    assert usage(services) == {("client", "bank-a-c2"): 6}


def test_a_principal_without_a_client_charges_the_partner_only(services: Services) -> None:
    partner_only = replace(BANK, client_id=None)
    assert charge(services, 7, quota(), partner_only).partner_used == 7
    assert usage(services) == {("partner", "bank-a"): 7}
    with pytest.raises(QuotaExceededError, match="partner quota"):
        charge(services, 4, quota(), partner_only)
    assert charge(services, 3, quota(), partner_only).partner_used == 10


def test_partner_quota_refusal_gives_the_client_charge_back(services: Services) -> None:
    charge(services, 6, quota())
    charge(services, 4, quota(), OTHER_CLIENT)
    with pytest.raises(QuotaExceededError, match="partner quota"):
        charge(services, 1, quota(), OTHER_CLIENT)
    assert usage(services) == {
        ("client", "bank-a-c1"): 6,
        ("client", "bank-a-c2"): 4,
        ("partner", "bank-a"): 10,
    }


def test_batch_larger_than_the_quota_is_refused_without_a_row(services: Services) -> None:
    with pytest.raises(QuotaExceededError):
        charge(services, 7, quota())
    assert usage(services) == {}


def test_charge_is_committed_beside_the_request_and_locks_nothing(services: Services) -> None:
    """Two requests of one client in flight at once: the second charge does not wait for the
    first request to commit (it would block on SQLite's write lock or PostgreSQL's row lock
    if the counter were written in the request's transaction)."""
    with transaction(services.session_factory) as first:
        charge_in(first, services, 2, quota())
        assert usage(services)[("partner", "bank-a")] == 2  # visible before the commit
        with transaction(services.session_factory) as second:
            assert charge_in(second, services, 3, quota()).partner_used == 5
    assert usage(services) == {("client", "bank-a-c1"): 5, ("partner", "bank-a"): 5}


def test_a_request_that_rolls_back_gets_its_charge_back(services: Services) -> None:
    charge(services, 2, quota())

    def failing_request() -> None:
        with transaction(services.session_factory) as session:
            charge_in(session, services, 3, quota())
            charge_in(session, services, 1, quota(), OTHER_CLIENT)
            raise RuntimeError("the request's work failed after the charge")

    with pytest.raises(RuntimeError):
        failing_request()
    assert usage(services) == {
        ("client", "bank-a-c1"): 2,
        ("client", "bank-a-c2"): 0,
        ("partner", "bank-a"): 2,
    }

    def refused_after_a_charge() -> None:
        with transaction(services.session_factory) as session:
            charge_in(session, services, 1, quota())
            charge_in(session, services, 9, quota())

    # A refusal is audited, so its transaction commits: what was charged before it stays.
    with pytest.raises(QuotaExceededError):
        refused_after_a_charge()
    assert usage(services)[("partner", "bank-a")] == 3


def test_a_charge_stays_once_the_commit_was_attempted(services: Services) -> None:
    """A failing commit's outcome is unknown: over-count rather than give back."""
    taken = {"partner_id": "bank-a", "purpose": "p", "window_start": 0, "fingerprint": b"x" * 8}
    with transaction(services.session_factory) as session:
        session.add(ProbeFingerprint(**taken))
    session = services.session_factory()
    try:
        charge_in(session, services, 4, quota())
        session.add(ProbeFingerprint(**taken))
        with pytest.raises(IntegrityError):  # the flush inside commit fails
            session.commit()
        session.rollback()
    finally:
        session.close()
    assert usage(services)[("partner", "bank-a")] == 4


def test_next_window_starts_afresh_and_the_purge_forgets_old_ones(
    services: Services, clock: FixedClock
) -> None:
    charge(services, 6, quota())
    with transaction(services.session_factory) as session:
        for window_start in (int(START.timestamp()), int(START.timestamp()) + 3600):
            session.add(
                ProbeFingerprint(
                    partner_id="bank-a",
                    purpose="payment_screening",
                    window_start=window_start,
                    fingerprint=b"\x01" * 8,
                )
            )
    clock.current = START + timedelta(hours=1)
    fresh = charge(services, 6, quota())
    assert fresh.window.start == int(START.timestamp()) + 3600
    assert fresh.partner_used == 6

    def remaining() -> list[int]:
        with transaction(services.session_factory) as session:
            return sorted(session.scalars(select(ProbeFingerprint.window_start)))

    assert len(remaining()) == 2  # nothing is deleted on the request path
    clock.current = START + timedelta(hours=1, minutes=2)
    with transaction(services.session_factory) as session:
        counts = purge(session, services, request_id="p" * 16, actor="test")
    assert counts.counts["probe_fingerprints"] == 1
    assert remaining() == [int(START.timestamp()) + 3600]  # the live window's stays

    # Usage is kept for the history, then purged.
    clock.current = START + timedelta(seconds=USAGE_HISTORY_SECONDS + 1800)
    with transaction(services.session_factory) as session:
        counts = purge(session, services, request_id="p" * 16, actor="test")
    assert counts.counts["quota_usage"] == 2  # the first window's partner and client rows
    assert set(usage(services)) == {("client", "bank-a-c1"), ("partner", "bank-a")}
    assert remaining() == []


def test_allowed_decision_without_quota_fails_closed(services: Services) -> None:
    with pytest.raises(PermissionDeniedError) as denied:
        charge(services, 1, None)
    assert denied.value.reasons == ("quota-undefined",)
    assert "GDPR Art. 25(2)" in denied.value.references["quota-undefined"]
    assert denied.value.audited
    assert last_entry(services)["reasons"] == ["quota-undefined"]
    assert usage(services) == {}


def test_a_client_at_its_limit_leaves_its_siblings_the_partners_headroom(
    services: Services,
) -> None:
    """Refusals of one client never charge the partner, not even for a moment: while a
    client at its limit keeps asking, its sibling still gets every item the partner has left."""
    charge(services, 6, quota())  # bank-a-c1 at its limit; the partner at 6 of 10

    def attempt(principal: Principal) -> bool:
        try:
            charge(services, 1, quota(), principal)
        except QuotaExceededError:
            return False
        return True

    calls = [BANK] * 24 + [OTHER_CLIENT] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        admitted = list(pool.map(attempt, calls))
    assert admitted == [False] * 24 + [True] * 4
    assert usage(services) == {
        ("client", "bank-a-c1"): 6,
        ("client", "bank-a-c2"): 4,
        ("partner", "bank-a"): 10,
    }
