"""Running the Rego unit tests (``test_*`` rules in ``*_test.rego``), like ``opa test``.

Tests are discovered in the bundle's test modules and evaluated through whichever engine
is configured: a test passes only when its rule evaluates to ``true``; ``false`` or an
undefined result fails it, and an evaluation error is reported as an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gateway.policy.bundle import PolicyBundle
from gateway.policy.regorus_engine import engine_error_text, evaluate_json, new_engine

_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_[A-Za-z0-9_]*)\b", re.MULTILINE)

Evaluator = Callable[[str], Any]


class Outcome(StrEnum):
    PASSED = "pass"
    FAILED = "fail"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class RegoTest:
    path: str
    line: int
    package: str
    name: str

    @property
    def rule(self) -> str:
        return f"data.{self.package}.{self.name}"


@dataclass(frozen=True, slots=True)
class RegoTestResult:
    test: RegoTest
    outcome: Outcome
    detail: str = ""


def discover(bundle: PolicyBundle) -> list[RegoTest]:
    """Every distinct ``test_*`` rule of every test module, in file and line order."""
    tests: list[RegoTest] = []
    for module in bundle.test_modules:
        package = _PACKAGE.search(module.text)
        if package is None:
            continue
        seen: set[str] = set()
        for match in _TEST_RULE.finditer(module.text):
            name = match.group(1)
            if name in seen:
                continue
            seen.add(name)
            line = module.text.count("\n", 0, match.start()) + 1
            tests.append(RegoTest(module.path, line, package.group(1), name))
    return tests


def run_tests(tests: list[RegoTest], evaluate: Evaluator) -> list[RegoTestResult]:
    """Evaluate each test rule with ``evaluate`` (rule reference -> value, ``None`` undefined)."""
    results: list[RegoTestResult] = []
    for test in tests:
        try:
            value = evaluate(test.rule)
        except Exception as exc:  # noqa: BLE001 - one broken test must not stop the others
            results.append(RegoTestResult(test, Outcome.ERROR, engine_error_text(exc)))
            continue
        if value is True:
            results.append(RegoTestResult(test, Outcome.PASSED))
        else:
            shown = "undefined" if value is None else repr(value)[:80]
            results.append(RegoTestResult(test, Outcome.FAILED, f"evaluated to {shown}"))
    return results


def embedded_evaluator(bundle: PolicyBundle) -> Evaluator:
    """An evaluator on a fresh regorus engine holding the policies and their tests."""
    engine = new_engine(bundle, include_tests=True)
    return lambda rule: evaluate_json(engine, rule, "{}")
