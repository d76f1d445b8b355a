"""The embedded engine: regorus (Microsoft's Rust Rego interpreter) in this process.

Policies are parsed and checked once, when the engine is built. ``regorus.Engine`` is not
thread-safe, and stricter than that: its Python class is *unsendable*, so an engine (or its
``clone()``) may only ever be touched by the thread that created it — another thread gets
a Rust panic. Each thread therefore builds its own engine from the bundle's sources, once,
on its first decision, and keeps it in a ``threading.local``.

Every failure denies with ``engine-unavailable``: a bundle that does not load, an evaluation
error, an undefined or malformed decision, or a decision slower than the configured
timeout (the interpreter cannot be interrupted, so a late answer is discarded instead).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import regorus

from gateway.policy.bundle import UNDEFINED_JSON, PolicyBundle, load_bundle
from gateway.policy.catalog import ReasonCatalog
from gateway.policy.decision import Decision, DecisionRequest
from gateway.policy.document import (
    UNAVAILABLE_DIGEST,
    MalformedDecisionError,
    read_decision,
    request_input,
    unavailable,
)
from gateway.policy.errors import PolicyBundleError

logger = logging.getLogger(__name__)

# Decision documents already read and checked, by their exact JSON text (see ``decide``).
READ_DOCUMENTS = 256


def engine_error_text(exc: BaseException) -> str:
    """The useful part of a regorus error (its message, without the Rust backtrace)."""
    text = str(exc).split("Stack backtrace:", 1)[0]
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines)[:500] or type(exc).__name__


def new_engine(bundle: PolicyBundle, *, include_tests: bool = False) -> regorus.Engine:
    """A fresh regorus engine with the bundle's modules and data (raises on a bad bundle)."""
    engine = regorus.Engine()
    modules = bundle.modules if include_tests else bundle.policy_modules
    for module in modules:
        engine.add_policy(module.path, module.text)
    engine.add_data_json(bundle.engine_data_json())
    return engine


def evaluate_json(engine: regorus.Engine, rule: str, input_json: str | None) -> Any:
    """Evaluate one rule; ``None`` when undefined. Raises on evaluation errors."""
    if input_json is not None:
        engine.set_input_json(input_json)
    raw = engine.eval_rule_as_json(rule)
    if raw == UNDEFINED_JSON:
        return None
    return json.loads(raw)


class RegorusEngine:
    """The embedded :class:`~gateway.policy.decision.PolicyEngine`."""

    def __init__(
        self,
        bundle: PolicyBundle | None,
        *,
        timeout_seconds: float = 1.0,
        problem: str | None = None,
    ) -> None:
        self._bundle = bundle
        self._timeout = timeout_seconds
        self._problem = problem
        self._local = threading.local()
        self._read: dict[str, Decision] = {}
        self._rule = bundle.decision_rule if bundle is not None else ""
        if bundle is not None and problem is None:
            try:
                self._local.engine = new_engine(bundle)
            except Exception as exc:  # noqa: BLE001 - a bundle that does not compile denies all
                self._problem = f"bundle does not compile: {engine_error_text(exc)}"
        if self._problem is not None:
            logger.error("embedded policy engine unavailable: %s", self._problem)

    @classmethod
    def from_path(cls, path: Path | None, *, timeout_seconds: float = 1.0) -> RegorusEngine:
        """Load a bundle; a bundle that cannot be read gives an engine that denies all."""
        try:
            return cls(load_bundle(path), timeout_seconds=timeout_seconds)
        except PolicyBundleError as exc:
            return cls(None, timeout_seconds=timeout_seconds, problem=exc.diagnostics())

    @property
    def digest(self) -> str:
        return self._bundle.digest if self._bundle is not None else UNAVAILABLE_DIGEST

    @property
    def bundle(self) -> PolicyBundle | None:
        return self._bundle

    @property
    def catalog(self) -> ReasonCatalog | None:
        return self._bundle.catalog if self._bundle is not None else None

    @property
    def problem(self) -> str | None:
        """Why the engine denies everything, or ``None`` when it is healthy."""
        return self._problem

    def _thread_engine(self) -> regorus.Engine:
        engine: regorus.Engine | None = getattr(self._local, "engine", None)
        if engine is None:
            assert self._bundle is not None
            engine = new_engine(self._bundle)
            self._local.engine = engine
        return engine

    def evaluate(self, rule: str, input_document: dict[str, Any] | None = None) -> Any:
        """Evaluate any rule of the loaded policies (for the stand-in and tools); may raise."""
        if self._problem is not None or self._bundle is None:
            raise PolicyBundleError(self._problem or "no bundle loaded")
        payload = None if input_document is None else json.dumps(input_document)
        return evaluate_json(self._thread_engine(), rule, payload)

    def _read_document(self, raw: str) -> Decision:
        """The decision a document names; an identical document is read and checked once.

        The policy is evaluated for every request; only the reading of its answer is reused:
        the same JSON text from the same bundle is the same :class:`Decision` (a frozen
        value). Malformed documents are never remembered, so they fail closed every time.
        """
        known = self._read.get(raw)
        if known is not None:
            return known
        assert self._bundle is not None
        result = None if raw == UNDEFINED_JSON else json.loads(raw)
        decision = read_decision(
            result, catalog=self._bundle.catalog, expected_digest=self._bundle.digest
        )
        if len(self._read) >= READ_DOCUMENTS:
            self._read = {}  # many distinct answers: start over, stay bounded
        self._read[raw] = decision
        return decision

    def decide(self, request: DecisionRequest) -> Decision:
        """Decide one request; never raises, denies with ``engine-unavailable`` on failure."""
        if self._problem is not None or self._bundle is None:
            return unavailable(
                self.digest, self.catalog, detail=self._problem or "no bundle", request=request
            )
        try:
            # A worker thread's first decision compiles its own engine; that set-up is not
            # part of the decision's time limit.
            engine = self._thread_engine()
            engine.set_input_json(json.dumps(request_input(request)))
            started = time.perf_counter()
            raw = engine.eval_rule_as_json(self._rule)
            elapsed = time.perf_counter() - started
            if elapsed > self._timeout:
                return unavailable(
                    self.digest,
                    self.catalog,
                    detail=f"decision took {elapsed:.3f}s, over the {self._timeout}s limit",
                    request=request,
                )
            return self._read_document(raw)
        except MalformedDecisionError as exc:
            return unavailable(
                self.digest, self.catalog, detail=f"malformed decision: {exc}", request=request
            )
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - pyo3 panics are BaseException; fail closed
            return unavailable(
                self.digest,
                self.catalog,
                detail=f"evaluation error: {engine_error_text(exc)}",
                request=request,
            )
