"""Load test with a realistic mix against a multi-worker gateway on loopback, bounded in time.

The mix: 80 % single matches (payment screening, one IBAN or phone token), 15 % batch matches
(100 tokens, batch screening), 5 % submissions (10 indicators). Requests go over keep-alive
connections from a small asyncio client that writes pre-built requests and reads the
responses by Content-Length — a few tens of microseconds of CPU per request, so the load
generator takes as little as possible of the two cores it shares with the server. The
concurrency is raised step by step; for each step the requests/s, p50/p99 latency (overall
and per type), the error count (any status but 200) and the largest RSS of every worker
process are reported. "Sustained" is the highest rate whose p99 stays under 50 ms.

    .venv/bin/python -m bench.loadtest --indicators 100k --workers 2 --steps 2,4,8,16
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.fixture import (
    BenchEnvironment,
    bench_environment,
    cpu_seconds,
    rss_mb,
    serve,
    worker_pids,
)
from bench.growth import parse_size
from bench.matching import BATCH, SCREEN, SUBMIT
from gateway.server import free_port

MIX = (("single", 0.80), ("batch", 0.15), ("submit", 0.05))
BATCH_ITEMS = 100
SUBMIT_ITEMS = 10
P99_TARGET_MS = 50.0


@dataclass
class Requests:
    """Pre-built HTTP/1.1 requests per type (bytes on the wire)."""

    by_type: dict[str, list[bytes]] = field(default_factory=dict)

    @staticmethod
    def build(path: str, token: str, body: dict[str, Any], port: int) -> bytes:
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload


def build_requests(env: BenchEnvironment, gateway: str, port: int) -> Requests:
    with env.client(gateway, "bank-a") as bank, env.client(gateway, "marketplace-a") as market:
        bank_token, market_token = bank.access_token(), market.access_token()
    known = [(k.value, t) for k, t in env.known]
    screenable = [(k, t) for k, t in known if k in {"iban", "phone"}]
    rng = random.Random(11)
    singles = []
    for n in range(4000):  # half hits, half misses
        kind, token = rng.choice(screenable) if n % 2 else ("iban", secrets.token_hex(32))
        body = {**SCREEN, "items": [{"kind": kind, "epoch": 1, "token": token}]}
        singles.append(Requests.build("/v1/match", bank_token, body, port))
    batches = []
    bank_kinds = [(k, t) for k, t in known if k in {"iban", "phone", "email"}]
    for _ in range(300):
        items = [
            {"kind": k, "epoch": 1, "token": t}
            for k, t in rng.sample(bank_kinds, BATCH_ITEMS // 10)
        ] + [{"kind": "iban", "epoch": 1, "token": secrets.token_hex(32)}
             for _ in range(BATCH_ITEMS - BATCH_ITEMS // 10)]  # fmt: skip
        batches.append(Requests.build("/v1/match", bank_token, {**BATCH, "items": items}, port))
    submits = []
    observed = datetime.now(tz=UTC).isoformat()
    for n in range(3000):
        items = [
            {"kind": "iban", "epoch": 1, "token": secrets.token_hex(32), "category": "phishing",
             "observed_at": observed, "reference": f"load-{n}-{i}"}
            for i in range(SUBMIT_ITEMS)
        ]  # fmt: skip
        submits.append(Requests.build("/v1/indicators", market_token, {**SUBMIT, "items": items},
                                      port))  # fmt: skip
    return Requests({"single": singles, "batch": batches, "submit": submits})


async def _connection(
    port: int,
    requests: Requests,
    plan: list[str],
    stop_at: float,
    out: list[tuple[str, float, int]],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    counters = dict.fromkeys(requests.by_type, 0)
    loop = asyncio.get_running_loop()
    n = 0
    try:
        while loop.time() < stop_at:
            kind = plan[n % len(plan)]
            n += 1
            pool = requests.by_type[kind]
            payload = pool[counters[kind] % len(pool)]
            counters[kind] += 1
            started = time.perf_counter()
            writer.write(payload)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            out.append((kind, time.perf_counter() - started, status))
    finally:
        writer.close()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(share * (len(ordered) - 1)))]


def run_step(
    port: int,
    requests: Requests,
    connections: int,
    seconds: float,
    pids: list[int],
    mix: tuple[tuple[str, float], ...] = MIX,
) -> dict[str, Any]:
    rng = random.Random(connections)
    names, weights = zip(*mix, strict=True)
    out: list[tuple[str, float, int]] = []
    peak = dict.fromkeys(pids, 0.0)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            for pid in pids:
                peak[pid] = max(peak[pid], rss_mb(pid))

    async def main() -> float:
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + seconds
        plans = [rng.choices(names, weights, k=1000) for _ in range(connections)]
        started = time.perf_counter()
        await asyncio.gather(*(_connection(port, requests, p, stop_at, out) for p in plans))
        return time.perf_counter() - started

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    elapsed = asyncio.run(main())
    cpu_used = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    done.set()
    sampler.join()
    latencies = [latency for _, latency, _ in out]
    figures: dict[str, Any] = {
        "connections": connections,
        "requests": len(out),
        "rps": len(out) / elapsed,
        "p50_ms": _percentile(latencies, 0.5),
        "p99_ms": _percentile(latencies, 0.99),
        "errors": sum(status != 200 for _, _, status in out),
        "worker_rss_mb": [round(peak[pid], 1) for pid in pids],
        "gateway_cpu_ms_per_request": 1000 * cpu_used / max(1, len(out)),
        "by_type": {},
    }
    for name in names:
        own = [latency for kind, latency, _ in out if kind == name]
        if own:
            figures["by_type"][name] = {
                "requests": len(own),
                "p50_ms": _percentile(own, 0.5),
                "p99_ms": _percentile(own, 0.99),
            }
    return figures


def run(
    indicators: int,
    workers: int,
    steps: list[int],
    seconds: float,
    mix: tuple[tuple[str, float], ...] = MIX,
) -> dict[str, Any]:
    port = free_port()
    with bench_environment(port, pool_size=10) as env:
        loaded = env.load(indicators)
        print(f"loaded {indicators:,} identifiers in {loaded.seconds:.1f} s")
        target = "gateway.asgi:app_from_environment"
        with serve(target, env.env, port, workers=workers) as (gateway, process):
            pids = worker_pids(process.pid)
            requests = build_requests(env, gateway, port)
            run_step(port, requests, 2, 2.0, pids)  # warm every worker's pool and caches
            results = []
            for connections in steps:
                step = run_step(port, requests, connections, seconds, pids, mix)
                results.append(step)
                print(
                    f"  {connections:3d} connections: {step['rps']:7.0f} req/s, p50 "
                    f"{step['p50_ms']:6.1f} ms, p99 {step['p99_ms']:6.1f} ms, errors "
                    f"{step['errors']}, worker RSS {step['worker_rss_mb']} MB, gateway CPU "
                    f"{step['gateway_cpu_ms_per_request']:.1f} ms/request; "
                    + ", ".join(f"{k} p99 {v['p99_ms']:.1f} ms" for k, v in step["by_type"].items())
                )
    within = [s for s in results if s["p99_ms"] < P99_TARGET_MS and s["errors"] == 0]
    best = max(within, key=lambda s: s["rps"]) if within else None
    return {
        "indicators": indicators,
        "workers": workers,
        "seconds_per_step": seconds,
        "mix": dict(mix),
        "batch_items": BATCH_ITEMS,
        "submit_items": SUBMIT_ITEMS,
        "steps": results,
        "sustained_rps_p99_under_50ms": best["rps"] if best else 0.0,
        "sustained_at_connections": best["connections"] if best else None,
        "errors": sum(s["errors"] for s in results),
        "max_worker_rss_mb": max(max(s["worker_rss_mb"]) for s in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", default="100k")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", default="2,4,8,16", help="concurrent connections per step")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each step")
    parser.add_argument(
        "--mix", default="80,15,5", help="percent single, batch, submit (default 80,15,5)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    shares = [float(x) for x in args.mix.split(",")]
    mix = tuple((name, share) for (name, _), share in zip(MIX, shares, strict=True) if share)
    results = run(parse_size(args.indicators), args.workers, steps, args.seconds, mix)
    print(
        f"sustained {results['sustained_rps_p99_under_50ms']:.0f} req/s at p99 < 50 ms; "
        f"errors {results['errors']}; largest worker RSS {results['max_worker_rss_mb']:.0f} MB"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
