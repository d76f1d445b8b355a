"""Several worker processes on one PostgreSQL database stay correct.

``ppsgate serve --workers 2`` runs as a real subprocess on a loopback port, beside the test's
own in-process gateway (which registers the partners and the key epoch). Concurrent clients,
each on its own connection, reach both workers; afterwards the audit log is contiguous and
its signed root covers every entry, a write sent concurrently with one Idempotency-Key took
effect once, and alerts were created once each and are read back in order.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from audit.merkle import root_from_hashes
from connectors.client import GatewayClient
from gateway.audit_trail.models import AuditCheckpoint, AuditEntry
from gateway.db import transaction
from gateway.indicators.models import Indicator
from gateway.server import free_port
from tests.support.gateway import Gateway, Partner, running_gateway

SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
WATCH = {"purpose": "watchlist_alerts", "legal_basis": "art6_1_f"}
SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}
WORKERS = 2
CONCURRENCY = 8
# Synthetic IBANs with valid check digits (bench/generate.py makes them the same way).
IBANS = [
    "NL10ABNA5969183373", "NL80KNAB3117513184", "NL62BUNQ8328658927", "NL45ASNB9581498847",
    "NL91ABNA0417164300", "NL44RABO0123456789",
]  # fmt: skip


@contextmanager
def workers(gateway: Gateway, database_url: str, data_dir: Path) -> Iterator[str]:
    """``ppsgate serve --workers 2`` on the same database and keys as ``gateway``."""
    port = free_port()
    env = {
        **os.environ,
        "PPSGATE_ENV": "test",
        "PPSGATE_DATA_DIR": str(data_dir),
        "PPSGATE_DATABASE_URL": database_url,
        "PPSGATE_DATABASE_POOL_SIZE": "4",
        "PPSGATE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PPSGATE_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--workers", str(WORKERS)], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"ppsgate serve exited with {process.returncode}"
            try:
                if httpx.get(f"{url}/v1/audit/sth", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "ppsgate serve --workers did not start"
            time.sleep(0.2)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        if children.exists():  # Linux: the supervisor really runs separate worker processes
            pids = children.read_text().split()
            commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in pids]
            assert sum(b"spawn_main" in command for command in commands) == WORKERS
        yield url
    finally:
        process.terminate()
        process.wait(30)


def client_on(url: str, partner: Partner) -> Callable[[], GatewayClient]:
    """A factory of clients for ``partner`` on ``url``: one per thread, one connection each."""
    assert partner.keys is not None
    keys = partner.keys
    return lambda: GatewayClient(url, partner.client_id, keys, max_attempts=1)


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return list(pool.map(lambda call: call(), calls))


def report_items(gw: Gateway, partner: Partner, iban: str, *refs: str) -> list[dict[str, Any]]:
    observed = (datetime.now(tz=UTC) - timedelta(hours=1)).isoformat()
    return [
        {**partner.item("iban", iban), "category": "purchase_fraud", "observed_at": observed,
         "reference": ref}
        for ref in refs
    ]  # fmt: skip


def wait_for_contiguous_log(gw: Gateway, timeout: float = 30.0) -> int:
    """Integrate until the tree covers every reserved number (voids fill abandoned ones)."""
    deadline = time.monotonic() + timeout
    while True:
        with transaction(gw.services.session_factory) as session:
            size = gw.services.audit.integrate(session)
            reserved = session.scalar(select(func.count()).select_from(AuditEntry))
            top = session.scalar(select(func.max(AuditEntry.seq)))
        if top is not None and size == top + 1 == reserved:
            return size
        assert time.monotonic() < deadline, f"tree {size}, entries {reserved}, top {top}"
        time.sleep(0.5)


@pytest.mark.slow
def test_several_workers_keep_audit_idempotency_and_alerts_correct(
    database_url: str, backend: str, tmp_path: Path
) -> None:
    if backend != "postgres":
        pytest.skip("several workers need PostgreSQL; `serve --workers` refuses SQLite")
    with running_gateway(database_url, tmp_path) as gw:
        bank, market = gw.partner("bank-a"), gw.partner("marketplace-a")
        watched = bank.call("PUT", "/v1/watchlist", {**WATCH, "items": [
            bank.item("iban", iban) for iban in IBANS[:4]]})  # fmt: skip
        watch_ids = {row["watch_id"] for row in watched["results"]}
        with workers(gw, database_url, tmp_path) as url:
            new_market, new_bank = client_on(url, market), client_on(url, bank)

            # One Idempotency-Key, sent by eight connections at once: one effect.
            body = {**SUBMIT, "items": report_items(gw, market, IBANS[5], "same-1", "same-2")}

            def submit_once() -> httpx.Response:
                with new_market() as client:
                    return client.request(
                        "POST", "/v1/indicators", json=body, idempotency_key="nightly-2026-11-29"
                    )

            answers = in_parallel([submit_once] * CONCURRENCY)
            assert {a.status_code for a in answers} == {200}
            assert len({a.text for a in answers}) == 1  # every caller got the first answer
            assert answers[0].json()["accepted"] == 2

            # Four watched IBANs cross the alert threshold in four concurrent batches.
            def cross(iban: str) -> dict[str, Any]:
                items = report_items(gw, market, iban, "c-1", "c-2", "c-3")
                with new_market() as client:
                    return client.request("POST", "/v1/indicators", json={**SUBMIT, "items": items}
                                          ).json()  # fmt: skip

            assert [r["accepted"] for r in in_parallel([lambda i=i: cross(i) for i in IBANS[:4]])
                    ] == [3, 3, 3, 3]  # fmt: skip

            # Matches from many connections at once, while the sequencers of three processes run.
            def screen(iban: str) -> dict[str, Any]:
                with new_bank() as client:
                    item = bank.item("iban", iban)
                    return client.request("POST", "/v1/match", json={**SCREEN, "items": [item]}
                                          ).json()  # fmt: skip

            screened = in_parallel([lambda i=i: screen(i) for i in IBANS * 4])
            # IBANS[4] was never reported; IBANS[5] twice (the idempotent batch).
            assert [s["results"][0]["hit"] for s in screened] == [i != IBANS[4] for i in IBANS] * 4

            with new_bank() as client:
                page = client.request("GET", "/v1/alerts").json()["alerts"]
        assert [a["type"] for a in page] == ["alert"] * 4
        assert {a["watch_id"] for a in page} == watch_ids  # one alert per watched IBAN
        cursors = [a["cursor"] for a in page]
        assert cursors == sorted(set(cursors))  # strictly increasing: read in order

        with transaction(gw.services.session_factory) as session:
            stored = session.scalar(
                select(func.count()).select_from(Indicator).where(
                    Indicator.token_hash == gw.services.pepper.token(
                        market.item("iban", IBANS[5])["token"], epoch=1))
            )  # fmt: skip
            submits = session.scalar(
                select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.tag == "indicator:batch:submit",
                    AuditEntry.actor_partner == "marketplace-a")
            )  # fmt: skip
        assert stored == 2  # the idempotent batch's two reports, once
        assert submits == 1 + 4  # one for the idempotent batch, one per crossing batch

        size = wait_for_contiguous_log(gw)
        with transaction(gw.services.session_factory) as session:
            gw.services.audit.sign_checkpoint(session)  # None if a worker signed this size
            latest = session.scalars(
                select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
            ).one()
            leaves = session.scalars(select(AuditEntry.leaf_hash).order_by(AuditEntry.seq)).all()
            seqs = session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
        assert seqs == list(range(size))
        assert latest.tree_size == size
        assert bytes(latest.root_hash) == root_from_hashes([bytes(h) for h in leaves])
