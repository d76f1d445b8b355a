"""Real services over a fresh database of each backend, with one registered partner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.audit_trail.events import Actor
from gateway.auth.principal import Principal
from gateway.bootstrap import build_services
from gateway.clock import FixedClock
from gateway.config import load_settings
from gateway.db import transaction
from gateway.partners.service import PartnerRegistry
from gateway.policy.decision import Decision, Enumeration, Quota
from gateway.services import Services

# 2026-11-29 10:00:00 UTC is a multiple of 3600 s: windows of an hour start on it.
START = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
BANK = Principal(
    partner_id="bank-a",
    client_id="bank-a-c1",
    user=None,
    sector="bank",
    scopes=frozenset({"match:query"}),
    roles=frozenset(),
)
OTHER_CLIENT = Principal(
    partner_id="bank-a",
    client_id="bank-a-c2",
    user=None,
    sector="bank",
    scopes=frozenset({"match:query"}),
    roles=frozenset(),
)


def allowed(quota: Quota | None) -> Decision:
    return Decision(allow=True, reasons=(), policy_digest="d" * 64, quota=quota)


def quota(
    partner: int = 10, client: int = 6, *, min_distinct: int | None = None, ratio: float = 0.0
) -> Quota:
    probe = None if min_distinct is None else Enumeration(min_distinct, ratio)
    return Quota(window_seconds=3600, partner=partner, client=client, enumeration=probe)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def services(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Services]:
    settings = load_settings(env="test", data_dir=tmp_path / "data", database_url=database_url)
    built = build_services(settings, clock=clock)
    with transaction(built.session_factory) as session:
        PartnerRegistry(
            session, built.audit, actor=Actor(request_id="test", user="test"), clock=clock
        ).add_partner(name="bank-a", sector="bank", partner_id="bank-a")
    yield built
    built.engine.dispose()
