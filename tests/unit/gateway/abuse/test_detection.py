"""Dictionary-style querying: distinct tokens counted exactly, one alert per window."""

from __future__ import annotations

import json
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from gateway.abuse.detection import fingerprint, looks_like_enumeration, watch_for_enumeration
from gateway.abuse.models import EnumerationAlert, QuotaUsage
from gateway.abuse.queries import list_alerts
from gateway.abuse.quotas import charge_quota
from gateway.audit_trail.events import AuditTag
from gateway.audit_trail.models import AuditEntry
from gateway.db import transaction
from gateway.policy.decision import Quota
from gateway.services import Services
from tests.unit.gateway.abuse.conftest import BANK, allowed, quota

PROBE = quota(partner=1000, client=1000, min_distinct=30, ratio=0.05)


def ask(
    services: Services,
    tokens: list[bytes],
    hits: int,
    limits: Quota = PROBE,
    *,
    fail: bool = False,
) -> bool:
    """One query of these peppered tokens; whether it raised an alert (``fail``: the request
    raises after detection, so its transaction rolls back)."""
    with transaction(services.session_factory) as session:
        charge = charge_quota(
            session,
            services,
            BANK,
            request_id=secrets.token_hex(8),
            purpose="batch_screening",
            legal_basis="art6_1_c",
            decision=allowed(limits),
            items=len(tokens),
            deny_tag=AuditTag.MATCH_QUERY_DENY,
        )
        alert = watch_for_enumeration(
            session, services, charge, token_hashes=tokens, hits=hits, request_id="q" * 16
        )
        if fail:
            raise RuntimeError(f"the request failed after detection (alert: {alert})")
        return alert is not None


def guesses(count: int) -> list[bytes]:
    return [secrets.token_bytes(32) for _ in range(count)]


@given(
    window=st.integers(min_value=0, max_value=2**40),
    token=st.binary(min_size=32, max_size=32),
)
def test_fingerprint_is_short_stable_and_per_window(window: int, token: bytes) -> None:
    assert fingerprint(window, token) == fingerprint(window, token)
    assert len(fingerprint(window, token)) == 8
    assert fingerprint(window, token) != fingerprint(window + 3600, token)


@given(
    used=st.integers(min_value=1, max_value=10**6),
    distinct=st.integers(min_value=0, max_value=10**6),
    hits=st.integers(min_value=0, max_value=10**6),
    min_distinct=st.integers(min_value=1, max_value=10**6),
    ratio=st.floats(min_value=0, max_value=1),
)
def test_rule_needs_both_volume_and_misses(
    used: int, distinct: int, hits: int, min_distinct: int, ratio: float
) -> None:
    flagged = looks_like_enumeration(
        used=used, distinct=distinct, hits=hits, min_distinct=min_distinct, max_hit_ratio=ratio
    )
    assert flagged == (distinct >= min_distinct and hits <= ratio * used)


def test_a_run_of_distinct_misses_raises_one_alert(services: Services) -> None:
    assert not ask(services, guesses(20), hits=0)
    assert ask(services, guesses(20), hits=1)  # 40 distinct, 1 hit in 40: at most 5 %
    assert not ask(services, guesses(20), hits=0)  # same window: alerted once
    with transaction(services.session_factory) as session:
        (alert,) = session.scalars(select(EnumerationAlert)).all()
        entry = session.get(AuditEntry, alert.audit_seq)
        assert entry is not None
        body = json.loads(entry.body)
        views = list_alerts(session)
    assert (alert.items, alert.distinct_tokens, alert.hits) == (40, 40, 1)
    assert (alert.partner_id, alert.client_id, alert.purpose) == (
        "bank-a",
        "bank-a-c1",
        "batch_screening",
    )
    assert body["tag"] == "abuse:enumeration:detect"
    assert body["reasons"] == ["dictionary-querying"]
    assert body["counts"]["distinct_tokens"] == 40
    assert [view.id for view in views] == [alert.id]


def test_an_alert_whose_request_rolls_back_is_raised_by_the_next(services: Services) -> None:
    """The statistics are committed beside the request; the alert commits with it or not."""
    with pytest.raises(RuntimeError, match="alert: <"):
        ask(services, guesses(40), hits=0, fail=True)
    with transaction(services.session_factory) as session:
        assert session.scalars(select(EnumerationAlert)).all() == []
        row = session.scalars(select(QuotaUsage).where(QuotaUsage.scope == "partner")).one()
    assert (row.used, row.distinct_tokens, row.alerted) == (0, 40, False)  # charge given back
    assert ask(services, guesses(1), hits=0)
    with transaction(services.session_factory) as session:
        (alert,) = session.scalars(select(EnumerationAlert)).all()
    assert (alert.items, alert.distinct_tokens) == (1, 41)


def test_repeated_tokens_are_not_distinct(services: Services) -> None:
    same = guesses(20)
    for _ in range(5):
        assert not ask(services, same, hits=0)
    with transaction(services.session_factory) as session:
        row = session.scalars(select(QuotaUsage).where(QuotaUsage.scope == "partner")).one()
    assert (row.used, row.distinct_tokens) == (100, 20)


def test_screening_with_real_hits_is_not_flagged(services: Services) -> None:
    for _ in range(4):
        assert not ask(services, guesses(20), hits=4)  # 20 % hits, above the 5 % bound
    with transaction(services.session_factory) as session:
        assert session.scalars(select(EnumerationAlert)).all() == []


def test_purpose_without_detection_records_nothing(services: Services) -> None:
    assert not ask(services, guesses(50), hits=0, limits=quota(1000, 1000))
    with transaction(services.session_factory) as session:
        row = session.scalars(select(QuotaUsage).where(QuotaUsage.scope == "partner")).one()
    assert (row.used, row.distinct_tokens) == (50, 0)
