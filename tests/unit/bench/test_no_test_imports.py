"""Benchmarks do not import tests: what both need lives in ``bench`` (tests import it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


def imported_modules(source: str) -> list[str]:
    """Every module an ``import`` or ``from ... import`` in ``source`` names (any depth)."""
    modules: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
    return modules


def imports_tests(source: str) -> list[str]:
    return [
        module
        for module in imported_modules(source)
        if module == "tests" or module.startswith("tests.")
    ]


def test_the_check_sees_test_imports_wherever_they_are() -> None:
    source = (
        "import os\n"
        "from tests.support.evaluators import start_evaluator\n"
        "def main():\n"
        "    import tests.unit.evaluator.support as support\n"
        "    from tests import conftest\n"
        "from testsuite import x\n"
    )
    assert imports_tests(source) == [
        "tests.support.evaluators",
        "tests.unit.evaluator.support",
        "tests",
    ]


def test_bench_has_modules_to_check() -> None:
    assert len(list(BENCH.glob("*.py"))) > 5


@pytest.mark.parametrize("path", sorted(BENCH.glob("*.py")), ids=lambda path: path.name)
def test_no_benchmark_imports_tests(path: Path) -> None:
    assert imports_tests(path.read_text(encoding="utf-8")) == [], (
        f"bench/{path.name} imports test code; move what it needs into bench/ or a package"
    )
