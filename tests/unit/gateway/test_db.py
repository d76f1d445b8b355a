from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from gateway.config import load_settings
from gateway.db import IDLE_PING_SECONDS, build_engine
from gateway.migrate import is_up_to_date


def test_fresh_database_is_migrated_to_head(database_url: str) -> None:
    engine = build_engine(load_settings(database_url=database_url))
    try:
        assert is_up_to_date(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"partners", "partner_clients", "indicators"} <= tables
    finally:
        engine.dispose()


def test_only_idle_pooled_connections_are_pinged(backend: str, database_url: str) -> None:
    """PostgreSQL: a connection idle for IDLE_PING_SECONDS is pinged at checkout and replaced
    if dead; one used just before is not pinged (no round trip under load), so its death
    fails that one statement and SQLAlchemy then refreshes the pool."""
    if backend != "postgres":
        pytest.skip("SQLite connections are files, not sockets")
    engine = build_engine(load_settings(database_url=database_url, database_pool_size=1))
    admin = create_engine(database_url, poolclass=NullPool)

    def backend_pid() -> int:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())

    def kill(pid: int) -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")

    try:
        first = backend_pid()
        kill(first)
        with pytest.raises(OperationalError):  # used just now: not pinged
            backend_pid()
        second = backend_pid()
        assert second != first
        kill(second)
        for record in list(engine.pool._pool.queue):  # type: ignore[attr-defined]
            record.info["idle_since"] = time.monotonic() - IDLE_PING_SECONDS - 1
        assert backend_pid() not in {first, second}  # idle: pinged, replaced, no error
    finally:
        engine.dispose()
        admin.dispose()
