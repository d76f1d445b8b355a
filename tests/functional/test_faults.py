"""Injected faults: a killed gateway, a lost database, a dead policy engine, a full disk.

* ``kill -9`` of a gateway *process* (uvicorn, configured from the environment) while it
  stores a 10,000-item batch and while it answers a 10,000-item match: after a restart each
  request is either fully there with its audit entry and its disclosures, or not there at
  all; acknowledged batches are all there; ``ppsgate audit verify`` passes. The quota charge
  commits before the request's transaction, so it may outlive a killed request (over-count
  by at most that request's items) but never goes missing or doubles.
* PostgreSQL lost (a TCP proxy between gateway and server is cut: refused, then stalled):
  requests fail with 503 problem+json within the configured timeout and succeed again when
  the path is restored, without restarting the gateway.
* Policy engine unavailable (a broken bundle, a stopped OPA stand-in): every request is
  denied with ``engine-unavailable`` and the denial is audited.
* A full SQLite database (``PRAGMA max_page_count``): a clear 503, nothing half-written,
  ``PRAGMA integrity_check`` is ``ok`` and writes work again once there is room.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from connectors.client import GatewayClient
from connectors.keystore import ConnectorKeys
from gateway.abuse.models import ProbeFingerprint, QuotaScope, QuotaUsage
from gateway.alerts.models import Disclosure
from gateway.app import create_app
from gateway.audit_trail import queries
from gateway.audit_trail.models import AuditEntry
from gateway.bootstrap import build_services
from gateway.cli.audit import app as audit_cli
from gateway.config import Settings
from gateway.db import transaction
from gateway.indicators.models import Indicator
from gateway.policy.bundle import load_bundle
from gateway.policy.opa_standin import StandInState, start_standin
from gateway.server import BackgroundServer
from gateway.services import Services
from tests.support.gateway import Gateway, running_gateway
from tests.support.gateway_process import GatewayProcess
from tests.support.policies import copy_policies
from tests.support.tcp_proxy import TcpProxy

BATCH = 10_000
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
SCREEN = {"purpose": "batch_screening", "legal_basis": "art6_1_c"}
# Seconds: connect, statement and pool timeouts of the proxied gateway. 3 rather than 2: in
# one CI run the set-up's key epoch (before any cut) took longer than 2 s on the loaded
# 2-core machine and the test failed before it began; the bound checked below scales with it.
DB_TIMEOUT = 3.0
FAULTS: list[tuple[str, str, bool]] = []  # (fault, client's view, effect committed)


@dataclass
class Deployment:
    """A gateway process plus what the test needs to drive and inspect it."""

    process: GatewayProcess
    services: Services
    clients: dict[str, tuple[str, ConnectorKeys]]

    def client(self, partner_id: str) -> GatewayClient:
        client_id, keys = self.clients[partner_id]
        return GatewayClient(self.process.url, client_id, keys, max_attempts=1)

    def count(self, model: Any, *where: Any) -> int:
        with transaction(self.services.session_factory) as session:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    def entries(self, tag: str) -> list[dict[str, Any]]:
        with transaction(self.services.session_factory) as session:
            rows = session.scalars(select(AuditEntry).where(AuditEntry.tag == tag)).all()
            return [json.loads(row.body) for row in rows]


@contextmanager
def deployment(
    database_url: str, tmp_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Deployment]:
    """Set up partners and an active epoch in-process, then serve from a separate process."""
    data_dir = tmp_path / "data"
    clients: dict[str, tuple[str, ConnectorKeys]] = {}
    with running_gateway(database_url, data_dir) as setup:
        for partner_id in ("marketplace-a", "bank-a"):
            partner = setup.partner(partner_id)
            assert partner.keys is not None
            clients[partner_id] = (partner.client_id, partner.keys)
    log = tmp_path / "gateway.log"
    process = GatewayProcess(database_url, data_dir, log, dict(extra_env or {})).start()
    services = build_services(process.settings())
    try:
        yield Deployment(process, services, clients)
    finally:
        process.stop()
        services.engine.dispose()


def indicators(count: int, reference: str) -> list[dict[str, Any]]:
    observed = (datetime.now(tz=UTC) - timedelta(hours=1)).isoformat()
    return [
        {
            "kind": "iban",
            "epoch": 1,
            "token": secrets.token_hex(32),
            "category": "purchase_fraud",
            "observed_at": observed,
            "reference": f"{reference}-{n}",
        }
        for n in range(count)
    ]


def usage(deploy: Deployment, partner_id: str, purpose: str) -> int:
    with transaction(deploy.services.session_factory) as session:
        used = session.scalar(
            select(func.coalesce(func.sum(QuotaUsage.used), 0)).where(
                QuotaUsage.scope == QuotaScope.PARTNER.value,
                QuotaUsage.subject == partner_id,
                QuotaUsage.purpose == purpose,
            )
        )
    return int(used or 0)


def writing(deploy: Deployment, table: str) -> bool:
    """Whether another connection holds an open write transaction (on ``table``)."""
    url = make_url(deploy.process.database_url)
    if url.get_backend_name() == "sqlite":
        probe = sqlite3.connect(str(url.database), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True  # "database is locked": the gateway's transaction is writing
        finally:
            probe.close()
    with deploy.services.engine.connect() as connection:
        return bool(
            connection.exec_driver_sql(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = %(table)s AND l.mode = 'RowExclusiveLock' "
                "AND l.pid <> pg_backend_pid()",
                {"table": table},
            ).scalar()
        )


def kill_during(deploy: Deployment, partner_id: str, path: str, body: Any, table: str) -> str:
    """Send one request, ``kill -9`` the gateway once its transaction writes ``table``.

    Returns where the kill landed as the client saw it: ``mid-transaction`` (the write was
    seen and the client got no answer), ``cut`` (no answer, write not seen) or ``answered``.
    """
    client = deploy.client(partner_id)
    client.access_token()  # the token request must not be what the kill interrupts
    outcome: list[str] = []

    def send() -> None:
        try:
            client.request("POST", path, json=body)
            outcome.append("answered")
        except Exception:  # noqa: BLE001 - the connection dies with the process
            outcome.append("cut")

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 30
    seen = False
    while not seen and not outcome and time.monotonic() < deadline:
        seen = writing(deploy, table)
        time.sleep(0.002)
    deploy.process.kill()
    sender.join(timeout=30)
    client.close()
    view = outcome[0] if outcome else "cut"
    return "mid-transaction" if seen and view == "cut" else view


def verify_audit_log(deploy: Deployment) -> str:
    """Sign a checkpoint over what the restarted log holds and verify it over HTTP.

    A request killed after reserving its audit number leaves a gap that the sequencer fills
    with an ``audit:sequence:void`` entry once its grace period passed; the checkpoint
    covers the contiguous prefix until then, and verification covers that checkpoint: the
    public tree over HTTP, and every entry's contents from the operator's export.
    """
    with transaction(deploy.services.session_factory) as session:
        deploy.services.audit.sign_checkpoint(session)
    key = deploy.services.audit.verifier_key
    result = CliRunner().invoke(
        audit_cli, ["verify", "--public-key", key, "--url", deploy.process.url]
    )
    assert result.exit_code == 0, result.output
    export = deploy.services.settings.data_dir / "audit-export.jsonl"
    with transaction(deploy.services.session_factory) as session:
        lines = queries.export_jsonl(
            session,
            queries.AuditFilter(),
            scope=None,
            origin=deploy.services.audit.origin,
            exported_at="2026-11-29T12:00:00.000000Z",
        )
        export.write_text("".join(lines), encoding="utf-8")
    full = CliRunner().invoke(audit_cli, ["verify", "--public-key", key, "--export", str(export)])
    assert full.exit_code == 0, full.output
    return result.output


@pytest.mark.slow
def test_kill_9_during_submission_and_match_loses_nothing(
    database_url: str, tmp_path: Path
) -> None:
    with deployment(database_url, tmp_path) as deploy:
        marketplace = deploy.client("marketplace-a")
        first = indicators(2_000, "a")
        assert (
            marketplace.post_json("/v1/indicators", {**SUBMIT, "items": first})["accepted"] == 2_000
        )
        marketplace.close()

        # 1. Killed while storing a 10,000-item batch.
        batch = {**SUBMIT, "items": indicators(BATCH, "b")}
        seen = kill_during(deploy, "marketplace-a", "/v1/indicators", batch, "indicators")
        deploy.process.start()
        stored = deploy.count(Indicator, Indicator.partner_id == "marketplace-a")
        submits = sorted(e["counts"]["accepted"] for e in deploy.entries("indicator:batch:submit"))
        assert stored in {2_000, 2_000 + BATCH}, f"a batch was stored in part: {stored}"
        assert submits == ([2_000, BATCH] if stored > 2_000 else [2_000])
        assert seen == "mid-transaction", "the kill did not land inside the transaction"
        assert seen != "answered" or stored > 2_000  # an answered batch is never lost
        charged = usage(deploy, "marketplace-a", "indicator_submission")
        assert sum(submits) <= charged <= sum(submits) + BATCH, (
            "a committed batch went uncharged, or more than the killed batch was over-charged"
        )

        # 2. Killed while answering a 10,000-item match: its quota charge and its 10,000
        # probe fingerprints commit in short transactions first, then the request's own
        # transaction writes the audit entry (with its 10,000-token detail); killed there.
        asked = [{"kind": "iban", "epoch": 1, "token": item["token"]} for item in first]
        asked += [
            {"kind": "iban", "epoch": 1, "token": secrets.token_hex(32)}
            for _ in range(BATCH - len(asked))
        ]
        query = {**SCREEN, "items": asked}
        seen_match = kill_during(deploy, "bank-a", "/v1/match", query, "audit_entries")
        deploy.process.start()
        answered = deploy.entries("match:query:allow")
        assert len(answered) in {0, 1}
        assert seen_match != "answered" or len(answered) == 1
        charged = usage(deploy, "bank-a", "batch_screening")
        assert BATCH * len(answered) <= charged <= BATCH, "match charge lost or doubled"
        assert deploy.count(ProbeFingerprint) in {BATCH * len(answered), BATCH}
        assert deploy.count(Disclosure) == 0  # uncorroborated hits are hidden, never recorded

        assert "OK" in verify_audit_log(deploy)
        FAULTS.append(("kill -9 during submission", seen, stored > 2_000))
        FAULTS.append(("kill -9 during match", seen_match, bool(answered)))


def match_body(gateway: Gateway) -> dict[str, Any]:
    bank = gateway.partner("bank-a")
    return {
        "purpose": "payment_screening",
        "legal_basis": "art6_1_c",
        "items": [bank.item("iban", "NL91ABNA0417164300")],
    }


def answer(gateway: Gateway, method: str, path: str, body: Any, timeout: float) -> httpx.Response:
    """One request with a hard client-side bound: a gateway that hangs fails the test."""
    token = gateway.partner("bank-a").client.access_token()
    return httpx.request(
        method,
        f"{gateway.url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
    )


def test_postgres_outage_fails_fast_with_503_and_recovers(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    if backend != "postgres":
        pytest.skip("the proxy stands between the gateway and PostgreSQL (SQLite: full-disk test)")
    target = make_url(database_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432).start()
    proxied = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    bound = DB_TIMEOUT * 4  # connect timeout, one reconnect after a dead pooled connection
    try:
        with running_gateway(proxied, tmp_path / "data", database_timeout_seconds=DB_TIMEOUT) as gw:
            body = match_body(gw)
            gw.partner("bank-a").client.access_token()
            assert answer(gw, "POST", "/v1/match", body, bound).status_code == 200
            for mode in ("refuse", "stall"):
                proxy.cut(mode)
                with ThreadPoolExecutor(max_workers=6) as pool:
                    outage = list(
                        pool.map(lambda _: answer(gw, "POST", "/v1/match", body, bound), range(12))
                    )
                for refused in outage:
                    assert refused.status_code == 503, refused.text
                    assert refused.headers["content-type"] == "application/problem+json"
                    assert refused.json()["code"] == "storage-unavailable"
                proxy.restore()
                # Back by itself, without a restart: the pool drops dead connections.
                statuses = []
                for _ in range(20):
                    statuses.append(answer(gw, "POST", "/v1/match", body, bound).status_code)
                    if statuses[-1] == 200:
                        break
                    time.sleep(0.25)
                assert statuses[-1] == 200, statuses
                FAULTS.append((f"PostgreSQL {mode}", f"{len(outage)} x 503", False))
    finally:
        proxy.stop()


@contextmanager
def served(settings: Settings, clock: Any) -> Iterator[str]:
    """A second gateway process-alike (own services) over the same database."""
    services = build_services(settings, clock=clock)
    server = BackgroundServer(create_app(settings, services=services)).start()
    try:
        yield server.url
    finally:
        server.stop()
        services.engine.dispose()


def refused_everything(gateway: Gateway, url: str) -> list[dict[str, Any]]:
    """Submit, match and watch through ``url``: every answer must be the fail-closed deny."""
    bank = gateway.partner("bank-a")
    token = bank.client.access_token()
    item = bank.item("iban", "NL91ABNA0417164300")
    requests = [
        ("POST", "/v1/match", match_body(gateway)),
        (
            "PUT",
            "/v1/watchlist",
            {"purpose": "watchlist_alerts", "legal_basis": "art6_1_f", "items": [item]},
        ),
        (
            "POST",
            "/v1/indicators",
            {
                **SUBMIT,
                "items": [
                    {**item, "category": "phishing", "observed_at": gateway.clock.now().isoformat()}
                ],
            },
        ),
    ]
    bodies = []
    for method, path, body in requests:
        response = httpx.request(
            method, f"{url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 403, response.text
        bodies.append(response.json())
        assert bodies[-1]["reasons"] == ["engine-unavailable"]
    return bodies


def denials(gateway: Gateway) -> int:
    with transaction(gateway.services.session_factory) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.decision == "deny")).all()
        return sum(json.loads(entry.body)["reasons"] == ["engine-unavailable"] for entry in entries)


def test_broken_policy_bundle_denies_everything_and_audits(
    database_url: str, tmp_path: Path
) -> None:
    broken = copy_policies(tmp_path / "policies")
    rule = broken / "gateway" / "decision" / "decision.rego"
    rule.write_text(rule.read_text() + "\nallow if {\n", encoding="utf-8")  # no longer parses
    with running_gateway(database_url, tmp_path / "data") as gateway:
        settings = gateway.services.settings.model_copy(update={"policy_dir": broken})
        with served(settings, gateway.clock) as url:
            refused_everything(gateway, url)
        assert denials(gateway) == 3
    FAULTS.append(("policy bundle broken", "3 x 403 engine-unavailable", False))


def test_stopped_opa_standin_denies_everything_and_audits(
    database_url: str, tmp_path: Path
) -> None:
    standin = start_standin(StandInState.from_bundle(load_bundle()))  # OPA STAND-IN
    try:
        with running_gateway(database_url, tmp_path / "data") as gateway:
            settings = gateway.services.settings.model_copy(update={"opa_url": standin.url})
            with served(settings, gateway.clock) as url:
                bank = gateway.partner("bank-a")
                allowed = httpx.post(
                    f"{url}/v1/match",
                    json=match_body(gateway),
                    headers={"Authorization": f"Bearer {bank.client.access_token()}"},
                )
                assert allowed.status_code == 200, allowed.text
                standin.stop()
                refused_everything(gateway, url)
            assert denials(gateway) == 3
    finally:
        standin.stop()
    FAULTS.append(("OPA stand-in stopped", "3 x 403 engine-unavailable", False))


def test_full_sqlite_database_is_a_clear_error_without_corruption(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("simulates a full disk with SQLite's max_page_count")
    path = str(make_url(database_url).database)
    with running_gateway(database_url, tmp_path / "data") as gateway:
        marketplace = gateway.partner("marketplace-a")

        def submit(reference: str, count: int) -> httpx.Response:
            observed = (gateway.clock.now() - timedelta(hours=1)).isoformat()
            items = [{**item, "observed_at": observed} for item in indicators(count, reference)]
            return httpx.post(
                f"{gateway.url}/v1/indicators",
                json={**SUBMIT, "items": items},
                headers={"Authorization": f"Bearer {marketplace.client.access_token()}"},
                timeout=60,
            )

        assert submit("before", 100).status_code == 200
        engine = gateway.services.engine

        def room_for_a_few_pages(connection: Any, _record: Any) -> None:
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            connection.execute(f"PRAGMA max_page_count = {pages + 4}")

        event.listen(engine, "connect", room_for_a_few_pages)
        engine.dispose()  # every new connection sees the limit: the "disk" is full
        try:
            refused = submit("full", 5_000)
        finally:
            event.remove(engine, "connect", room_for_a_few_pages)
            engine.dispose()
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "database is full" in refused.json()["detail"]

        with sqlite3.connect(path) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert check.execute("SELECT count(*) FROM indicators").fetchone() == (100,)
        again = submit("after", 5_000)  # room again: the same write now succeeds
        assert again.status_code == 200
        assert again.json()["accepted"] == 5_000
        with sqlite3.connect(path) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    FAULTS.append(("SQLite database full", "503 storage-unavailable", False))
