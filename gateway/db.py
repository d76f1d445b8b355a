"""Database engine and sessions: one transaction per request, services only flush.

Engines are built from settings in the app factory or the CLI, never at import. SQLite gets
WAL, foreign keys and a busy timeout so that several requests can share the embedded file;
PostgreSQL gets connect and statement timeouts so that a dead database fails requests fast
instead of hanging them.

A statement timeout is enforced by the server, so it cannot help when the server itself stops
answering (a hung host, a network partition, a frozen process). Every PostgreSQL wait is
therefore bounded on the client side as well: each wait gives up after the configured timeout,
and until the database first answered in a unit of work (:func:`transaction`,
:func:`read_only`) the unit's waits share one timeout from its start, so that a ping of an
idle pooled connection and the reconnect after it cannot add up. The connection that waited
is closed (it is in the middle of the protocol and cannot be reused), SQLAlchemy treats that
as a disconnect and drops the pool, and the request fails with a 503. TCP keepalives and
``tcp_user_timeout`` bound the same for the kernel: an idle pooled connection to a vanished
host is noticed, and unacknowledged writes time out.

Pooled PostgreSQL connections are checked with a ping only when they have been idle for
``IDLE_PING_SECONDS`` (a server restart or a firewall drops idle connections), not on every
checkout: under load a ping is one round trip per transaction for nothing. A connection that
died while in use fails its request with a 503 (``transaction`` below), and SQLAlchemy then
invalidates the whole pool, so the next requests reconnect.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors
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
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
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
# The client-side bound is the statement timeout plus this grace, so that a server that is
# alive cancels a slow statement itself (a clean error, the connection stays usable).
CLIENT_GRACE_SECONDS = 0.25
UNAVAILABLE_RETRY_AFTER_SECONDS = 2


@dataclass
class _Unit:
    """A unit of work's clock: when it began, and whether the database has answered since."""

    started: float
    answered: bool = False


# The current unit of work; ``None`` outside one (CLI commands): each wait is bounded alone.
_unit: ContextVar[_Unit | None] = ContextVar("ppsgate_db_unit", default=None)

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


def _remaining(bound: float) -> float:
    """Seconds the next wait may take: the whole bound once the database answered."""
    unit = _unit.get()
    if unit is None or unit.answered:
        return bound
    return unit.started + bound - time.monotonic()


def _answered() -> None:
    unit = _unit.get()
    if unit is not None:
        unit.answered = True


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait for the server is bounded on the client side.

    ``bound`` is set per engine (a subclass made by :func:`_bounded_class`). On expiry the
    connection is closed, because it is in the middle of the protocol, and the error says the
    database timed out; SQLAlchemy sees a closed connection and treats it as a disconnect.
    """

    bound: float = 5.0

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        limit = max(_remaining(self.bound), 0.001)
        try:
            answer = super().wait(gen, interval, min(timeout or limit, limit))
        except pg_errors._WaitTimeout:  # psycopg's own (private) error for an expired timeout
            self.close()
            raise psycopg.OperationalError(
                f"the database did not answer: timed out after {self.bound:g} s"
            ) from None
        _answered()
        return answer


def _bounded_class(bound: float) -> type[BoundedConnection]:
    return type("BoundedConnection", (BoundedConnection,), {"bound": bound})


def _bounded_connect(connection_class: type[BoundedConnection]) -> Any:
    """A ``do_connect`` hook: connect within what is left of the unit's time."""

    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        left = _remaining(connection_class.bound)
        if left <= 0:
            raise psycopg.OperationalError("the database did not answer: timed out")
        # libpq counts whole seconds and at least 2 (per host of a multi-host URL).
        cparams["connect_timeout"] = max(2, min(int(cparams["connect_timeout"]), math.ceil(left)))
        connection = connection_class.connect(*cargs, **cparams)
        _answered()
        return connection

    return connect


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
    timeout = settings.database_timeout_seconds
    timeout_ms = int(timeout * 1000)
    options = f"-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms}"
    if asynchronous_commit:
        options += " -c synchronous_commit=off"
    engine = create_engine(
        target,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=timeout,
        connect_args={
            "connect_timeout": max(2, math.ceil(timeout)),
            "options": options,
            # The kernel's bounds: unacknowledged data and a silent peer (idle connections).
            "tcp_user_timeout": timeout_ms,
            "keepalives": 1,
            "keepalives_idle": max(1, math.ceil(timeout)),
            "keepalives_interval": 1,
            "keepalives_count": 3,
        },
    )
    connection_class = _bounded_class(timeout + CLIENT_GRACE_SECONDS)
    event.listen(engine, "do_connect", _bounded_connect(connection_class))
    event.listen(engine, "checkin", _checked_in)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that never expire objects on commit (responses are built after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def _unit_of_work() -> Iterator[None]:
    """Start the clock of the client-side bound for the database waits of one unit.

    A unit nested in another (a short transaction inside a request's) does not eat into the
    outer one's time: if the outer unit had no answer yet, its clock restarts afterwards.
    """
    outer = _unit.get()
    _unit.set(_Unit(time.monotonic()))
    try:
        yield
    finally:
        # Set back rather than reset by token: a streamed response runs the unit inside a
        # generator whose steps may each run in another context (a token is context-bound).
        _unit.set(outer)
        if outer is not None and not outer.answered:
            outer.started = time.monotonic()


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, map outages to 503.

    An audited refusal (``GatewayError.audited``) commits what was flushed — only its audit
    entry — before the error propagates, so denials are on the record too. A rollback that
    fails because the connection died is not a second error: the database rolls back a
    transaction whose connection is gone, so the original error (or the outage) is raised.
    """
    with _unit_of_work():
        session = factory()
        try:
            try:
                yield session
                session.commit()
            except GatewayError as exc:
                if exc.audited:
                    session.commit()
                else:
                    _roll_back(session)
                raise
            except BaseException:
                _roll_back(session)
                raise
        except (OperationalError, PoolTimeoutError) as exc:
            raise storage_unavailable(exc) from exc
        finally:
            session.close()


def _roll_back(session: Session) -> None:
    """Roll back; a connection that died meanwhile already lost the transaction."""
    try:
        session.rollback()
    except DBAPIError:
        # The rollback's own failure adds nothing: the error being handled is the one to raise.
        session.invalidate()


@contextmanager
def read_only(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads that need no transaction: autocommit, so no BEGIN and no COMMIT.

    For the lookups every request makes before its own transaction (the calling client's
    row): two round trips fewer than :func:`transaction`. Writing through it is a bug.
    """
    with _unit_of_work():
        session = factory()
        try:
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            yield session
        except (OperationalError, PoolTimeoutError) as exc:
            raise storage_unavailable(exc) from exc
        finally:
            session.close()


def storage_unavailable(exc: OperationalError | PoolTimeoutError) -> StorageUnavailableError:
    """The 503 for an outage; the client is told when to try again."""
    if isinstance(exc, PoolTimeoutError):
        reason = "no database connection became free in time (the database is down or overloaded)"
    else:
        reason = outage_reason(exc)
    return StorageUnavailableError(reason, retry_after=UNAVAILABLE_RETRY_AFTER_SECONDS)


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
