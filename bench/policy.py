"""Policy decision speed: the embedded engine loaded once vs rebuilt per request.

Prints decisions per second and p50/p99 latency of one realistic decision (a bank screening
a payment: match:query, payment_screening, Art. 6(1)(c), one IBAN token) on

* the embedded engine as the gateway uses it (policies loaded once, engine reused, the
  Python request/decision translation included), without the decision cache: every call
  evaluates the policy,
* the same through the gateway's decision cache (``PPSGATE_POLICY_CACHE_SECONDS``, 1 s), for
  comparison only: the targets are met, or missed, without it,
* the raw regorus evaluation of the same rule on the same engine (the floor): the bundle's
  per-request entry point (``data.gateway.fast.decision``, the generated decision of the
  request's key plus the checks of its own inputs), exactly what the gateway evaluates,
* the full composition of the areas (``data.gateway.decision.decision``) on the same engine,
  which is what every request evaluated before the generated decisions, for comparison,
* an engine rebuilt for every request (parse + load data + evaluate), the cost avoided,
* the OPA path through the local STAND-IN (HTTP on loopback), for comparison.

Targets (issue 22): the raw engine evaluation of one decision p50 <= 60 µs of CPU, and the
gateway's decision (without the cache) p99 <= 150 µs of CPU.

    .venv/bin/python bench/policy.py [--decisions 3000]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import regorus

from gateway.policy.active import SwitchableEngine
from gateway.policy.bundle import DECISION_RULE, load_bundle
from gateway.policy.decision import Action, DecisionRequest
from gateway.policy.document import request_input
from gateway.policy.opa_engine import OpaServerEngine
from gateway.policy.opa_standin import StandInState, running_standin
from gateway.policy.regorus_engine import RegorusEngine, evaluate_json, new_engine

RAW_P50_TARGET_US = 60.0
DECISION_P99_TARGET_US = 150.0

REQUEST = DecisionRequest(
    action=Action.MATCH_QUERY,
    partner_id="bank-a",
    purpose="payment_screening",
    legal_basis="art6_1_c",
    kinds=("iban",),
    batch_size=1,
    context={"partner_status": "active"},
)


def regorus_distribution() -> str:
    """Which wheel provides the imported ``regorus`` (celine-regorus or gordon-to-regorus)."""
    module = Path(regorus.__file__).resolve()
    for name in importlib.metadata.packages_distributions().get("regorus", []):
        dist = importlib.metadata.distribution(name)
        if Path(str(dist.locate_file("regorus/__init__.py"))).resolve() == module:
            return f"{name} {dist.version}"
    return f"unknown distribution at {module.parent}"


def measure(label: str, run: Callable[[], object], count: int, warmup: int) -> dict[str, float]:
    """Wall-clock and CPU time per call; CPU time excludes waiting for a core on a busy machine."""
    for _ in range(warmup):
        run()
    wall: list[float] = []
    cpu: list[float] = []
    started = time.perf_counter()
    for _ in range(count):
        before, before_cpu = time.perf_counter(), time.thread_time()
        run()
        cpu.append(time.thread_time() - before_cpu)
        wall.append(time.perf_counter() - before)
    total = time.perf_counter() - started
    wall.sort()
    cpu.sort()
    p99 = min(count - 1, int(count * 0.99))
    figures = {
        "per_second": count / total,
        "p50_us": wall[count // 2] * 1e6,
        "p99_us": wall[p99] * 1e6,
        "cpu_p50_us": cpu[count // 2] * 1e6,
        "cpu_p99_us": cpu[p99] * 1e6,
        "mean_us": statistics.fmean(wall) * 1e6,
    }
    print(
        f"{label:<48} {figures['per_second']:>7.0f}/s  wall p50 {figures['p50_us']:>7.0f} µs"
        f"  p99 {figures['p99_us']:>7.0f} µs  | cpu p50 {figures['cpu_p50_us']:>7.0f} µs"
        f"  p99 {figures['cpu_p99_us']:>7.0f} µs  (n={count})"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=3000)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    count = args.decisions

    bundle = load_bundle()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"regorus from {regorus_distribution()}; bundle {bundle.digest[:12]}; "
        f"load average {load} on {os.cpu_count()} cores"
    )

    engine = RegorusEngine(bundle)
    assert engine.decide(REQUEST).allow, "the benchmark request must be allowed"
    loaded = measure(
        "embedded, loaded once (gateway path, no cache)",
        lambda: engine.decide(REQUEST),
        count,
        warmup=200,
    )

    cached_engine = SwitchableEngine(
        RegorusEngine(bundle), timeout_seconds=1.0, pinned=True, cache_seconds=1.0
    )
    cached = measure(
        "gateway path with the 1 s decision cache",
        lambda: cached_engine.decide(REQUEST),
        count,
        warmup=200,
    )

    raw_engine = new_engine(bundle)
    payload = json.dumps(request_input(REQUEST))
    rule = bundle.decision_rule
    assert evaluate_json(raw_engine, rule, payload) == evaluate_json(
        raw_engine, DECISION_RULE, payload
    ), "the entry point and the full composition must agree"
    raw = measure(
        f"raw regorus eval of {rule.removeprefix('data.')}",
        lambda: evaluate_json(raw_engine, rule, payload),
        count,
        warmup=200,
    )
    measure(
        "raw regorus eval of the full composition",
        lambda: evaluate_json(raw_engine, DECISION_RULE, payload),
        max(200, count // 3),
        warmup=50,
    )

    rebuilt = measure(
        "engine rebuilt per request",
        lambda: evaluate_json(new_engine(bundle), rule, payload),
        max(20, count // 30),
        warmup=3,
    )

    with running_standin(StandInState.from_bundle(bundle)) as server:
        remote = OpaServerEngine(server.url, timeout_seconds=2.0)
        assert remote.decide(REQUEST).allow
        measure(
            "OPA path via the local STAND-IN (HTTP)",
            lambda: remote.decide(REQUEST),
            max(50, count // 10),
            warmup=20,
        )

    print()
    print(
        f"rebuilt / loaded (p50): {rebuilt['p50_us'] / loaded['p50_us']:.1f}x slower wall-clock, "
        f"{rebuilt['cpu_p50_us'] / loaded['cpu_p50_us']:.1f}x in CPU time"
    )
    print(
        f"loaded / raw eval (p50): {loaded['p50_us'] / raw['p50_us']:.2f}x "
        "(Python translation and checks)"
    )
    checks = (
        ("raw engine evaluation, CPU p50", raw["cpu_p50_us"], RAW_P50_TARGET_US),
        ("gateway decision without cache, CPU p99", loaded["cpu_p99_us"], DECISION_P99_TARGET_US),
    )
    for what, value, target in checks:
        verdict = "meets" if value <= target else "MISSES"
        print(f"{what}: {value:.0f} µs — {verdict} the {target:.0f} µs target")
    print(
        f"(with the decision cache: CPU p50 {cached['cpu_p50_us']:.0f} µs, "
        f"p99 {cached['cpu_p99_us']:.0f} µs; not counted for the targets)"
    )
    print("(wall-clock p99 includes waiting for a core; compare it with the load average above)")
    if args.json:
        figures = {"embedded": loaded, "cached": cached, "raw": raw, "rebuilt": rebuilt}
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
