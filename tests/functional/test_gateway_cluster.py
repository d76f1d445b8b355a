"""Several gateway processes behind HAProxy, one of them killed under load.

Two gateway processes on different loopback ports (as two machines would be) share one
PostgreSQL database and one set of keys, behind HAProxy (Debian's package, configured as in
docs/scaling.md). Connector clients send matches and submissions at a steady rate through
the proxy; one gateway is killed with ``kill -9`` mid-run. Only the requests that were
inside it fail; every acknowledged submission is stored with its audit entry, the audit log
stays contiguous and verifies, and the periodic purge ran once per interval across both.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from connectors.client import GatewayClient
from connectors.keystore import ConnectorKeys
from gateway.audit_trail.models import AuditEntry
from gateway.audit_trail.store import as_utc
from gateway.bootstrap import build_services
from gateway.cli.audit import app as audit_cli
from gateway.db import transaction
from gateway.indicators.models import Indicator
from gateway.server import free_port
from gateway.services import Services
from tests.support import haproxy
from tests.support.gateway import running_gateway
from tests.support.gateway_process import GatewayProcess
from tests.support.haproxy import Haproxy
from tests.support.steady_load import Outcome, SteadyLoad, acknowledged, failed, figures

PURGE_INTERVAL = 1.0  # seconds, so that the test sees many turns of the periodic purge
LOAD_THREADS = 4
REPORT: dict[str, object] = {}


@dataclass
class Cluster:
    proxy: Haproxy
    gateways: list[GatewayProcess]
    services: Services  # the test's own view of the shared database
    clients: dict[str, tuple[str, ConnectorKeys]]

    def client(self, partner_id: str) -> GatewayClient:
        client_id, keys = self.clients[partner_id]
        return GatewayClient(self.proxy.url, client_id, keys, max_attempts=1)


@contextmanager
def cluster(database_url: str, tmp_path: Path, size: int = 2) -> Iterator[Cluster]:
    data_dir = tmp_path / "data"
    clients: dict[str, tuple[str, ConnectorKeys]] = {}
    with running_gateway(database_url, data_dir) as setup:
        for partner_id in ("marketplace-a", "bank-a"):
            partner = setup.partner(partner_id)
            assert partner.keys is not None
            clients[partner_id] = (partner.client_id, partner.keys)
    ports = [free_port() for _ in range(size)]
    proxy = Haproxy(ports)
    shared = {  # one public URL (the proxy's): tokens and assertions name it
        "PPSGATE_PUBLIC_URL": proxy.url,
        "PPSGATE_DATABASE_POOL_SIZE": "4",
        "PPSGATE_MAINTENANCE_INTERVAL_SECONDS": "0.2",
        "PPSGATE_PURGE_INTERVAL_SECONDS": str(PURGE_INTERVAL),
    }
    gateways = [
        GatewayProcess(database_url, data_dir, tmp_path / f"gateway{n}.log", shared, port)
        for n, port in enumerate(ports, start=1)
    ]
    services = build_services(gateways[0].settings())
    try:
        for gateway in gateways:
            gateway.start()
        proxy.start()
        yield Cluster(proxy, gateways, services, clients)
    finally:
        proxy.stop()
        for gateway in gateways:
            gateway.stop()
        services.engine.dispose()


def stored_tokens(services: Services, tokens: list[str]) -> int:
    hashed = [services.pepper.token(token, epoch=1) for token in tokens]
    with transaction(services.session_factory) as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Indicator).where(Indicator.token_hash.in_(hashed))
            )
            or 0
        )


def entries(services: Services, tag: str) -> list[AuditEntry]:
    with transaction(services.session_factory) as session:
        query = select(AuditEntry).where(AuditEntry.tag == tag).order_by(AuditEntry.seq)
        return list(session.scalars(query))


def contiguous_size(services: Services, timeout: float = 30.0) -> int:
    """Integrate until the tree covers every reserved number (voids fill abandoned ones)."""
    deadline = time.monotonic() + timeout
    while True:
        with transaction(services.session_factory) as session:
            size = services.audit.integrate(session)
            top = session.scalar(select(func.max(AuditEntry.seq)))
        if top is not None and size == top + 1:
            return size
        assert time.monotonic() < deadline, f"tree {size}, top entry {top}"
        time.sleep(0.5)


def verify_through(services: Services, url: str) -> str:
    with transaction(services.session_factory) as session:
        services.audit.sign_checkpoint(session)
    result = CliRunner().invoke(
        audit_cli, ["verify", "--public-key", services.audit.verifier_key, "--url", url]
    )
    assert result.exit_code == 0, result.output
    return result.output


def check_acknowledged_are_stored(services: Services, outcomes: list[Outcome]) -> None:
    """Every 2xx submission is stored and audited; unanswered ones may or may not be."""
    acked = acknowledged(outcomes, "submit")
    assert stored_tokens(services, [o.token for o in acked]) == len(acked)
    unanswered = [o for o in failed(outcomes) if o.kind == "submit"]
    audited = len(entries(services, "indicator:batch:submit"))
    assert len(acked) <= audited <= len(acked) + len(unanswered)


@pytest.mark.slow
def test_one_of_two_gateways_killed_behind_haproxy(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    if backend != "postgres":
        pytest.skip("several gateway processes share one PostgreSQL database")
    if reason := haproxy.available():
        pytest.skip(reason)
    with cluster(database_url, tmp_path) as ha:
        load = SteadyLoad(
            lambda: ha.client("marketplace-a"), lambda: ha.client("bank-a"), LOAD_THREADS
        ).start()
        time.sleep(4)
        ha.gateways[0].kill()  # returns once the process is gone
        killed_at = time.monotonic()
        time.sleep(4)
        outcomes = load.stop()

        failures = failed(outcomes)
        # Only requests inside the killed gateway fail: at most one per thread, all begun
        # before the kill; every request begun afterwards went to the surviving gateway.
        assert len(failures) <= LOAD_THREADS, failures
        late = [o for o in failures if o.started > killed_at or o.status not in {0, 502}]
        assert not late, (killed_at, late)
        assert any(o.started > killed_at for o in acknowledged(outcomes, "match"))
        check_acknowledged_are_stored(ha.services, outcomes)

        contiguous_size(ha.services)
        assert "OK" in verify_through(ha.services, ha.proxy.url)

        # The periodic purge ran once per interval across both gateways, never twice at once.
        purges = [as_utc(e.time) for e in entries(ha.services, "retention:purge:run")]
        assert len(purges) >= 3
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(purges)]
        assert min(gaps) >= PURGE_INTERVAL / 2, gaps
        REPORT.update(figures(outcomes))
        print("through HAProxy, one of two gateways killed:", json.dumps(REPORT))
