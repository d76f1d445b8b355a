"""Round trips of one single match, counted with engine events on both pools (issue #22).

Statements are counted, not timed: a regression that adds a statement or a transaction to
the quota charge or the enumeration statistics of a single ``POST /v1/match`` fails here.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, Engine, event

from tests.support.gateway import Gateway

SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}


class RoundTrips:
    """Statements and explicit transactions (BEGIN, COMMIT) per pool, with their SQL."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.statements: list[tuple[str, str]] = []

    def listen(self, pool: str, engine: Engine) -> list[tuple[str, Any]]:
        def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
            self.counts[(pool, "statement")] += 1
            self.statements.append((pool, sql))

        def transaction(kind: str) -> Any:
            def count(conn: Connection, *_args: Any) -> None:
                if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                    self.counts[(pool, kind)] += 1

            return count

        handlers = [
            ("before_cursor_execute", statement),
            ("begin", transaction("begin")),
            ("commit", transaction("commit")),
        ]
        for name, handler in handlers:
            event.listen(engine, name, handler)
        return handlers

    def on(self, pool: str, kind: str = "statement") -> int:
        return self.counts[(pool, kind)]


@contextmanager
def counting(gateway: Gateway) -> Iterator[RoundTrips]:
    trips = RoundTrips()
    engines = {"request": gateway.services.engine, "counter": gateway.services.counter_engine}
    listening = [(engine, trips.listen(pool, engine)) for pool, engine in engines.items()]
    try:
        yield trips
    finally:
        for engine, handlers in listening:
            for name, handler in handlers:
                event.remove(engine, name, handler)


def single_match(gateway: Gateway, token: str) -> httpx.Response:
    bank = gateway.partner("bank-a")
    item = {"kind": "iban", "epoch": bank.tokeniser.epoch, "token": secrets.token_hex(32)}
    return httpx.post(
        f"{gateway.url}/v1/match",
        json={**SCREEN, "items": [item]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


# Round trips are counted on PostgreSQL (SQLite keeps a local transaction).
@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_one_single_match_charges_and_counts_in_two_autocommit_statements(
    gateway: Gateway, backend: str
) -> None:
    token = gateway.partner("bank-a").client.access_token()
    assert single_match(gateway, token).status_code == 200  # warm: caches, the window's rows
    with counting(gateway) as trips:
        assert single_match(gateway, token).status_code == 200
    counter_sql = [sql for pool, sql in trips.statements if pool == "counter"]
    # The charge (both meters in one upsert) and the statistics (fingerprints and totals):
    # one autocommit statement each, no BEGIN or COMMIT around them.
    assert trips.on("counter") == 2, counter_sql
    assert (trips.on("counter", "begin"), trips.on("counter", "commit")) == (0, 0)
    assert "INSERT INTO abuse_quota_usage" in counter_sql[0]
    assert "abuse_probe_fingerprints" in counter_sql[1]
    # The request's own transaction never touches a counter row (no alert was raised).
    request_sql = [sql for pool, sql in trips.statements if pool == "request"]
    assert not [sql for sql in request_sql if "abuse_quota_usage" in sql]


# SQLite reads the registry on every request (no notifications).
@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_single_match_reads_no_registry_while_the_worker_listens(
    gateway: Gateway, backend: str
) -> None:
    """PostgreSQL: the client's registration and the epochs come from the worker's memory
    (gateway.registry_watch), so a single match is the lookup, the audit entry and the
    commit on the request pool (beside the audit log's background work on the same pool)."""
    deadline = time.monotonic() + 20
    while not gateway.services.registry.listening:
        assert time.monotonic() < deadline, "the registry watch never listened"
        time.sleep(0.01)
    token = gateway.partner("bank-a").client.access_token()
    assert single_match(gateway, token).status_code == 200  # read once, remembered
    with counting(gateway) as trips:
        assert single_match(gateway, token).status_code == 200
    request_sql = [sql for pool, sql in trips.statements if pool == "request"]
    registry = ("partner_clients", "key_epochs", "FROM partners")
    assert request_sql, "the request's own statements were not seen"
    assert not [sql for sql in request_sql if any(table in sql for table in registry)]
