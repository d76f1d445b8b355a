"""Every benchmark in one run: figures, same-run baselines, ratios, and the performance page.

Runs, each in its own process (so one benchmark's memory and threads never colour the next):
hashing (connector), policy (embedded Rego), growth (matching at each size, with the gateway's
CPU per single match), audit (appends with 16 writers, proofs at each size), oprf (spec v2
tokens end to end through two evaluator processes), console (audit page render) and the load
test (mixed traffic against a multi-worker gateway). Writes ``bench/results.json``
(git-ignored) and ``docs/performance.md`` with the chart ``docs/img/performance-growth.svg``.

    .venv/bin/python -m bench --indicators 100k,1M          # the published run
    .venv/bin/python -m bench --quick                        # minutes, CI-like
    .venv/bin/python -m bench --only growth,audit --indicators 100k
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench import report
from bench.fixture import BASE_URL, conninfo
from bench.growth import parse_size

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("hashing", "policy", "growth", "audit", "oprf", "console", "loadtest")


def machine() -> dict[str, Any]:
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with psycopg.connect(conninfo(BASE_URL)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('shared_buffers', 'synchronous_commit', 'max_connections', 'fsync')"
            ).fetchall()
        )
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "postgresql": row[0] if row else "unknown",
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_before": os.getloadavg(),
    }


def plan(args: argparse.Namespace, sizes: list[int]) -> list[tuple[str, str, list[str]]]:
    """(name, figures key, arguments) per benchmark process."""
    quick = args.quick
    joined = ",".join(str(s) for s in sizes)
    runs: list[tuple[str, str, list[str]]] = [
        ("hashing", "hashing", ["--rows", "100000" if quick else "1000000"]),
        ("policy", "policy", ["--decisions", "500" if quick else "3000"]),
        ("growth", "growth", ["--indicators", joined, "--seconds", "3" if quick else "10",
                              "--rounds", "3" if quick else "5"]),
    ]  # fmt: skip
    for index, size in enumerate(sizes):
        audit = ["--entries", str(size), "--proofs", "300" if quick else "2000"]
        if index:
            audit.append("--skip-appends")
        else:
            audit += ["--seconds", "3" if quick else "5", "--rounds", "1" if quick else "2"]
        runs.append(("audit", f"audit_{size}", audit))
    runs.append(("oprf", "oprf", ["--items", "10000" if quick else "100000"]))
    console_entries = min(max(sizes), 1_000_000)
    runs.append(("console", "console", ["--entries", str(console_entries),
                                        "--renders", "10" if quick else "60"]))  # fmt: skip
    load_size = min(max(sizes), 1_000_000)
    runs.append(("loadtest", "loadtest", [
        "--indicators", str(load_size), "--workers", str(args.workers),
        "--steps", "1,2,4,8" if quick else "1,2,4,8,16", "--seconds", "4" if quick else "10",
    ]))  # fmt: skip
    only = set(args.only.split(",")) if args.only else set(NAMES)
    return [run for run in runs if run[0] in only]


def run_one(name: str, arguments: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        figures_file = Path(tmp) / "figures.json"
        command = [sys.executable, "-m", f"bench.{name}", *arguments]
        if name != "console":  # the console benchmark prints its figures as a JSON line
            command += ["--json", str(figures_file)]
        shown = " ".join(shlex.quote(a) for a in [".venv/bin/python", *command[1:]])
        print(f"\n$ {shown.replace(str(figures_file), 'FILE')}", flush=True)
        started = time.perf_counter()
        process = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        sys.stdout.write(process.stdout)
        sys.stderr.write(process.stderr[-4000:] if process.returncode else "")
        figures: Any = None
        if figures_file.exists():
            figures = json.loads(figures_file.read_text())
        elif name == "console":
            lines = [line for line in process.stdout.splitlines() if line.startswith("{")]
            figures = json.loads(lines[-1]) if lines else None
    return {
        "command": shown.split(" --json ")[0],
        "seconds": seconds,
        "returncode": process.returncode,
        "figures": figures,
        "output": process.stdout.splitlines()[-40:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", default="100k,1M", help="sizes: 100k, 1M and/or 10M")
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(NAMES)}")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--no-doc", action="store_true", help="write results.json only")
    args = parser.parse_args()
    sizes = [100_000] if args.quick else [parse_size(s) for s in args.indicators.split(",")]
    command = " ".join([".venv/bin/python -m bench", *sys.argv[1:]])
    results: dict[str, Any] = {
        "command": command,
        "started": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "sizes": sizes,
        "machine": machine(),
        "benchmarks": {},
    }
    for name, key, arguments in plan(args, sizes):
        results["benchmarks"][key] = run_one(name, arguments)
        args.results.write_text(json.dumps(results, indent=2))  # keep what is done so far
    results["machine"]["load_average_after"] = os.getloadavg()
    results["finished"] = datetime.now(tz=UTC).isoformat(timespec="seconds")
    args.results.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {args.results}")
    if not args.no_doc:
        report.write(results, args.doc, ROOT / "docs" / "img" / "performance-growth.svg")
        print(f"wrote {args.doc}")
    failed = [k for k, v in results["benchmarks"].items() if v["returncode"]]
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
