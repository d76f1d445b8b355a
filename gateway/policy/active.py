"""The engine a running gateway decides with, following the active policy version.

Activation happens in the database (four eyes, see ``governance``), possibly from another
process; every gateway worker checks the active digest periodically and swaps its engine,
so all workers converge on the new version within one refresh interval. In OPA mode the
OPA server serves what was deployed to it, and the gateway only follows that.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session

from gateway.policy.decision import Decision, DecisionRequest, PolicyEngine
from gateway.policy.governance import active_version, stored_bundle
from gateway.policy.regorus_engine import RegorusEngine

logger = logging.getLogger(__name__)


class SwitchableEngine:
    """A :class:`PolicyEngine` whose underlying engine can be replaced atomically."""

    def __init__(self, engine: PolicyEngine, *, timeout_seconds: float, pinned: bool) -> None:
        self._engine = engine
        self._timeout = timeout_seconds
        self._lock = threading.Lock()
        self._suppressed: dict[str, frozenset[bytes]] = {}
        #: True when PPSGATE_POLICY_DIR or OPA names the policies: the database does not.
        self.pinned = pinned

    @property
    def digest(self) -> str:
        return self._engine.digest

    @property
    def current(self) -> PolicyEngine:
        return self._engine

    def suppressed(self) -> frozenset[bytes]:
        """Peppered tokens on the bundle's suppression list (``data/suppression.json``).

        Read from the loaded bundle's data, so the list is versioned and governed with the
        policies. With an OPA server the gateway holds no bundle and this is empty: the
        ``identifier-suppressed`` rule then still refuses requests that carry such tokens.
        """
        bundle = getattr(self._engine, "bundle", None)
        if bundle is None:
            return frozenset()
        cached = self._suppressed.get(bundle.digest)
        if cached is None:
            tokens = bundle.data.get("suppression", {}).get("tokens", [])
            cached = frozenset(bytes.fromhex(str(token)) for token in tokens)
            self._suppressed = {bundle.digest: cached}
        return cached

    def decide(self, request: DecisionRequest) -> Decision:
        return self._engine.decide(request)

    def follow_database(self, session: Session) -> bool:
        """Switch to the active version if it changed; returns True when it switched."""
        if self.pinned:
            return False
        version = active_version(session)
        if version is None or version.digest == self._engine.digest:
            return False
        engine = RegorusEngine(stored_bundle(version), timeout_seconds=self._timeout)
        with self._lock:
            previous, self._engine = self._engine.digest, engine
        logger.info("policy version %s active (was %s)", version.digest[:12], previous[:12])
        return True


def suppressed_tokens(engine: PolicyEngine) -> frozenset[bytes]:
    """The suppression list of whatever engine a process runs (empty when it has none)."""
    return engine.suppressed() if isinstance(engine, SwitchableEngine) else frozenset()
