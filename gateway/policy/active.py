"""The engine a running gateway decides with, following the active policy version.

Activation happens in the database (four eyes, see ``governance``), possibly from another
process; every gateway worker checks the active digest periodically and swaps its engine,
so all workers converge on the new version within one refresh interval. In OPA mode the
OPA server serves what was deployed to it, and the gateway only follows that.
"""

from __future__ import annotations

import json
import logging
import threading
import time

from sqlalchemy.orm import Session

from gateway.policy.decision import ENGINE_UNAVAILABLE, Decision, DecisionRequest, PolicyEngine
from gateway.policy.document import request_input
from gateway.policy.governance import active_version, stored_bundle
from gateway.policy.regorus_engine import RegorusEngine

logger = logging.getLogger(__name__)
CACHE_ENTRIES = 4096


class SwitchableEngine:
    """A :class:`PolicyEngine` whose underlying engine can be replaced atomically."""

    def __init__(
        self,
        engine: PolicyEngine,
        *,
        timeout_seconds: float,
        pinned: bool,
        cache_seconds: float = 0.0,
    ) -> None:
        self._engine = engine
        self._timeout = timeout_seconds
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Decision]] = {}
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
        """Decide, reusing an identical request's decision for ``cache_seconds``.

        A decision is a function of the request, the bundle (its digest is part of the key)
        and the clock (legal instruments' validity dates), so an identical request within a
        second gets the same answer; a real-time screening partner asks the same question
        hundreds of times a second, and the evaluation was ~15 % of a single match's CPU.
        Fail-closed answers (``engine-unavailable``) are never reused, and only the embedded
        engine's answers are: an OPA server that stops must deny from the next request on.
        """
        engine = self._engine
        if self._cache_seconds <= 0 or not isinstance(engine, RegorusEngine):
            return engine.decide(request)
        key = engine.digest + json.dumps(request_input(request), sort_keys=True)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        decision = engine.decide(request)
        if ENGINE_UNAVAILABLE not in decision.reason_codes:
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache = {}  # a burst of distinct requests: start over, stay bounded
            self._cache[key] = (now + self._cache_seconds, decision)
        return decision

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
            self._cache = {}
        logger.info("policy version %s active (was %s)", version.digest[:12], previous[:12])
        return True


def suppressed_tokens(engine: PolicyEngine) -> frozenset[bytes]:
    """The suppression list of whatever engine a process runs (empty when it has none)."""
    return engine.suppressed() if isinstance(engine, SwitchableEngine) else frozenset()
