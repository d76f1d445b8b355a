"""The backup runbook of docs/operations.md, played: pg_dump, restore, verify the audit log.

A gateway on PostgreSQL records some work and publishes a signed tree head. The database is
dumped with ``pg_dump --format=custom`` and restored with ``pg_restore`` into a fresh
database; a gateway started on the restored database (same key files) serves a log that
``ppsgate audit verify`` accepts — also against the monitor state a privacy officer kept
from the original — and whose signed tree head is the one published before the backup.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from gateway.app import create_app
from gateway.bootstrap import build_services
from gateway.cli.audit import app as audit_cli
from gateway.db import transaction
from gateway.indicators.models import Indicator
from gateway.server import BackgroundServer
from tests.support.gateway import running_gateway

pytestmark = pytest.mark.skipif(
    shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
    reason="the PostgreSQL client tools (pg_dump, pg_restore) are not installed",
)


def libpq(url: str) -> str:
    """The libpq connection string the PostgreSQL tools take."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def restored_database(original: str, dump: Path) -> Iterator[str]:
    """A fresh database restored from ``dump``, dropped afterwards."""
    name = f"{make_url(original).database}_restored_{secrets.token_hex(3)}"
    admin = libpq(make_url(original).set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    target = make_url(original).set(database=name).render_as_string(hide_password=False)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", libpq(target), str(dump)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield target
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def verify(url: str, key: str, state: Path) -> str:
    result = CliRunner().invoke(
        audit_cli, ["verify", "--public-key", key, "--url", url, "--state", str(state), "--full"]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_pg_dump_restore_keeps_a_verifiable_log(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    if backend != "postgres":
        pytest.skip("the runbook is for PostgreSQL (SQLite: sqlite3 .backup, a file copy)")
    data_dir = tmp_path / "data"
    state = tmp_path / "officer-state.json"  # what a privacy officer keeps between checks
    with running_gateway(database_url, data_dir) as gateway:
        marketplace, bank = gateway.partner("marketplace-a"), gateway.partner("bank-a")
        observed = (gateway.clock.now() - timedelta(hours=1)).isoformat()
        for case in range(3):
            marketplace.post(
                "/v1/indicators",
                {
                    "purpose": "indicator_submission",
                    "legal_basis": "art6_1_f",
                    "items": [
                        {
                            **marketplace.item("iban", "NL91ABNA0417164300"),
                            "category": "purchase_fraud",
                            "observed_at": observed,
                            "reference": f"case-{case}",
                        }
                    ],
                },
            )
        bank.post(
            "/v1/match",
            {
                "purpose": "payment_screening",
                "legal_basis": "art6_1_c",
                "items": [bank.item("iban", "NL91ABNA0417164300")],
            },
        )
        with transaction(gateway.services.session_factory) as session:
            gateway.services.audit.sign_checkpoint(session)
        published = httpx.get(f"{gateway.url}/v1/audit/sth").json()
        key = gateway.services.audit.verifier_key
        verify(gateway.url, key, state)
        settings = gateway.services.settings

    dump = tmp_path / "ppsgate.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--file", str(dump), libpq(database_url)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert dump.stat().st_size > 0

    with restored_database(database_url, dump) as restored:
        services = build_services(settings.model_copy(update={"database_url": restored}))
        server = BackgroundServer(create_app(services.settings, services=services)).start()
        try:
            output = verify(server.url, key, state)
            after = httpx.get(f"{server.url}/v1/audit/sth").json()
            with transaction(services.session_factory) as session:
                reports = session.scalar(select(func.count()).select_from(Indicator))
        finally:
            server.stop()
            services.engine.dispose()
    assert f"size {published['tree_size']}" in output
    assert after == published  # the same signed tree head: nothing lost, nothing re-signed
    assert reports == 3
