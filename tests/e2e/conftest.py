"""Browser fixtures: Debian's Chromium driven by Playwright, against a loopback gateway.

The browser is the system's ``/usr/bin/chromium`` (``.ci/run`` installs it); Playwright's own
browser downloads are never used. Without it the tests skip with a reason, except in CI
(``CI=true``), where a missing browser fails the run. Screenshots go to ``docs/img/`` when
``PPSGATE_UPDATE_SCREENSHOTS=1``, otherwise to the test's temporary directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.db import build_engine
from gateway.migrate import upgrade
from tests.e2e.console_setup import Console, prepare
from tests.support.databases import in_ci
from tests.support.gateway import running_gateway

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]


def _need_browser() -> None:
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is absent (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (dev extra)"
    if problem:
        if in_ci():
            pytest.fail(f"end-to-end tests need a browser in CI: {problem}")
        pytest.skip(problem)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """One gateway with the demo story for the whole module (the tests only read it)."""
    _need_browser()
    directory = tmp_path_factory.mktemp("e2e")
    url = f"sqlite+pysqlite:///{directory / 'ppsgate.sqlite3'}"
    engine = build_engine(load_settings(database_url=url))
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    with running_gateway(url, directory / "data") as gateway:
        yield prepare(gateway)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: docs/img when updating them, else a temporary directory."""
    if os.environ.get("PPSGATE_UPDATE_SCREENSHOTS") == "1":
        return REPO_ROOT / "docs" / "img"
    return tmp_path
