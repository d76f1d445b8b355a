"""Periodic work inside a gateway process: follow the active policy and the pepper key ring,
purge what expired.

One daemon thread per process. The purge runs once per purge interval across all processes
on one database (workers and gateways on several machines alike): the first takes an
advisory lock and records its run in the audit log, the others skip their turn (see
:func:`gateway.retention.periodic_purge_due`). Policy refreshes are a cheap SELECT.
Failures are logged and retried on the next tick; they never stop the thread.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time

from gateway.db import transaction
from gateway.errors import GatewayError
from gateway.keys import pepper_binding
from gateway.policy.active import SwitchableEngine
from gateway.retention import periodic_purge_due, purge
from gateway.services import Services

logger = logging.getLogger(__name__)


class Maintenance:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_purge = time.monotonic() + services.settings.purge_interval_seconds

    def tick(self) -> None:
        """One round: refresh the policy, and purge when the purge interval has passed."""
        policy = self.services.policy
        with transaction(self.services.session_factory) as session:
            if isinstance(policy, SwitchableEngine):
                policy.follow_database(session)
            problems = pepper_binding.refresh(session, self.services.pepper)
        for problem in problems.values():
            logger.error("pepper key ring refused for an epoch: %s", problem)
        interval = self.services.settings.purge_interval_seconds
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + interval
            with transaction(self.services.session_factory) as session:
                if not periodic_purge_due(session, self.services.clock.now(), interval):
                    return
                counts = purge(
                    session,
                    self.services,
                    request_id=f"purge-{secrets.token_hex(6)}",
                    actor="gateway:retention",
                )
            logger.info("retention purge: %s", counts.counts)

    def _loop(self) -> None:
        interval = self.services.settings.maintenance_interval_seconds
        while not self._stop.wait(interval):
            try:
                self.tick()
            except GatewayError as exc:
                logger.warning("maintenance failed: %s", exc.diagnostics())
            except Exception:  # the thread must outlive a database outage or a bug
                logger.exception("maintenance failed unexpectedly")

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="maintenance", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
