"""A worker's memory of the registry: forgotten at every change, never kept across a race.

On PostgreSQL against the real server (triggers from the migrations, LISTEN/NOTIFY); on
SQLite the watch must remember nothing.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from gateway import registry_watch
from gateway.registry_watch import RegistryWatch

WAIT_SECONDS = 20.0


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition`` (a bound, not a timing assertion: it fails only if it never holds)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {WAIT_SECONDS} s")
        time.sleep(0.01)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = create_engine(database_url)
    yield built
    built.dispose()


@pytest.fixture
def watch(engine: Engine) -> Iterator[RegistryWatch]:
    watched = RegistryWatch(engine, max_age_seconds=60)
    watched.start()
    yield watched
    watched.stop()


def _suspend_all(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE partners SET status = status"))


def test_the_migration_names_what_the_watch_listens_for() -> None:
    migration = importlib.import_module("gateway.migrations.versions.0014_registry_notify")
    assert migration.CHANNEL == registry_watch.CHANNEL
    assert migration.TRIGGER == registry_watch.TRIGGER
    assert migration.TABLES == registry_watch.TABLES


def test_sqlite_remembers_nothing(tmp_path: object) -> None:
    engine = create_engine("sqlite://")
    watched = RegistryWatch(engine, max_age_seconds=60)
    watched.start()
    try:
        assert watched.stamp() is None
        watched.remember("k", watched.stamp(), "v")
        assert watched.recall("k") is None
    finally:
        watched.stop()
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_change_committed_elsewhere_is_forgotten_once_notified(
    engine: Engine, watch: RegistryWatch, database_url: str
) -> None:
    _until(lambda: watch.listening, "listening")
    watch.remember("client", watch.stamp(), "registration")
    assert watch.recall("client") == "registration"
    other = create_engine(database_url)  # another process's connection, not this worker's
    try:
        before = watch.generation
        _suspend_all(other)
        _until(lambda: watch.recall("client") is None, "forgetting on NOTIFY")
        assert watch.generation > before
    finally:
        other.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("table", ["partners", "partner_clients", "key_epochs"])
def test_every_watched_table_notifies(
    engine: Engine, watch: RegistryWatch, database_url: str, table: str
) -> None:
    _until(lambda: watch.listening, "listening")
    watch.remember("k", watch.stamp(), "v")
    other = create_engine(database_url)
    try:
        with other.begin() as connection:
            connection.execute(text(f"DELETE FROM {table} WHERE false"))
        _until(lambda: watch.recall("k") is None, f"forgetting after a change to {table}")
    finally:
        other.dispose()


class _DeafWatch(RegistryWatch):
    """Listening as far as the cache knows, but no thread: only the worker's own writes can
    make it forget."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, max_age_seconds=60)
        self._listening = True


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_this_workers_own_commit_forgets_before_it_returns(engine: Engine) -> None:
    watch = _DeafWatch(engine)
    watch.remember("k", watch.stamp(), "v")
    _suspend_all(engine)
    assert watch.recall("k") is None  # at once: the connection went back to the pool


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_rolled_back_or_read_only_statement_forgets_nothing(engine: Engine) -> None:
    watch = _DeafWatch(engine)
    watch.remember("k", watch.stamp(), "v")
    with engine.connect() as connection:
        connection.execute(text("UPDATE partners SET status = status"))
        connection.rollback()
        connection.execute(text("SELECT count(*) FROM partner_clients"))
        connection.commit()
    assert watch.recall("k") == "v"


def test_a_read_that_raced_a_change_is_not_kept() -> None:
    watch = _DeafWatch(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    stamp = watch.stamp()
    watch.forget()  # the change lands while the value is being read
    watch.remember("k", stamp, "stale")
    assert watch.recall("k") is None
    watch.remember("k", watch.stamp(), "fresh")
    assert watch.recall("k") == "fresh"


def test_entries_expire() -> None:
    watch = _DeafWatch(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    watch._max_age = 0.0  # the backstop, without waiting for it
    watch.remember("k", watch.stamp(), "v")
    time.sleep(0.001)
    assert watch.recall("k") is None


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_disconnect_stops_remembering_until_listening_again(
    watch: RegistryWatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    _until(lambda: watch.listening, "listening")
    monkeypatch.setattr(registry_watch, "POLL_SECONDS", 0.3)  # the rounds after this one
    monkeypatch.setattr(registry_watch, "RETRY_SECONDS", 0.1)
    watch.remember("k", watch.stamp(), "v")
    watch.disconnected()
    assert watch.recall("k") is None
    assert watch.stamp() is None
    _until(lambda: watch.listening, "listening again")


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_without_the_triggers_nothing_is_remembered(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"DROP TRIGGER {registry_watch.TRIGGER} ON key_epochs"))
    watched = RegistryWatch(engine, max_age_seconds=60)
    watched.start()
    try:
        time.sleep(0.5)
        assert not watched.listening
        watched.remember("k", watched.stamp(), "v")
        assert watched.recall("k") is None
    finally:
        watched.stop()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_stop_closes_the_listening_connection(engine: Engine) -> None:
    watched = RegistryWatch(engine, max_age_seconds=60)
    watched.start()
    _until(lambda: watched.listening, "listening")
    watched.stop()
    assert not watched.listening
    with engine.connect() as connection:
        listeners = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'ppsgate-registry-watch'"
            )
        ).scalar_one()
    assert listeners == 0


def test_zero_seconds_turns_the_memory_off() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    watched = RegistryWatch(engine, max_age_seconds=0)
    watched.start()  # nothing to start: no thread, no connection
    assert watched.stamp() is None
    watched.stop()


class _ProbesLost(RegistryWatch):
    """Notifications that never arrive (a transaction-mode pooler between worker and server)."""

    def _notify_wake(self, payload: str) -> bool:
        return True  # "sent", never delivered


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_listener_that_hears_nothing_remembers_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_watch, "POLL_SECONDS", 0.2)
    monkeypatch.setattr(registry_watch, "RETRY_SECONDS", 0.1)
    watched = _ProbesLost(engine, max_age_seconds=60)
    watched.start()
    try:
        time.sleep(1.0)  # several rounds
        assert not watched.listening
        watched.remember("k", watched.stamp(), "v")
        assert watched.recall("k") is None
    finally:
        watched.stop()
