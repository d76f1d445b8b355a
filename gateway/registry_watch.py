"""A worker's memory of the registry (clients, partners, key epochs), forgotten at every change.

Every API request needs the calling client's registration and its partner's (still active?
which key version, scopes, sector?) and the key epochs (which are usable now?). They change
rarely and reading them cost round trips on every request. A worker therefore remembers what
it read and forgets all of it as soon as any of those tables changes:

* PostgreSQL triggers (migration ``0014_registry_notify``) send ``NOTIFY ppsgate_registry``
  for every statement that changes ``partners``, ``partner_clients`` or ``key_epochs``,
  delivered when the change commits. Each worker keeps one connection that listens (a
  thread started with the app); every notification moves the *generation* and empties the
  memory.
* A change committed by this worker itself moves the generation when its connection goes
  back to the pool, after the commit and before the request that made it answers; so here the
  next request sees it even before PostgreSQL delivers the notification.
* What is read is remembered only if the generation did not move while it was read, so a read
  that raced a change is never kept.
* While the listening connection is not established (at start, after a lost connection, after
  a database disconnect seen by a request, when the triggers are missing) nothing is
  remembered and every request reads; listening again starts from an empty memory.
* An entry is kept ``PPSGATE_REGISTRY_CACHE_SECONDS`` at most (0: nothing is remembered).
* On SQLite nothing is remembered: one process, no notifications, and the reads are local.

So a suspension, a key rotation or an epoch rotation takes effect on the next request in the
worker that made it and, in every other worker and process, on the first request after
PostgreSQL delivered the notification (a few milliseconds after the commit on one host).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Hashable
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

CHANNEL = "ppsgate_registry"
TRIGGER = "ppsgate_registry_changed"
TABLES = ("partners", "partner_clients", "key_epochs")
MAX_ENTRIES = 10_000
RETRY_SECONDS = 2.0
# Each listening round lasts this long and proves, with a probe notification of its own, that
# notifications still arrive; it also bounds how long a stop waits if the wake-up is lost.
POLL_SECONDS = 5.0
_DIRTY = "ppsgate.registry-written"
_COMMITTED = "ppsgate.registry-committed"
_WRITES = ("insert", "update", "delete", "truncate")
_STOP = "stop"


class RegistryWatch:
    """Remembered registry reads of one worker, valid while nothing changed (see module)."""

    def __init__(self, engine: Engine | None, max_age_seconds: float) -> None:
        self._engine = engine if _watchable(engine, max_age_seconds) else None
        self._max_age = max_age_seconds
        self._generation = 0
        self._listening = False
        self._entries: dict[Hashable, tuple[int, float, object]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._quiet = False  # an outage was logged; log its end, not each retry
        self._reset = threading.Event()  # a request saw a disconnect: listen afresh
        self._wake = f"{CHANNEL}_wake_{uuid.uuid4().hex}"
        if self._engine is not None:
            _follow_own_writes(self._engine, self)

    @property
    def listening(self) -> bool:
        return self._listening

    @property
    def generation(self) -> int:
        return self._generation

    def recall(self, key: Hashable) -> object | None:
        """What was read for ``key`` since the last change, or ``None``."""
        found = self._entries.get(key) if self._listening else None
        if found is None:
            return None
        generation, at, value = found
        if generation != self._generation or time.monotonic() - at > self._max_age:
            return None
        return value

    def stamp(self) -> int | None:
        """Take before a read: the generation it may be remembered under, or ``None``."""
        return self._generation if self._listening else None

    def remember(self, key: Hashable, stamp: int | None, value: object) -> None:
        """Keep ``value`` read under ``stamp``, unless the registry changed meanwhile."""
        if stamp is None:
            return
        with self._lock:
            if stamp != self._generation or not self._listening:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (stamp, time.monotonic(), value)

    def forget(self) -> None:
        """The registry changed (or may have): nothing remembered stands."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def start(self) -> None:
        """Listen for changes in a thread of this worker (PostgreSQL, cache enabled)."""
        if self._engine is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._listen, name="ppsgate-registry-watch", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening, close the connection and forget everything."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake_listener()
        thread.join(timeout=POLL_SECONDS + 1)
        self._listening = False
        self.forget()

    def disconnected(self) -> None:
        """A request saw the database go away: forget, and read until listening again."""
        self._listening = False
        self._reset.set()
        self.forget()

    def _notify_wake(self, payload: str) -> bool:
        """NOTIFY the listener's own channel through the engine (another connection)."""
        assert self._engine is not None
        try:
            with self._engine.connect() as connection:
                connection.execute(
                    text("SELECT pg_notify(:channel, :payload)"),
                    {"channel": self._wake, "payload": payload},
                )
                connection.commit()
        except Exception:  # the database is gone: the listener notices by itself
            logger.debug("registry watch: could not notify its listener", exc_info=True)
            return False
        return True

    def _wake_listener(self) -> None:
        self._notify_wake(_STOP)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as connection:
                    self._follow(connection)
            except psycopg.Error as exc:
                self._lost(type(exc).__name__)
            finally:
                self._listening = False
                self.forget()
            self._stop.wait(RETRY_SECONDS)

    def _lost(self, why: str) -> None:
        """Say so once per outage (the retries every few seconds would flood the log)."""
        if self._quiet:
            return
        self._quiet = True
        logger.warning(
            "registry watch: not listening (%s); every request reads the registry until it "
            "listens again",
            why,
        )

    def _connect(self) -> psycopg.Connection[Any]:
        assert self._engine is not None
        dialect = self._engine.dialect
        _args, params = dialect.create_connect_args(self._engine.url)
        params = {
            **params,
            "connect_timeout": 5,
            # A vanished server is noticed while idle, not at the next notification.
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "application_name": "ppsgate-registry-watch",
        }
        return psycopg.connect(autocommit=True, **params)

    def _follow(self, connection: psycopg.Connection[Any]) -> None:
        """Listen in rounds; each round proves that notifications still arrive."""
        connection.execute(f"LISTEN {CHANNEL}")
        connection.execute(f"LISTEN {self._wake}")
        if not _triggers_present(connection):
            self._lost("the change triggers are missing: run `ppsgate db upgrade`")
            self._stop.wait(POLL_SECONDS * 12)
            return
        self._reset.clear()
        self.forget()  # whatever changed before we listened
        while not self._stop.is_set() and not self._reset.is_set():
            if not self._round(connection):
                # A pooler in transaction mode, say: a LISTEN that hears nothing.
                self._lost("its own notification did not arrive")
                return

    def _round(self, connection: psycopg.Connection[Any]) -> bool:
        """Send a probe through another connection and follow the notifications for one
        poll interval; False when the probe was not delivered."""
        probe = uuid.uuid4().hex
        heard = False
        if not self._notify_wake(probe):
            return False
        for notice in connection.notifies(timeout=POLL_SECONDS):
            if notice.channel == CHANNEL:
                self.forget()
            elif notice.payload == _STOP or self._stop.is_set():
                return True
            elif notice.payload == probe and not heard:
                heard = True
                self._now_listening()
        return heard

    def _now_listening(self) -> None:
        if self._listening or self._reset.is_set():
            return
        self.forget()
        self._listening = True
        if self._quiet:
            logger.info("registry watch: listening again")
            self._quiet = False


def _watchable(engine: Engine | None, max_age_seconds: float) -> bool:
    return engine is not None and max_age_seconds > 0 and engine.dialect.name == "postgresql"


def _triggers_present(connection: psycopg.Connection[Any]) -> bool:
    row = connection.execute(
        "SELECT count(DISTINCT c.relname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " WHERE t.tgname = %s AND c.relname = ANY(%s) AND pg_table_is_visible(c.oid)",
        (TRIGGER, list(TABLES)),
    ).fetchone()
    return row is not None and row[0] == len(TABLES)


def _info(conn: Connection) -> dict[Any, Any] | None:
    """The connection's info, or ``None`` for a connection a disconnect invalidated (whose
    work is lost: nothing of it was committed)."""
    if conn.invalidated:
        return None
    try:
        return conn.info
    except SQLAlchemyError:
        return None


def _follow_own_writes(engine: Engine, watch: RegistryWatch) -> None:
    """Forget at once when this worker's own committed statement changed the registry."""

    @event.listens_for(engine, "after_cursor_execute")
    def _written(
        conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        head = statement.lstrip()[:8].lower()
        if head.startswith(_WRITES) and any(table in statement for table in TABLES):
            conn.info[_DIRTY] = True

    @event.listens_for(engine, "commit")
    def _committing(conn: Any) -> None:
        info = _info(conn)
        if info is not None and info.pop(_DIRTY, None):
            info[_COMMITTED] = True

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn: Any) -> None:
        info = _info(conn)
        if info is not None:
            info.pop(_DIRTY, None)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        # The commit event comes before the commit; back in the pool, it is visible to all.
        if record.info.pop(_COMMITTED, None):
            watch.forget()

    @event.listens_for(engine, "handle_error")
    def _failed(context: Any) -> None:
        if context.is_disconnect:
            watch.disconnected()
