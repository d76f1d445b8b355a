"""The enumeration signal: improbably few hits for the identifiers a partner asked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.console.overview import MIN_ITEMS_FOR_MISSES, miss_signals
from gateway.console.period import recent


def test_partner_far_below_the_shared_hit_rate_is_flagged() -> None:
    signals = miss_signals({"bank-a": (400, 120), "bank-b": (300, 90), "psp-x": (500, 2)})
    assert [s.partner for s in signals] == ["psp-x"]
    assert signals[0].expected > 50


def test_small_or_ordinary_partners_are_not_flagged() -> None:
    assert miss_signals({"a": (MIN_ITEMS_FOR_MISSES - 1, 0), "b": (400, 100)}) == []
    assert miss_signals({"a": (100, 30), "b": (100, 25)}) == []
    assert miss_signals({}) == []


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=5),
        st.integers(0, 1000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))),
    )
)
def test_a_flagged_partner_always_hit_less_than_expected(data: dict[str, tuple[int, int]]) -> None:
    for signal in miss_signals(data):
        assert signal.hits < signal.expected
        assert signal.items >= MIN_ITEMS_FOR_MISSES


def test_retiring_epoch_needs_attention(database_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from gateway.config import load_settings
    from gateway.console.overview import build_overview
    from gateway.db import build_engine, build_session_factory, transaction
    from gateway.epochs.models import EpochState, KeyEpoch
    from gateway.keys.models import CustodianKey
    from gateway.partners.models import Partner, PartnerClient

    engine = build_engine(load_settings(database_url=database_url))
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    try:
        with transaction(build_session_factory(engine)) as session:
            session.add(Partner(id="custodian", name="Custodian", sector="operator"))
            session.add(PartnerClient(id="custodian-c1", partner_id="custodian", public_jwk="{}"))
            session.flush()
            session.add(
                CustodianKey(
                    key_id="k" * 64,
                    public_key=b"\x00" * 32,
                    client_id="custodian-c1",
                    created_at=now,
                )
            )
            session.flush()
            session.add(
                KeyEpoch(
                    epoch=1,
                    state=EpochState.RETIRING.value,
                    custodian_key_id="k" * 64,
                    created_at=now,
                    overlap_ends_at=now + timedelta(days=7),
                )
            )
            session.flush()
            overview = build_overview(session, scope=None, period=recent(7, now))
        assert [(a.key, a.values["epoch"]) for a in overview.attention] == [
            ("overview.epoch_retiring", 1)
        ]
    finally:
        engine.dispose()


def test_a_partner_that_left_is_shown_with_the_indicators_kept(database_url: str) -> None:
    import secrets
    from datetime import UTC, datetime, timedelta

    from gateway.config import load_settings
    from gateway.console.overview import build_overview
    from gateway.db import build_engine, build_session_factory, transaction
    from gateway.indicators.models import Indicator
    from gateway.partners.models import Partner

    engine = build_engine(load_settings(database_url=database_url))
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    left = now - timedelta(days=2)
    try:
        with transaction(build_session_factory(engine)) as session:
            session.add(
                Partner(
                    id="shop",
                    name="Shop",
                    sector="marketplace",
                    status="left",
                    status_changed_at=left,
                )
            )
            session.add(Partner(id="bank", name="Bank", sector="bank", status="active"))
            session.flush()
            for expires in (now + timedelta(days=30), now - timedelta(days=1)):
                session.add(
                    Indicator(
                        partner_id="shop",
                        kind="iban",
                        epoch=1,
                        token_hash=secrets.token_bytes(32),
                        category="purchase_fraud",
                        role="suspect",
                        reference_hash=secrets.token_bytes(32),
                        purpose="indicator_submission",
                        legal_basis="art6_1_f",
                        observed_at=left,
                        expires_at=expires,
                    )
                )
            session.flush()
            overview = build_overview(session, scope="bank", period=recent(7, now))
        assert [(a.key, a.values) for a in overview.attention] == [
            ("overview.partner_left", {"partner": "shop", "since": left.date(), "kept": 1})
        ]
    finally:
        engine.dispose()
