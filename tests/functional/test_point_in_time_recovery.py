"""Point-in-time recovery with pgBackRest, played as docs/operations.md tells an operator.

A PostgreSQL of the test's own archives its WAL with pgBackRest to a local repository and
has a full backup. A gateway stores submissions and publishes a checkpoint; then an
accidental ``DELETE`` removes every indicator. The runbook's commands restore the cluster to
the moment before the ``DELETE``: the indicators are back, and the restored audit log is
contiguous, verifies and extends the checkpoint published before that moment.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from audit.merkle import verify_consistency
from gateway.app import create_app
from gateway.audit_trail import checkpoints, store
from gateway.bootstrap import build_services
from gateway.config import load_settings
from gateway.db import transaction
from gateway.indicators.models import Indicator
from gateway.server import BackgroundServer
from gateway.services import Services
from tests.functional.test_faults import indicators
from tests.functional.test_gateway_cluster import contiguous_size, verify_through
from tests.support import postgres_server
from tests.support.gateway import running_gateway
from tests.support.postgres_server import PostgresServer, run

STANZA = "ppsgate"
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}


class Backrest:
    """pgBackRest with a configuration file of its own beside the cluster."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.config = server.root / "pgbackrest.conf"
        run(["mkdir", "-p", str(server.root / "repo"), str(server.root / "pgbackrest")])
        self.config.write_text(
            "[global]\n"
            f"repo1-path={server.root / 'repo'}\n"
            "repo1-retention-full=2\n"
            f"log-path={server.root / 'pgbackrest'}\n"
            f"lock-path={server.root / 'pgbackrest'}\n"
            "start-fast=y\n"
            "log-level-console=warn\n"
            f"[{STANZA}]\n"
            f"pg1-path={server.data}\n"
            f"pg1-port={server.port}\n"
            f"pg1-socket-path={server.root}\n",
            encoding="utf-8",
        )

    def __call__(self, *args: str) -> str:
        return run(
            ["pgbackrest", f"--config={self.config}", f"--stanza={STANZA}", *args], timeout=180
        )

    @property
    def archive_command(self) -> str:
        push = f"pgbackrest --config={self.config} --stanza={STANZA} archive-push %p"
        return f"archive_command = '{push}'"


def wait_past_backup_stop(backrest: Backrest) -> None:
    info = json.loads(backrest("--output=json", "info"))
    stop = max(int(b["timestamp"]["stop"]) for stanza in info for b in stanza["backup"])
    while time.time() < stop + 1.5:
        time.sleep(0.2)


@pytest.fixture
def archived_postgres() -> Iterator[tuple[PostgresServer, Backrest]]:
    if reason := postgres_server.available():
        pytest.skip(reason)
    if shutil.which("pgbackrest") is None:
        pytest.skip("pgBackRest is not installed (Debian: pgbackrest)")
    server = PostgresServer().initdb()
    backrest = Backrest(server)
    server.configure("wal_level = replica", "archive_mode = on", backrest.archive_command)
    try:
        server.start()
        yield server, backrest
    finally:
        server.stop()


@contextmanager
def reopened(url: str, data_dir: Path) -> Iterator[tuple[Services, str]]:
    """The gateway started again on the (restored) database, with the same key files."""
    settings = load_settings(env="test", data_dir=data_dir, database_url=url)
    services = build_services(settings)
    server = BackgroundServer(create_app(settings, services=services)).start()
    try:
        yield services, server.url
    finally:
        server.stop()
        services.engine.dispose()


def count_indicators(services: Services) -> int:
    with transaction(services.session_factory) as session:
        return int(session.scalar(select(func.count()).select_from(Indicator)) or 0)


@pytest.mark.slow
def test_restore_to_before_an_accidental_delete(
    archived_postgres: tuple[PostgresServer, Backrest], tmp_path: Path
) -> None:
    server, backrest = archived_postgres
    url = server.create_database()
    conninfo = f"host=127.0.0.1 port={server.port} user=postgres dbname=ppsgate"
    backrest("stanza-create")
    backrest("--type=full", "backup")  # runbook step 1: a base backup, WAL archived since
    # A time target must lie after the backup's recorded stop time, which pgBackRest keeps in
    # whole seconds: wait past it, or a fast run could ask for a moment inside that second.
    wait_past_backup_stop(backrest)

    data_dir = tmp_path / "data"
    with running_gateway(url, data_dir) as gateway:
        market = gateway.partner("marketplace-a")
        for batch in range(3):
            market.post("/v1/indicators", {**SUBMIT, "items": indicators(50, f"r{batch}")})
        with transaction(gateway.services.session_factory) as session:
            published = gateway.services.audit.sign_checkpoint(session)
        assert published is not None
        with psycopg.connect(conninfo) as connection:  # the moment to return to
            target = connection.execute("SELECT clock_timestamp()").fetchone()[0]
        time.sleep(1)
        with psycopg.connect(conninfo) as connection:  # the accident
            connection.execute("DELETE FROM indicators")
    with reopened(url, data_dir) as (services, _):
        assert count_indicators(services) == 0

    # Runbook: archive the current WAL, stop, restore to the moment, start.
    backrest("check")
    server.shut_down()
    backrest(
        "--delta",
        "--type=time",
        f"--target={target.isoformat(sep=' ')}",
        "--target-action=promote",
        "restore",
    )
    server.start()

    with reopened(url, data_dir) as (services, served_at):
        assert count_indicators(services) == 150
        size = contiguous_size(services)
        assert size >= published.tree_size
        verify_through(services, served_at)  # signs the restored head and verifies it all
        with transaction(services.session_factory) as session:
            latest = checkpoints.latest(session)
            assert latest is not None
            proof = store.consistency_proof(session, published.tree_size, latest.tree_size)
        verify_consistency(
            published.tree_size, latest.tree_size, published.root_hash, latest.root_hash, proof
        )
