"""One partner's concurrent requests against its quota counter, without HTTP, on PostgreSQL.

Each simulated request opens the request's transaction, charges one item to the same
partner's quota (``charge_quota``, as a match does), spends ``--work-ms`` in the transaction
(the lookup, the policy, the response), writes one row and commits. If the counter's row lock
lasted until the request's commit, the requests would run one at a time whatever the number
of threads; charged in a short transaction of its own, they overlap. The gateway's CPU and
HTTP stack are left out on purpose, so the figure shows the lock and nothing else.

    .venv/bin/python -m bench.contention --threads 1,4,16 --seconds 4
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import text

from bench.fixture import scratch_database
from gateway.abuse.quotas import charge_quota
from gateway.audit_trail.events import Actor, AuditTag
from gateway.auth.principal import Principal
from gateway.bootstrap import build_services
from gateway.config import load_settings
from gateway.db import build_engine, transaction
from gateway.migrate import upgrade
from gateway.partners.service import PartnerRegistry
from gateway.policy.decision import Decision, Quota
from gateway.services import Services

UNLIMITED = Decision(
    allow=True,
    reasons=(),
    policy_digest="d" * 64,
    quota=Quota(window_seconds=3600, partner=10**12, client=10**12, enumeration=None),
)


def _client(index: int) -> Principal:
    return Principal(
        partner_id="bank-a",
        client_id=f"bank-a-c{index % 4}",
        user=None,
        sector="bank",
        scopes=frozenset({"match:query"}),
        roles=frozenset(),
    )


def run(services: Services, threads: int, seconds: float, work: float) -> dict[str, float]:
    """``threads`` clients of one partner for ``seconds``: requests/s, p50 and p99 in ms, and
    this process's CPU per request in ms (all threads: the charge, the transaction, the
    driver; the database's CPU is not in it)."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        principal = _client(index)
        own: list[float] = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            with transaction(services.session_factory) as session:
                charge_quota(
                    session,
                    services,
                    principal,
                    request_id=secrets.token_hex(8),
                    purpose="payment_screening",
                    legal_basis="art6_1_c",
                    decision=UNLIMITED,
                    items=1,
                    deny_tag=AuditTag.MATCH_QUERY_DENY,
                )
                time.sleep(work)
                session.execute(text("INSERT INTO bench_work (request) VALUES ('x')"))
            own.append(time.perf_counter() - started)
        with lock:
            latencies.extend(own)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    started, cpu = time.perf_counter(), time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "cpu_ms": 1000 * cpu / len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,4,16")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--work-ms", type=float, default=5.0)
    args = parser.parse_args()
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(database_url=url, data_dir=Path(tmp), database_pool_size=20)
        engine = build_engine(settings)
        upgrade(engine)
        engine.dispose()
        services = build_services(settings)
        with transaction(services.session_factory) as session:
            session.execute(
                text("CREATE TABLE bench_work (id bigserial PRIMARY KEY, request text)")
            )
            PartnerRegistry(session, services.audit, actor=Actor("bench", "bench")).add_partner(
                name="bank-a", sector="bank", partner_id="bank-a"
            )
        for threads in (int(n) for n in args.threads.split(",")):
            figures = run(services, threads, args.seconds, args.work_ms / 1000)
            print(
                f"{threads:3d} concurrent requests of one partner: {figures['rps']:,.0f} req/s, "
                f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
                f"CPU {figures['cpu_ms']:.2f} ms per request"
            )
        services.engine.dispose()


if __name__ == "__main__":
    main()
