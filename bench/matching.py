"""Matching speed against raw baselines measured in the same run, on PostgreSQL.

(a) batch match of 10,000 tokens through the HTTP API (auth, policy, lookup, audit) vs a
    raw ``= ANY(...)`` lookup of the same peppered tokens with psycopg (items/s, ratio);
(b) single-item match latency with N concurrent clients vs the "minimal durable request"
    (bare FastAPI endpoint: one indexed SELECT and one INSERT with COMMIT), p50/p99 and
    requests/s, both served by uvicorn with httptools + uvloop in a separate process;
(c) bulk submission rows/s through the API vs a raw binary COPY of as many rows;
(d) the gateway process's CPU time (user + system, from /proc) per single match during (b).

    .venv/bin/python -m bench.matching --indicators 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

from bench.fixture import activate_epoch, bench_policy_dir, cpu_seconds, serve
from connectors.client import GatewayClient
from connectors.keystore import ConnectorKeys
from gateway.audit_trail.events import Actor
from gateway.bootstrap import build_services
from gateway.config import load_settings
from gateway.db import build_engine, transaction
from gateway.migrate import upgrade
from gateway.partners.service import PartnerRegistry
from gateway.server import free_port

BASE_URL = os.environ.get(
    "PPSGATE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}
BATCH = {"purpose": "batch_screening", "legal_basis": "art6_1_c"}
SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
RAW_COPY_TYPES = ["text", "text", "int4", "bytea", "text", "text", "bytea", "text", "text", "text"]
RAW_COPY_TYPES += ["timestamptz", "timestamptz"]


def conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def scratch_database() -> Iterator[str]:
    name = f"ppsgate_bench_{secrets.token_hex(3)}"
    admin = conninfo(BASE_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def load_indicators(url: str, pepper: Any, count: int) -> list[str]:
    """COPY ``count`` indicators by marketplace-a; returns 10,000 of their raw tokens.

    The returned tokens are corroborated (three reports, two partners: bank-b reports them
    too), so every purpose discloses them, batch screening's two-partner rule included.
    """
    now = datetime.now(tz=UTC)
    kept: list[str] = []
    started = time.perf_counter()
    with psycopg.connect(conninfo(url)) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY indicators (partner_id, kind, epoch, token_hash, category, role, "
            "reference_hash, purpose, legal_basis, status, observed_at, expires_at, created_at) "
            "FROM STDIN"
        ) as copy:
            for n in range(count):
                token = secrets.token_hex(32)
                if n % max(1, count // 10_000) == 0 and len(kept) < 10_000:
                    kept.append(token)
                    for reporter, ref in (("marketplace-a", "x"), ("bank-b", "y")):
                        copy.write_row(
                            (
                                reporter,
                                "iban",
                                1,
                                pepper.token(token),
                                "purchase_fraud",
                                "suspect",
                                pepper.reference(f"{ref}-{n}"),
                                "indicator_submission",
                                "art6_1_f",
                                "active",
                                now - timedelta(days=1),
                                now + timedelta(days=300),
                                now,
                            )
                        )
                copy.write_row(
                    (
                        "marketplace-a",
                        "iban",
                        1,
                        pepper.token(token),
                        "purchase_fraud",
                        "suspect",
                        pepper.reference(f"case-{n}"),
                        "indicator_submission",
                        "art6_1_f",
                        "active",
                        now - timedelta(days=1),
                        now + timedelta(days=300),
                        now,
                    )
                )
        conn.commit()
        cur.execute("ANALYZE indicators")
        conn.commit()
    print(f"loaded {count + 2 * len(kept):,} indicators in {time.perf_counter() - started:.1f} s")
    return kept


def load_test(
    url: str,
    path: str,
    bodies: list[dict[str, Any]],
    headers: dict[str, str],
    clients: int,
    seconds: float,
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        nonlocal errors
        own: list[float] = []
        failed = 0
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            n = offset
            while time.monotonic() < stop:
                body = bodies[n % len(bodies)]
                n += clients
                t0 = time.perf_counter()
                response = client.post(path, json=body)
                own.append(time.perf_counter() - t0)
                failed += response.status_code != 200
        with lock:
            latencies.extend(own)
            errors += failed

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "errors": errors,
    }


def batch_match(
    bank: GatewayClient, url: str, batch_tokens: list[str], peppered: list[bytes], hits: int
) -> dict[str, float]:
    """(a) One batch through the API vs the raw ``= ANY`` lookup, items/s each."""
    body = {
        **BATCH,
        "items": [{"kind": "iban", "epoch": 1, "token": t} for t in batch_tokens],
    }
    api_times = []
    for _ in range(5):
        t0 = time.perf_counter()
        answer = bank.request("POST", "/v1/match", json=body).json()
        api_times.append(time.perf_counter() - t0)
    assert answer["hits"] == hits, answer["hits"]
    raw_times = []
    with psycopg.connect(conninfo(url)) as conn:
        for _ in range(5):
            t0 = time.perf_counter()
            rows = conn.execute(
                "SELECT token_hash, partner_id, category, role, reference_hash, status, "
                "observed_at FROM indicators WHERE token_hash = ANY(%s) "
                "AND status <> 'retracted' AND expires_at > now()",
                (peppered,),
            ).fetchall()
            raw_times.append(time.perf_counter() - t0)
    assert len({bytes(r[0]) for r in rows}) == hits
    api_rate = len(batch_tokens) / statistics.median(api_times)
    raw_rate = len(batch_tokens) / statistics.median(raw_times)
    return {"api_items_per_s": api_rate, "raw_items_per_s": raw_rate, "ratio": api_rate / raw_rate}


def single_match(
    gw: str, pid: int, bank: GatewayClient, tokens: list[str], args: argparse.Namespace
) -> dict[str, float]:
    """(b) and (d): single-item matches from N clients; the server process's CPU per match."""
    singles = [{**SCREEN, "items": [{"kind": "iban", "epoch": 1, "token": t}]} for t in tokens]
    headers = {"Authorization": f"Bearer {bank.access_token()}"}
    load_test(gw, "/v1/match", singles[:200], headers, args.clients, 2)  # warm-up
    profiler = py_spy(pid, args.profile, args.seconds) if args.profile else None
    cpu_before = cpu_seconds(pid)
    figures = load_test(gw, "/v1/match", singles, headers, args.clients, args.seconds)
    figures["gateway_cpu_ms"] = 1000 * (cpu_seconds(pid) - cpu_before) / figures["requests"]
    if profiler is not None:
        profiler.wait(args.seconds + 60)
    return figures


def py_spy(pid: int, output: Path, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy on ``pid`` for ``seconds`` (the GIL holder only: Python CPU), to ``output``."""
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid)]
    command += ["--duration", str(int(seconds)), "--rate", "250", "--output", str(output)]
    command += ["--format", "raw" if output.suffix == ".txt" else "flamegraph", "--gil"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def bulk_submit(
    market: GatewayClient, url: str, services: Any, submit_rows: int
) -> dict[str, float]:
    """(c) Bulk submission through the API vs a raw binary COPY of as many rows, rows/s."""
    now = datetime.now(tz=UTC).isoformat()
    submit_times = []
    for round_ in range(3):
        items = [
            {
                "kind": "iban",
                "epoch": 1,
                "token": secrets.token_hex(32),
                "category": "phishing",
                "observed_at": now,
                "reference": f"b{round_}-{n}",
            }
            for n in range(submit_rows)
        ]
        t0 = time.perf_counter()
        answer = market.request("POST", "/v1/indicators", json={**SUBMIT, "items": items}).json()
        submit_times.append(time.perf_counter() - t0)
        assert answer["accepted"] == submit_rows, answer["accepted"]
    copy_times = []
    with psycopg.connect(conninfo(url)) as conn:
        for round_ in range(3):
            t0 = time.perf_counter()
            with (
                conn.cursor() as cur,
                cur.copy(
                    "COPY indicators (partner_id, kind, epoch, token_hash, category, role, "
                    "reference_hash, purpose, legal_basis, status, observed_at, expires_at) "
                    "FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                # Binary COPY, as the gateway's bulk path uses: the fastest raw load.
                copy.set_types(RAW_COPY_TYPES)
                stamp = datetime.now(tz=UTC)
                for n in range(submit_rows):
                    copy.write_row(
                        (
                            "marketplace-a",
                            "iban",
                            1,
                            services.pepper.token(secrets.token_hex(32), epoch=1),
                            "phishing",
                            "suspect",
                            services.pepper.reference(f"c{round_}-{n}", epoch=1),
                            "indicator_submission",
                            "art6_1_f",
                            "active",
                            stamp,
                            stamp + timedelta(days=30),
                        )
                    )
            conn.commit()
            copy_times.append(time.perf_counter() - t0)
    api_rows = submit_rows / statistics.median(submit_times)
    copy_rows = submit_rows / statistics.median(copy_times)
    return {"api_rows_per_s": api_rows, "copy_rows_per_s": copy_rows, "ratio": api_rows / copy_rows}


def print_single(single: dict[str, float]) -> None:
    print(
        f"(b) single match: p50 {single['p50_ms']:.1f} ms, p99 {single['p99_ms']:.1f} ms, "
        f"{single['rps']:,.0f} req/s, errors {single['errors']}"
    )


def print_cpu(single: dict[str, float]) -> None:
    print(f"(d) gateway CPU per single match: {single['gateway_cpu_ms']:.2f} ms (target <= 2.5 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    parser.add_argument(
        "--single-only", action="store_true", help="Only (b) and (d): single matches and CPU."
    )
    parser.add_argument(
        "--profile", type=Path, help="py-spy the gateway during (b) (.svg flame graph, .txt raw)."
    )
    args = parser.parse_args()
    results: dict[str, Any] = {"indicators": args.indicators}

    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            "PPSGATE_DATABASE_URL": url,
            "PPSGATE_DATA_DIR": tmp,
            "PPSGATE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PPSGATE_LOG_LEVEL": "WARNING",
            "PPSGATE_DATABASE_POOL_SIZE": "20",
            "PPSGATE_POLICY_DIR": str(bench_policy_dir(Path(tmp) / "policies")),
        }
        settings = load_settings(
            database_url=url,
            data_dir=Path(tmp),
            public_url=f"http://127.0.0.1:{port}",
            policy_dir=Path(env["PPSGATE_POLICY_DIR"]),
        )
        engine = build_engine(settings)
        upgrade(engine)
        engine.dispose()
        services = build_services(settings)
        keys = {p: ConnectorKeys.generate() for p in ("bank-a", "bank-b", "marketplace-a")}
        with transaction(services.session_factory) as session:
            registry = PartnerRegistry(session, services.audit, actor=Actor("bench", "bench"))
            for partner, sector in (
                ("bank-a", "bank"),
                ("bank-b", "bank"),
                ("marketplace-a", "marketplace"),
            ):
                registry.add_partner(name=partner, sector=sector, partner_id=partner)
                registry.add_client(
                    partner_id=partner,
                    jwk=keys[partner].public_jwks(),
                    scopes=["indicators:write", "match:query"],
                    client_id=f"{partner}-bench",
                )
            activate_epoch(session)
        kept = load_indicators(url, services.pepper.for_epoch(1), args.indicators)
        hits = kept[: args.batch // 2]
        misses = [secrets.token_hex(32) for _ in range(args.batch - len(hits))]
        batch_tokens = hits + misses
        peppered = [services.pepper.token(t, epoch=1) for t in batch_tokens]

        with serve("gateway.asgi:app_from_environment", env, port) as (gw, process):
            bank = GatewayClient(gw, "bank-a-bench", keys["bank-a"])
            market = GatewayClient(gw, "marketplace-a-bench", keys["marketplace-a"])
            if not args.single_only:
                results["batch_match"] = batch_match(bank, url, batch_tokens, peppered, len(hits))
            results["single_match"] = single_match(gw, process.pid, bank, batch_tokens[:2000], args)
            if not args.single_only:
                results["bulk_submit"] = bulk_submit(market, url, services, args.batch)
            bank.close()
            market.close()
        if args.single_only:
            services.engine.dispose()
            print_single(results["single_match"])
            print_cpu(results["single_match"])
            return

        port_b = free_port()
        with serve("bench.baseline_app:create", {"BENCH_DATABASE_URL": url}, port_b) as (base, _):
            raw_bodies = [{"token": t.hex()} for t in peppered[:2000]]
            load_test(base, "/baseline", raw_bodies[:200], {}, args.clients, 2)
            results["minimal_durable"] = load_test(
                base, "/baseline", raw_bodies, {}, args.clients, args.seconds
            )
        services.engine.dispose()

    single, minimal = results["single_match"], results["minimal_durable"]
    results["single_vs_minimal"] = {
        "p99_ratio": single["p99_ms"] / minimal["p99_ms"],
        "throughput_ratio": single["rps"] / minimal["rps"],
    }
    bm, bs = results["batch_match"], results["bulk_submit"]
    print(f"\nindicators: {args.indicators:,}; clients: {args.clients}")
    print(
        f"(a) batch match {args.batch:,}: API {bm['api_items_per_s']:,.0f} items/s, raw SQL "
        f"{bm['raw_items_per_s']:,.0f} items/s, ratio {bm['ratio']:.2f} (target >= 0.5)"
    )
    print_single(single)
    print(
        f"    minimal durable request: p50 {minimal['p50_ms']:.1f} ms, p99 "
        f"{minimal['p99_ms']:.1f} ms, {minimal['rps']:,.0f} req/s"
    )
    print(
        f"    p99 ratio {results['single_vs_minimal']['p99_ratio']:.2f} (target <= 1.5), "
        f"throughput ratio {results['single_vs_minimal']['throughput_ratio']:.2f} "
        "(target >= 0.7)"
    )
    print(
        f"(c) bulk submit: API {bs['api_rows_per_s']:,.0f} rows/s, raw COPY "
        f"{bs['copy_rows_per_s']:,.0f} rows/s, ratio {bs['ratio']:.2f} (target >= 0.5)"
    )
    print_cpu(single)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
