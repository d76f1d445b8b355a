"""Matching cost as the indicators table grows, each size against raw baselines in the same run.

One scratch PostgreSQL database is grown step by step (COPY of synthetic identifiers from
``bench.generate``) to each size in ``--indicators``; at every size, with the gateway and the
"minimal durable request" (``bench.baseline_app``) each served by one uvicorn process
(httptools + uvloop) on loopback:

(a) batch match of 10,000 tokens (half hits, three reports by two partners each) through the
    API vs a raw ``= ANY(...)`` lookup of the same peppered tokens with psycopg;
(b) single-item matches from ``--clients`` concurrent connections vs the minimal durable
    request (one indexed SELECT and one INSERT + COMMIT) at the same concurrency;
(c) bulk submission of 10,000 rows through the API vs a raw COPY of as many rows;
(d) during (b), the CPU time (user + system, from /proc) of the gateway's process and of the
    minimal durable request's process, each per request served.

    .venv/bin/python -m bench.growth --indicators 100k,1M [--seconds 10] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.fixture import BenchEnvironment, bench_environment, conninfo, cpu_seconds, serve
from bench.matching import BATCH, SCREEN, SUBMIT, load_test
from gateway.server import free_port

BATCH_SIZE = 10_000
BANK_KINDS = frozenset({"iban", "phone", "email"})  # what the bank sector may ask about


def parse_size(text: str) -> int:
    """``100k``, ``1M``, ``10M`` or a plain number."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def known_tokens(env: BenchEnvironment) -> list[tuple[str, str]]:
    """Up to half a batch of corroborated tokens of kinds the bank may ask about."""
    return [(k.value, t) for k, t in env.known if k.value in BANK_KINDS][: BATCH_SIZE // 2]


def batch_tokens(env: BenchEnvironment) -> list[tuple[str, str]]:
    """Half known (corroborated) tokens, half never reported."""
    known = known_tokens(env)
    return known + [("iban", secrets.token_hex(32)) for _ in range(BATCH_SIZE - len(known))]


def measure_batch(env: BenchEnvironment, gateway: str, rounds: int) -> dict[str, float]:
    tokens = batch_tokens(env)
    body = {**BATCH, "items": [{"kind": k, "epoch": 1, "token": t} for k, t in tokens]}
    expected = len(known_tokens(env))  # every known token is a hit, every random one a miss
    with env.client(gateway, "bank-a") as bank:
        bank.request("POST", "/v1/match", json=body)  # warm
        api = []
        for _ in range(rounds):
            started = time.perf_counter()
            answer = bank.request("POST", "/v1/match", json=body).json()
            api.append(time.perf_counter() - started)
    assert answer["hits"] == expected, (answer["hits"], expected)
    peppered = [env.services.pepper.token(t, epoch=1) for _, t in tokens]
    raw = []
    with psycopg.connect(conninfo(env.url)) as conn:
        for _ in range(rounds + 1):
            started = time.perf_counter()
            conn.execute(
                "SELECT token_hash, partner_id, category, role, reference_hash, status, "
                "observed_at FROM indicators WHERE token_hash = ANY(%s) "
                "AND status <> 'retracted' AND expires_at > now()",
                (peppered,),
            ).fetchall()
            raw.append(time.perf_counter() - started)
    api_rate = BATCH_SIZE / statistics.median(api)
    raw_rate = BATCH_SIZE / statistics.median(raw[1:])
    return {"api_items_per_s": api_rate, "raw_items_per_s": raw_rate, "ratio": api_rate / raw_rate}


def cpu_ms_per_request(
    pid: int,
    url: str,
    path: str,
    bodies: list[dict[str, Any]],
    headers: dict[str, str],
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    """``load_test`` figures plus ``cpu_ms``: the serving process's CPU per request (from /proc).

    The CPU of everything the process runs meanwhile counts (background threads included).
    """
    before = cpu_seconds(pid)
    figures: dict[str, Any] = load_test(url, path, bodies, headers, clients, seconds)
    figures["cpu_ms"] = 1000 * (cpu_seconds(pid) - before) / max(1, int(figures["requests"]))
    return figures


def measure_single(
    env: BenchEnvironment,
    gateway: tuple[str, int],
    baseline: tuple[str, int],
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    """(b) and (d); ``gateway`` and ``baseline`` are (url, pid) of the serving processes."""
    # Payment screening asks about IBANs and phone numbers only.
    tokens = [(k, t) for k, t in batch_tokens(env) if k in {"iban", "phone"}][::4]
    singles = [{**SCREEN, "items": [{"kind": k, "epoch": 1, "token": t}]} for k, t in tokens]
    with env.client(gateway[0], "bank-a") as bank:
        headers = {"Authorization": f"Bearer {bank.access_token()}"}
    load_test(gateway[0], "/v1/match", singles[:200], headers, clients, 2)  # warm-up
    single = cpu_ms_per_request(
        gateway[1], gateway[0], "/v1/match", singles, headers, clients, seconds
    )
    raw_bodies = [{"token": env.services.pepper.token(t, epoch=1).hex()} for _, t in tokens]
    load_test(baseline[0], "/baseline", raw_bodies[:200], {}, clients, 2)
    minimal = cpu_ms_per_request(
        baseline[1], baseline[0], "/baseline", raw_bodies, {}, clients, seconds
    )
    return {
        "gateway": single,
        "minimal_durable": minimal,
        "p99_ratio": single["p99_ms"] / minimal["p99_ms"],
        "throughput_ratio": single["rps"] / minimal["rps"],
        # (d), as ``bench.matching`` names it: the gateway process's CPU per single match.
        "gateway_cpu_ms": single["cpu_ms"],
        "minimal_cpu_ms": minimal["cpu_ms"],
    }


def measure_submit(env: BenchEnvironment, gateway: str, rounds: int) -> dict[str, float]:
    now = datetime.now(tz=UTC)
    api = []
    with env.client(gateway, "marketplace-a") as market:
        for round_ in range(rounds):
            items = [
                {
                    "kind": "iban",
                    "epoch": 1,
                    "token": secrets.token_hex(32),
                    "category": "phishing",
                    "observed_at": now.isoformat(),
                    "reference": f"s{env.indicators}-{round_}-{n}",
                }
                for n in range(BATCH_SIZE)
            ]
            started = time.perf_counter()
            answer = market.request("POST", "/v1/indicators", json={**SUBMIT, "items": items})
            api.append(time.perf_counter() - started)
            assert answer.json()["accepted"] == BATCH_SIZE
    raw = []
    pepper = env.services.pepper.for_epoch(1)
    columns = (
        "partner_id, kind, epoch, token_hash, category, role, reference_hash, purpose, "
        "legal_basis, status, observed_at, expires_at"
    )
    with psycopg.connect(conninfo(env.url)) as conn:
        for round_ in range(rounds):
            started = time.perf_counter()
            with conn.cursor() as cur, cur.copy(f"COPY indicators ({columns}) FROM STDIN") as cp:
                for n in range(BATCH_SIZE):
                    cp.write_row((
                        "marketplace-a", "iban", 1, pepper.token(secrets.token_hex(32)),
                        "phishing", "suspect", pepper.reference(f"raw{round_}-{n}"),
                        "indicator_submission", "art6_1_f", "active", now, now + timedelta(30),
                    ))  # fmt: skip
            conn.commit()
            raw.append(time.perf_counter() - started)
    api_rate = BATCH_SIZE / statistics.median(api)
    raw_rate = BATCH_SIZE / statistics.median(raw)
    return {"api_rows_per_s": api_rate, "raw_rows_per_s": raw_rate, "ratio": api_rate / raw_rate}


def run(sizes: list[int], *, clients: int, seconds: float, rounds: int) -> dict[str, Any]:
    """Grow, measure at each size; returns ``{"sizes": [...], "by_size": {n: figures}}``."""
    port = free_port()
    out: dict[str, Any] = {"sizes": sizes, "clients": clients, "seconds": seconds, "by_size": {}}
    with bench_environment(port) as env:
        base_port = free_port()
        with (
            serve("gateway.asgi:app_from_environment", env.env, port) as (gateway, process),
            serve("bench.baseline_app:create", {"BENCH_DATABASE_URL": env.url}, base_port)
            as (baseline, base_process),
        ):  # fmt: skip
            for size in sorted(sizes):
                loaded = env.load(size)
                print(f"grew to {size:,} ({loaded.rows:,} rows in {loaded.seconds:.1f} s)")
                cpu_before = cpu_seconds(process.pid)
                figures: dict[str, Any] = {"load_seconds": loaded.seconds}
                figures["batch_match"] = measure_batch(env, gateway, rounds)
                figures["single_match"] = measure_single(
                    env, (gateway, process.pid), (baseline, base_process.pid), clients, seconds
                )
                figures["bulk_submit"] = measure_submit(env, gateway, max(2, rounds // 2))
                figures["gateway_cpu_seconds"] = cpu_seconds(process.pid) - cpu_before
                out["by_size"][str(size)] = figures
                print_size(size, figures)
    return out


def print_size(size: int, f: dict[str, Any]) -> None:
    b, s, u = f["batch_match"], f["single_match"], f["bulk_submit"]
    g, m = s["gateway"], s["minimal_durable"]
    print(
        f"  {size:,}: batch API {b['api_items_per_s']:,.0f} items/s vs raw "
        f"{b['raw_items_per_s']:,.0f} ({b['ratio']:.2f}); single p50 {g['p50_ms']:.1f} ms "
        f"p99 {g['p99_ms']:.1f} ms {g['rps']:,.0f} req/s (errors {g['errors']}) vs minimal "
        f"p50 {m['p50_ms']:.1f} p99 {m['p99_ms']:.1f} {m['rps']:,.0f} req/s; submit "
        f"{u['api_rows_per_s']:,.0f} rows/s vs COPY {u['raw_rows_per_s']:,.0f} ({u['ratio']:.2f})"
    )
    print(
        f"  (d) gateway CPU per single match: {s['gateway_cpu_ms']:.2f} ms (target <= 2.5 ms); "
        f"minimal durable request: {s['minimal_cpu_ms']:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", default="100k,1M", help="sizes, e.g. 100k,1M,10M")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.indicators.split(",")]
    results = run(sizes, clients=args.clients, seconds=args.seconds, rounds=args.rounds)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
