"""Short counter statements and transactions on their own connections, and giving a
charge back.

Quota counters and enumeration statistics are shared by all of a partner's concurrent
requests. Updated in the request's transaction, their row lock would last until the request
commits and order those requests one after the other; so they are written in short
transactions of their own that commit at once — on PostgreSQL each a single autocommit
statement (:func:`counter_statement`): the charge of both meters, and the statistics — and
the request's transaction never locks a counter row (except to raise a window's enumeration
alert, once per window).

The short transactions run on a second, small engine, ``Services.counter_engine``, built
with the services by :func:`build_counter_engine` and disposed with their engine (disposing
``Services.engine`` disposes it too): drawing them from the request's own pool could
deadlock it, every request holding one connection while waiting for a second. That engine
commits asynchronously (``build_engine(asynchronous_commit=True)``): the request's own
durable commit comes later in the same log and makes the counters durable with it.

A request whose transaction ends without committing gets its charge back (a ``Session``
event hook below, whatever code ran the session). Once a commit has been attempted the
charge stays, even if the commit failed: the outcome is unknown, and a counter may
over-count but must never under-count.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from gateway.config import Settings
from gateway.db import build_engine
from gateway.services import Services

logger = logging.getLogger(__name__)

_PENDING = "gateway.abuse.pending-give-backs"

GiveBack = Callable[[Connection], None]


def build_counter_engine(settings: Settings, main: Engine) -> Engine:
    """The counter engine beside ``main`` (same database), disposed when ``main`` is."""
    # Short transactions need few connections: half the request pool (+ as many overflow),
    # so a worker holds at most 3 x PPSGATE_DATABASE_POOL_SIZE in all.
    size = max(1, settings.database_pool_size // 2)
    counters = build_engine(
        settings.model_copy(update={"database_pool_size": size}),
        url=main.url.render_as_string(hide_password=False),
        asynchronous_commit=True,
    )
    event.listen(main, "engine_disposed", _disposer(counters))
    return counters


def _disposer(counters: Engine) -> Callable[[Any], None]:
    def dispose(_main: Any) -> None:
        counters.dispose()

    return dispose


@contextmanager
def counter_transaction(services: Services) -> Iterator[Connection]:
    """A short transaction beside the request's: commits on exit, rolls back on error.

    Errors propagate to the request's ``transaction``, which turns an unreachable database
    into a 503 like any other storage error.
    """
    with services.counter_engine.begin() as connection:
        yield connection


@contextmanager
def counter_statement(services: Services) -> Iterator[Connection]:
    """A counter connection in autocommit mode, for one statement that is atomic by itself
    (no BEGIN and COMMIT round trips around it)."""
    with services.counter_engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def dialect_insert(dialect: str) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_*``), by dialect name."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def give_back_unless_committed(session: Session, services: Services, give_back: GiveBack) -> None:
    """Run ``give_back`` in a counter transaction if the session's transaction does not commit.

    The session's transaction is begun here if it was not (it costs no round trip), so that
    a rollback of a session that has not touched the database yet still ends a transaction.
    """
    if not session.in_transaction():
        session.begin()
    pending: list[tuple[Services, GiveBack]] = session.info.setdefault(_PENDING, [])
    pending.append((services, give_back))


@event.listens_for(Session, "before_commit")
def _keep_on_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _give_back_on_rollback(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None or transaction.nested:
        return
    pending: list[tuple[Services, GiveBack]] | None = session.info.pop(_PENDING, None)
    for services, give_back in pending or ():
        try:
            with counter_transaction(services) as connection:
                give_back(connection)
        except Exception:  # a charge kept over-counts, which is the safe side
            logger.exception("could not give a quota charge back; the window over-counts")
