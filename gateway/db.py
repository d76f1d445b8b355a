"""Database engine and sessions: one transaction per request, services only flush.

Engines are built from settings in the app factory or the CLI, never at import. SQLite gets
WAL, foreign keys and a busy timeout so that several requests can share the embedded file;
PostgreSQL gets connect and statement timeouts so that a dead database fails requests fast
instead of hanging them.

Pooled PostgreSQL connections are checked with a ping only when they have been idle for
``IDLE_PING_SECONDS`` (a server restart or a firewall drops idle connections), not on every
checkout: under load a ping is one round trip per transaction for nothing. A connection that
died while in use fails its request with a 503 (``transaction`` below), and SQLAlchemy then
invalidates the whole pool, so the next requests reconnect.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Integer,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from gateway.config import Settings
from gateway.errors import GatewayError, StorageUnavailableError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

IDLE_PING_SECONDS = 2.0

# 64-bit keys on PostgreSQL; SQLite only auto-increments a plain INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with stable constraint names, so migrations stay reviewable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, synchronous: str = "FULL") -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.close()


def _sqlite_pragmas_deferred_sync(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record, synchronous="NORMAL")


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that sat idle; a dead one is replaced before anyone uses it."""
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        # End the transaction the driver opened for the ping: the connection must come out
        # of the pool idle, or switching it to autocommit (``read_only``) is refused.
        dbapi_connection.rollback()
    except Exception as exc:  # the driver's error for a dead socket varies
        raise DisconnectionError("idle pooled connection is dead") from exc


def build_engine(
    settings: Settings, *, url: str | None = None, asynchronous_commit: bool = False
) -> Engine:
    """Create the SQLAlchemy engine for the configured database.

    ``asynchronous_commit`` makes COMMIT return before the write-ahead log is flushed
    (PostgreSQL ``synchronous_commit = off``, SQLite ``synchronous = NORMAL`` in WAL mode).
    Only for bookkeeping that a later durable commit on the same database covers: the log is
    sequential, so flushing a later commit flushes the earlier ones with it, and a crash
    can only lose commits that no durable commit followed.
    """
    target = url or settings.effective_database_url
    if target.startswith("sqlite"):
        database = target.split(":///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            target,
            connect_args={"timeout": settings.database_timeout_seconds * 2},
            pool_size=settings.database_pool_size,
        )
        pragmas = _sqlite_pragmas_deferred_sync if asynchronous_commit else _sqlite_pragmas
        event.listen(engine, "connect", pragmas)
        return engine
    timeout_ms = int(settings.database_timeout_seconds * 1000)
    options = f"-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms}"
    if asynchronous_commit:
        options += " -c synchronous_commit=off"
    engine = create_engine(
        target,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=settings.database_timeout_seconds,
        connect_args={
            "connect_timeout": max(1, int(settings.database_timeout_seconds)),
            "options": options,
        },
    )
    event.listen(engine, "checkin", _checked_in)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that never expire objects on commit (responses are built after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, map outages to 503.

    An audited refusal (``GatewayError.audited``) commits what was flushed — only its audit
    entry — before the error propagates, so denials are on the record too.
    """
    session = factory()
    try:
        yield session
        session.commit()
    except GatewayError as exc:
        if exc.audited:
            session.commit()
        else:
            session.rollback()
        raise
    except OperationalError as exc:
        session.rollback()
        raise StorageUnavailableError(outage_reason(exc)) from exc
    except PoolTimeoutError as exc:
        session.rollback()
        raise StorageUnavailableError(
            "no database connection became free in time (the database is down or overloaded)"
        ) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_only(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads that need no transaction: autocommit, so no BEGIN and no COMMIT.

    For the lookups every request makes before its own transaction (the calling client's
    row): two round trips fewer than :func:`transaction`. Writing through it is a bug.
    """
    session = factory()
    try:
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session
    except OperationalError as exc:
        raise StorageUnavailableError(outage_reason(exc)) from exc
    except PoolTimeoutError as exc:
        raise StorageUnavailableError(
            "no database connection became free in time (the database is down or overloaded)"
        ) from exc
    finally:
        session.close()


def outage_reason(exc: OperationalError) -> str:
    """A fixed text for a storage outage; driver messages (hosts, paths) stay in the log."""
    text = str(exc.orig or exc).lower()
    if "disk is full" in text or "no space left" in text or "could not extend file" in text:
        return "the database is full (no disk space, or its size limit is reached)"
    if "timeout" in text or "timed out" in text or "canceling statement" in text:
        return "the database did not answer in time"
    return f"database unavailable ({type(exc.orig).__name__ if exc.orig else 'error'})"


def check_reachable(engine: Engine) -> None:
    """Fail with a clear error if the database cannot be reached."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StorageUnavailableError(
            f"cannot reach {engine.url.render_as_string(hide_password=True)}: {detail}"
        ) from exc


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on every backend.

    PostgreSQL keeps the zone; SQLite stores text without it and returns naive values. This
    type stores UTC and hands back aware UTC datetimes on both, so API responses always
    carry a zone (``...Z``) and comparisons with the clock never mix naive and aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
