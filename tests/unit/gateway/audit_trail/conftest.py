"""Fixtures: a migrated database of each backend, its session factory and an audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit_trail.service import AuditTrail, build_audit_trail
from gateway.config import Settings
from gateway.db import build_engine, build_session_factory
from tests.unit.gateway.audit_trail.helpers import TickingClock, make_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, audit_checkpoint_max_entries=10)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = build_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return build_session_factory(engine)


@pytest.fixture
def trail(settings: Settings) -> AuditTrail:
    trail = build_audit_trail(settings, clock=TickingClock())
    trail.reservations.grace_seconds = 0  # no request is in flight when tests integrate
    return trail
