from __future__ import annotations

import time
from typing import Any

import pytest
from psycopg.errors import AdminShutdown
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from gateway.config import load_settings
from gateway.db import (
    IDLE_PING_SECONDS,
    build_engine,
    build_session_factory,
    read_only,
    transaction,
)
from gateway.errors import NotFoundError, StorageUnavailableError
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


def test_a_pinged_connection_can_serve_an_autocommit_read(backend: str, database_url: str) -> None:
    """The idle ping must leave the connection outside a transaction (found by a benchmark:
    authentication's autocommit read failed on every connection idle for 2 s)."""
    settings = load_settings(database_url=database_url, database_pool_size=1)
    engine = build_engine(settings)
    factory = build_session_factory(engine)
    try:
        with read_only(factory) as session:
            assert session.execute(text("SELECT 1")).scalar_one() == 1
        for record in list(engine.pool._pool.queue):  # type: ignore[attr-defined]
            record.info["idle_since"] = time.monotonic() - IDLE_PING_SECONDS - 1
        with read_only(factory) as session:
            assert session.execute(text("SELECT 2")).scalar_one() == 2
        with transaction(factory) as session:  # and a normal transaction after it
            assert session.execute(text("SELECT 3")).scalar_one() == 3
    finally:
        engine.dispose()


def dead_connection(statement: str) -> OperationalError:
    """The driver's error when the server went away (as after a killed postmaster)."""
    return OperationalError(statement, {}, AdminShutdown("terminating connection"))


def rollback_fails(engine: Engine) -> None:
    """Every ROLLBACK raises the disconnect again, as after a killed postmaster."""

    def fail(_connection: Any) -> None:
        raise dead_connection("ROLLBACK")

    event.listen(engine, "rollback", fail)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (dead_connection("SELECT 1"), StorageUnavailableError),  # the outage: a 503
        (NotFoundError("no such thing"), NotFoundError),  # the request's own error stays
        (ValueError("a bug"), ValueError),  # a bug stays a bug (500), not the rollback's
    ],
)
def test_a_rollback_on_a_dead_connection_raises_the_original_error(
    database_url: str, raised: Exception, expected: type[Exception]
) -> None:
    engine = build_engine(load_settings(database_url=database_url))
    rollback_fails(engine)
    factory = build_session_factory(engine)

    def fail_in_transaction() -> None:
        with transaction(factory) as session:
            session.execute(text("SELECT 1"))
            raise raised

    try:
        with pytest.raises(expected) as caught:
            fail_in_transaction()
        if expected is StorageUnavailableError:
            assert isinstance(caught.value, StorageUnavailableError)
            assert caught.value.retry_after is not None
        with transaction(factory) as session:  # the pool recovers
            assert session.execute(text("SELECT 2")).scalar_one() == 2
    finally:
        engine.dispose()


def test_a_failed_commit_and_failed_rollback_are_one_outage(database_url: str) -> None:
    engine = build_engine(load_settings(database_url=database_url))
    rollback_fails(engine)

    def commit_fails(_connection: Any) -> None:
        raise dead_connection("COMMIT")

    event.listen(engine, "commit", commit_fails)
    factory = build_session_factory(engine)

    def commit() -> None:
        with transaction(factory) as session:
            session.execute(text("SELECT 1"))

    try:
        with pytest.raises(StorageUnavailableError):
            commit()
    finally:
        engine.dispose()


def test_a_database_that_stops_answering_is_cut_off_on_the_client_side(
    backend: str, database_url: str
) -> None:
    """A wait longer than the timeout ends on the client even when the server would go on
    (here its statement timeout is lifted, as when the server itself is frozen)."""
    if backend != "postgres":
        pytest.skip("SQLite waits are bounded by its busy timeout")
    engine = build_engine(load_settings(database_url=database_url, database_timeout_seconds=1))
    factory = build_session_factory(engine)

    def sleep_past_the_timeout() -> None:
        with transaction(factory) as session:
            session.execute(text("SET LOCAL statement_timeout = 0"))
            session.execute(text("SELECT pg_sleep(5)"))

    try:
        with pytest.raises(StorageUnavailableError, match="did not answer in time"):
            sleep_past_the_timeout()  # without the client's bound, the sleep would succeed
        with transaction(factory) as session:  # a new connection serves the next unit
            assert session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_the_bound_is_per_wait_once_the_database_answered(backend: str, database_url: str) -> None:
    """Work between statements (hashing a large batch) is not database time, and a unit
    nested in another does not eat into the outer one's time."""
    if backend != "postgres":
        pytest.skip("SQLite waits are bounded by its busy timeout")
    engine = build_engine(load_settings(database_url=database_url, database_timeout_seconds=1))
    factory = build_session_factory(engine)
    try:
        with transaction(factory) as session:
            session.execute(text("SELECT 1"))
            time.sleep(1.5)  # longer than the bound, spent outside the database
            assert session.execute(text("SELECT 2 FROM pg_sleep(0.3)")).scalar_one() == 2
        with transaction(factory) as outer:
            with transaction(factory) as inner:  # longer than the bound, answering all along
                for _ in range(4):
                    inner.execute(text("SELECT pg_sleep(0.4)"))
            # The outer unit had no answer yet: its clock restarted when the inner one ended.
            assert outer.execute(text("SELECT 3 FROM pg_sleep(0.3)")).scalar_one() == 3
    finally:
        engine.dispose()


def test_the_audit_token_index_is_not_checked_row_by_row(database_url: str) -> None:
    """Migration 0015: no foreign key on ``audit_detail_tokens`` (10,000 rows per batch match
    were checked one by one against their detail record, written in the same statement)."""
    engine = build_engine(load_settings(database_url=database_url))
    try:
        assert inspect(engine).get_foreign_keys("audit_detail_tokens") == []
        assert inspect(engine).get_pk_constraint("audit_detail_tokens")["constrained_columns"] == [
            "token_hash",
            "seq",
        ]
    finally:
        engine.dispose()
