"""A PostgreSQL server that stops answering fails requests fast, as an operator would try it.

The test starts a PostgreSQL of its own (never the shared one), serves a gateway from it and
freezes the server with ``SIGSTOP`` of its postmaster and backends: the kernel still accepts
connections and acknowledges data, so neither the server's ``statement_timeout`` nor TCP
notices anything, as with a hung host. Requests started meanwhile must fail with a 503
problem+json (with ``Retry-After``) within the configured timeout plus one second, and the
gateway must answer again without a restart once the server resumes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.functional.test_faults import FAULTS, match_body
from tests.support import postgres_server
from tests.support.gateway import Gateway, running_gateway
from tests.support.postgres_server import PostgresServer

TIMEOUT = 2.0  # PPSGATE_DATABASE_TIMEOUT_SECONDS of the gateway under test
FROZEN_FOR = 7.0  # seconds; requests start throughout


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    reason = postgres_server.available()
    if reason:
        pytest.skip(reason)
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


def timed(gateway: Gateway, body: dict[str, Any], token: str) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = httpx.post(
        f"{gateway.url}/v1/match",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=FROZEN_FOR * 3,  # the gateway's bound is under test, not the client's
    )
    return time.monotonic() - started, response


@pytest.mark.slow
def test_frozen_postgres_fails_requests_within_the_timeout_and_recovers(
    own_postgres: PostgresServer, tmp_path: Path
) -> None:
    url = own_postgres.create_database()
    with running_gateway(url, tmp_path / "data", database_timeout_seconds=TIMEOUT) as gateway:
        body = match_body(gateway)
        token = gateway.partner("bank-a").client.access_token()
        assert timed(gateway, body, token)[1].status_code == 200

        own_postgres.freeze()
        frozen_at = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                futures = []
                while time.monotonic() - frozen_at < FROZEN_FOR - TIMEOUT - 1:
                    futures += [pool.submit(timed, gateway, body, token) for _ in range(3)]
                    time.sleep(0.7)
                outcomes = [future.result() for future in futures]
        finally:
            own_postgres.thaw()

        slowest = max(elapsed for elapsed, _ in outcomes)
        for elapsed, response in outcomes:
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "storage-unavailable"
            assert int(response.headers["retry-after"]) > 0
            assert elapsed <= TIMEOUT + 1, f"a request waited {elapsed:.1f} s"

        # Back by itself once the server answers again: no gateway restart.
        deadline = time.monotonic() + 20
        while (status := timed(gateway, body, token)[1].status_code) != 200:
            assert time.monotonic() < deadline, f"still {status} after the server resumed"
            time.sleep(0.25)
        seen = f"{len(outcomes)} x 503, slowest {slowest:.1f} s"
        FAULTS.append(("PostgreSQL frozen (SIGSTOP)", seen, False))
