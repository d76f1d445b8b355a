"""A worker runs no more blocking calls at once than its request pool has connections."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread

from gateway.clock import FixedClock
from tests.functional.auth_helpers import START, build_app, make_settings, serve


def _tokens() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


def test_the_thread_pool_matches_the_database_pool(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, database_pool_size=3)
    app, services = build_app(settings, FixedClock(START))
    try:
        with serve(app) as http:
            assert http.portal is not None
            # pool_size connections plus as many overflow: 6 threads, not anyio's 40.
            assert http.portal.call(_tokens) == 6
    finally:
        services.engine.dispose()
