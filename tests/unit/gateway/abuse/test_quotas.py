"""Charging quotas in the database: atomic, shared, refused with 429 and audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from gateway.abuse.errors import QuotaExceededError
from gateway.abuse.models import ProbeFingerprint, QuotaUsage
from gateway.abuse.quotas import Charge, Window, charge_quota
from gateway.audit_trail.events import AuditTag
from gateway.audit_trail.models import AuditEntry
from gateway.auth.principal import Principal
from gateway.clock import FixedClock
from gateway.db import transaction
from gateway.errors import PermissionDeniedError
from gateway.policy.decision import Quota
from gateway.services import Services
from tests.unit.gateway.abuse.conftest import BANK, OTHER_CLIENT, START, allowed, quota


def charge(
    services: Services, items: int, limits: Quota | None, principal: Principal = BANK
) -> Charge:
    with transaction(services.session_factory) as session:
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
    first = charge(services, 4, quota())
    assert (first.partner_used, first.opened_window) == (4, True)
    second = charge(services, 2, quota())
    assert (second.partner_used, second.opened_window) == (6, False)
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
    assert usage(services)[("client", "bank-a-c1")] == 6  # the refusal charged nothing


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


def test_next_window_starts_afresh_and_forgets_old_fingerprints(
    services: Services, clock: FixedClock
) -> None:
    charge(services, 6, quota())
    with transaction(services.session_factory) as session:
        session.add(
            ProbeFingerprint(
                partner_id="bank-a",
                purpose="payment_screening",
                window_start=int(START.timestamp()),
                fingerprint=b"\x01" * 8,
            )
        )
    clock.current = START + timedelta(hours=1)
    fresh = charge(services, 6, quota())
    assert fresh.window.start == int(START.timestamp()) + 3600
    assert fresh.opened_window
    with transaction(services.session_factory) as session:
        assert session.scalars(select(ProbeFingerprint)).all() == []


def test_allowed_decision_without_quota_fails_closed(services: Services) -> None:
    with pytest.raises(PermissionDeniedError) as denied:
        charge(services, 1, None)
    assert denied.value.reasons == ("quota-undefined",)
    assert denied.value.audited
    assert last_entry(services)["reasons"] == ["quota-undefined"]
    assert usage(services) == {}
