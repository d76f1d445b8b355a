"""docs/performance.md and its growth chart from a ``bench/results.json``.

Every figure in the page comes from the results file of one run; the notes on missed targets
are written here, next to the code that decides whether a target was met, so a page whose
figures change also changes its verdicts.

    .venv/bin/python -m bench.report [bench/results.json [more-results.json ...]]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _size(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1_000}k"


def _verdict(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "**missed**")


def _figures(results: dict[str, Any], key: str) -> Any:
    entry = results["benchmarks"].get(key)
    return entry["figures"] if entry and entry["returncode"] == 0 else None


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target of the issue: what was measured, its baseline, ratio, verdict."""
    rows: list[dict[str, Any]] = []
    sizes = results["sizes"]
    largest = str(max(sizes))
    growth = _figures(results, "growth")
    at = growth["by_size"].get(largest) if growth else None
    if at:
        b = at["batch_match"]
        rows.append({
            "id": "batch", "what": f"Batch match of 10,000 through the API ({_size(int(largest))})",
            "measured": f"{_fmt(b['api_items_per_s'])} items/s",
            "baseline": f"raw `= ANY` lookup {_fmt(b['raw_items_per_s'])} items/s",
            "ratio": b["ratio"], "target": "≥ 0.5x (at 10M)", "met": b["ratio"] >= 0.5,
        })  # fmt: skip
        s = at["single_match"]
        g, m = s["gateway"], s["minimal_durable"]
        rows.append({
            "id": "single_p99", "what": f"Single match p99, {growth['clients']} clients",
            "measured": f"{_fmt(g['p99_ms'], 1)} ms (p50 {_fmt(g['p50_ms'], 1)})",
            "baseline": f"minimal durable request {_fmt(m['p99_ms'], 1)} ms "
                        f"(p50 {_fmt(m['p50_ms'], 1)})",
            "ratio": s["p99_ratio"], "target": "≤ 1.5x", "met": s["p99_ratio"] <= 1.5,
        })  # fmt: skip
        rows.append({
            "id": "single_rps", "what": f"Single match throughput, {growth['clients']} clients",
            "measured": f"{_fmt(g['rps'])} req/s ({g['errors']} errors)",
            "baseline": f"minimal durable request {_fmt(m['rps'])} req/s",
            "ratio": s["throughput_ratio"], "target": "≥ 0.7x",
            "met": s["throughput_ratio"] >= 0.7,
        })  # fmt: skip
        u = at["bulk_submit"]
        rows.append({
            "id": "submit", "what": "Bulk submission of 10,000 through the API",
            "measured": f"{_fmt(u['api_rows_per_s'])} rows/s",
            "baseline": f"raw COPY {_fmt(u['raw_rows_per_s'])} rows/s",
            "ratio": u["ratio"], "target": "(no target; 0.5x aimed)", "met": None,
        })  # fmt: skip
    audit = _figures(results, f"audit_{min(sizes)}")
    if audit and "ratio_16" in audit:
        rows.append({
            "id": "audit_append", "what": "Audit append in the action's transaction, 16 writers",
            "measured": f"{_fmt(audit['audited_16'])} req/s",
            "baseline": f"plain INSERT+COMMIT {_fmt(audit['plain_16'])} req/s",
            "ratio": audit["ratio_16"], "target": "≥ 0.7x", "met": audit["ratio_16"] >= 0.7,
        })  # fmt: skip
    proofs = _figures(results, f"audit_{largest}")
    if proofs:
        p99 = proofs["inclusion_p99_ms"]
        rows.append({
            "id": "proof", "what": f"Inclusion proof at {_size(int(largest))} entries (p99)",
            "measured": f"{_fmt(p99, 2)} ms", "baseline":
                f"one indexed node lookup {_fmt(proofs['lookup_p99_ms'], 3)} ms",
            "ratio": p99 / proofs["lookup_p99_ms"], "target": "< 5 ms (at 10M)", "met": p99 < 5,
        })  # fmt: skip
    hashing = _figures(results, "hashing")
    if hashing:
        rows.append({
            "id": "hashing", "what": "Connector end-to-end hashing (CPU time)",
            "measured": f"{_fmt(hashing['e2e_rows_per_s_cpu'])} rows/s",
            "baseline": f"raw {hashing['raw_baseline']} "
                        f"{_fmt(hashing['raw_rows_per_s_cpu'][hashing['raw_baseline']])} rows/s",
            "ratio": hashing["ratio_cpu"], "target": "≥ 0.4x", "met": hashing["ratio_cpu"] >= 0.4,
        })  # fmt: skip
        if "parallel_ratio_wall" in hashing:
            raw_wall = hashing["raw_rows_per_s_wall"][hashing["raw_baseline"]]
            rows.append({
                "id": "hashing_parallel",
                "what": f"Connector end-to-end hashing, {hashing['parallel_workers']} worker "
                        "processes (wall time)",
                "measured": f"{_fmt(hashing['parallel_rows_per_s_wall'])} rows/s",
                "baseline": f"raw {hashing['raw_baseline']}, one thread, wall "
                            f"{_fmt(raw_wall)} rows/s",
                "ratio": hashing["parallel_ratio_wall"], "target": "≥ 0.4x",
                "met": hashing["parallel_ratio_wall"] >= 0.4,
            })  # fmt: skip
    policy = _figures(results, "policy")
    if policy:
        emb = policy["embedded"]
        rows.append({
            "id": "policy", "what": "One embedded policy decision, p99 (CPU time)",
            "measured": f"{_fmt(emb['cpu_p99_us'])} µs", "baseline":
                f"raw regorus eval {_fmt(policy['raw']['cpu_p99_us'])} µs",
            "ratio": emb["cpu_p99_us"] / policy["raw"]["cpu_p99_us"], "target": "< 1 ms",
            "met": emb["cpu_p99_us"] < 1000,
        })  # fmt: skip
    console = _figures(results, "console")
    if console:
        worst = max(console["results"], key=lambda r: r["p99_ms"])
        rows.append({
            "id": "console", "what": f"Console audit page, worst case ({worst['case']}), p99",
            "measured": f"{_fmt(worst['p99_ms'], 1)} ms",
            "baseline": f"raw search {_fmt(worst['raw_p99_ms'], 2)} ms",
            "ratio": worst["p99_ms"] / max(worst["raw_p99_ms"], 1e-9), "target": "< 300 ms",
            "met": worst["p99_ms"] < 300,
        })  # fmt: skip
    load = _figures(results, "loadtest")
    if load:
        rows.append({
            "id": "load",
            "what": f"Mixed load, {load['workers']} workers: sustained at p99 < 50 ms",
            "measured": f"{_fmt(load['sustained_rps_p99_under_50ms'])} req/s, "
                        f"{load['errors']} errors",
            "baseline": "—", "ratio": None, "target": "reported; errors = 0",
            "met": load["errors"] == 0 and load["sustained_rps_p99_under_50ms"] > 0,
        })  # fmt: skip
        rows.append({
            "id": "memory", "what": "Gateway memory per worker during the load test (RSS)",
            "measured": f"{_fmt(load['max_worker_rss_mb'])} MB", "baseline": "—",
            "ratio": None, "target": "< 300 MB", "met": load["max_worker_rss_mb"] < 300,
        })  # fmt: skip
    return rows


NOTES = {
    "batch": (
        "Batch match: besides the lookup (aggregated per token in PostgreSQL), the API writes "
        "what the raw query does not: the audit entry with its detail record and one "
        "token-index row per asked token (10,000 rows, for subject access) and a disclosure row "
        "per hit (5,000 rows, binary COPY, for retraction notices). Measured in process on a "
        "quiet machine: ~500 ms per 10,000-item match, of which the database takes ~250 ms "
        "(lookup ~140 ms, audit entry and token index ~100 ms, disclosures ~55 ms); those "
        "writes alone take more than half of the raw lookup's time, so 0.5x cannot be met "
        "while they are written in the request. Moving the token index into the background "
        "sequencer (which already folds entries into the tree) and deriving retraction "
        "recipients from it is the change that would (bench/performance_notes.md). The raw "
        "baseline swings with the cache: the same 10,000 tokens are asked every round."
    ),
    "single_p99": (
        "Single match latency and throughput: the quota counter lock is no longer held by "
        "the request (each charge is one autocommit statement of its own), FastAPI's "
        "per-request dependency re-analysis is gone, identical policy decisions are reused "
        "for a second and authentication is one autocommit read. What remains is CPU: "
        "about 8-12 ms of gateway CPU per request (the load-test table) against ~1.3 ms for "
        "the minimal durable request, on two cores shared with PostgreSQL and the load "
        "generator, and 8 round trips for a miss (BEGIN, client row, epochs, lookup, audit "
        "entry, COMMIT; the quota charge and the enumeration statistics, one statement "
        "each) against 3."
    ),
    "single_rps": (
        "See the note on single-match latency: gateway CPU per request bounds throughput."
    ),
    "audit_append": (
        "Audit append: the audited request runs one more statement than the plain one (the "
        "CTE that draws the number and writes the entry with its canonical body and leaf "
        "hash), i.e. one more round trip, more WAL per commit and two more index insertions; "
        "with 16 writers on two shared cores PostgreSQL's CPU, not the disk flush, is the "
        "limit, so the extra statement shows almost fully in the ratio. No global lock is "
        "involved (the sequencer folds entries into the tree outside the requests)."
        " Group commit (one transaction and one commit for the entries of concurrent "
        "callers, `gateway/audit_trail/group_commit.py`) was measured too and does not help "
        "on this machine: it cuts the CPU per entry below the plain request's, but the "
        "writers of a process then wait for the batch in flight (840-1,090 entries/s against "
        "1,050-1,260 with one commit per entry), while PostgreSQL already shares one WAL "
        "flush among concurrent commits; it stays opt-in and unused by the request paths "
        "(docs/audit.md, sections 5 and 15)."
    ),
    "policy": (
        "Policy decision: on this machine the raw regorus evaluation of the bundle alone "
        "takes ~0.66 ms p50 and ~0.84 ms p99 of CPU (it was 0.40 / 0.66 ms on the machine of "
        "the previous run; the same measurement at the commit before this run's policy "
        "change gave the same ~0.7 ms p50, so the machine, not the bundle, moved), and the "
        "Python translation and checks add ~0.1 ms; the p99 also catches the other "
        "benchmarks' processes. In the gateway a worker reuses the decision of an identical "
        "request for `PPSGATE_POLICY_CACHE_SECONDS` (1 s), so a partner screening in real "
        "time pays one evaluation per distinct question per second, not one per request."
    ),
    "proof": "Inclusion proof: read `O(log n)` stored subtree hashes; see `docs/audit.md`.",
    "load": (
        "Mixed load: the load generator shares the two cores with the gateway workers and "
        "PostgreSQL; with ~8-12 ms of gateway CPU per request the two cores saturate at a "
        "few connections, after which latency grows with the connections, so the p99 "
        "passes 50 ms beyond a handful of them."
    ),
    "memory": "Memory: RSS of each uvicorn worker sampled every 250 ms during every step.",
    "hashing": (
        "Hashing (connector): end to end reads the CSV, detects each value's type, "
        "canonicalises it (libphonenumber rules, the IBAN registry, IDNA for e-mail and "
        "domains), hashes and writes JSON Lines; the raw baseline is one C HMAC call per "
        "already-canonical string. Canonicalisation dominates (about 2-4 µs per row by type, "
        "against 1.5-2.5 µs for the raw HMAC call), so one process stays near 0.25-0.3 in CPU "
        "time. The first row is one process in CPU time; the second is `hash --workers N` "
        "(the default for inputs of 4 MB or more) in wall time against the same "
        "single-threaded raw HMAC, also in wall time: it uses more CPU in total, not less, "
        "and gains only when cores are free (the load average at the time is in "
        "bench/results.json). Both runs' outputs are compared byte for byte. See "
        "`bench/hashing.py` and docs/hashing.md."
    ),
    "hashing_parallel": (
        "Same run and file as the row above, `hash --workers N` in wall time against the raw "
        "HMAC in wall time on one thread; cores shared with the other benchmarks and users of "
        "the machine make this figure swing (see the hashing note)."
    ),
}


def svg_chart(results: dict[str, Any]) -> str | None:
    """Hand-written SVG: batch items/s (API, raw) and single-match p50/p99 against size."""
    growth = _figures(results, "growth")
    if not growth or len(growth["by_size"]) < 2:
        return None
    sizes = sorted(int(s) for s in growth["by_size"])
    data = [growth["by_size"][str(s)] for s in sizes]
    width, height, pad = 760, 320, 60
    panel = (width - 3 * pad) / 2

    def xs(i: int, left: float) -> float:
        return left + (panel * i / (len(sizes) - 1))

    def polyline(values: list[float], top: float, left: float, colour: str, label: str) -> str:
        scale = top or 1
        points = " ".join(
            f"{xs(i, left):.1f},{height - pad - (height - 2 * pad) * v / scale:.1f}"
            for i, v in enumerate(values)
        )
        last_y = height - pad - (height - 2 * pad) * values[-1] / scale
        return (
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
            f'<text x="{xs(len(values) - 1, left) - 4:.1f}" y="{last_y - 6:.1f}" '
            f'font-size="11" text-anchor="end" fill="{colour}">{label}</text>'
        )

    def axes(left: float, title: str, top: float, unit: str) -> str:
        ticks = "".join(
            f'<text x="{xs(i, left):.1f}" y="{height - pad + 16}" font-size="11" '
            f'text-anchor="middle">{_size(s)}</text>'
            for i, s in enumerate(sizes)
        )
        return (
            f'<line x1="{left}" y1="{height - pad}" x2="{left + panel}" y2="{height - pad}" '
            f'stroke="#444"/><line x1="{left}" y1="{pad}" x2="{left}" y2="{height - pad}" '
            f'stroke="#444"/><text x="{left + panel / 2}" y="{pad - 24}" font-size="13" '
            f'text-anchor="middle" font-weight="bold">{title}</text>'
            f'<text x="{left - 6}" y="{pad + 4}" font-size="11" text-anchor="end">'
            f"{top:,.0f}</text>"
            f'<text x="{left - 6}" y="{height - pad}" font-size="11" text-anchor="end">0</text>'
            f'<text x="{left + panel / 2}" y="{height - pad + 34}" font-size="11" '
            f'text-anchor="middle">indicators ({unit})</text>{ticks}'
        )

    api = [d["batch_match"]["api_items_per_s"] for d in data]
    raw = [d["batch_match"]["raw_items_per_s"] for d in data]
    top_rate = max(raw + api) * 1.1
    p50 = [d["single_match"]["gateway"]["p50_ms"] for d in data]
    p99 = [d["single_match"]["gateway"]["p99_ms"] for d in data]
    base99 = [d["single_match"]["minimal_durable"]["p99_ms"] for d in data]
    top_ms = max(p99 + base99) * 1.1
    left2 = 2 * pad + panel
    body = "".join([
        axes(pad, "Batch match of 10,000: items/s", top_rate, "log-spaced sizes"),
        polyline(raw, top_rate, pad, "#888", "raw SQL"),
        polyline(api, top_rate, pad, "#1f6fb2", "API"),
        axes(left2, f"Single match, {growth['clients']} clients: ms", top_ms, "log-spaced sizes"),
        polyline(p99, top_ms, left2, "#c0392b", "p99"),
        polyline(p50, top_ms, left2, "#e67e22", "p50"),
        polyline(base99, top_ms, left2, "#888", "minimal p99"),
    ])  # fmt: skip
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="white"/>{body}</svg>\n'
    )


def _growth_table(results: dict[str, Any]) -> list[str]:
    growth = _figures(results, "growth")
    if not growth:
        return ["(the growth benchmark did not run or failed)"]
    lines = [
        "| indicators | batch API items/s | raw items/s | ratio | single p50 / p99 ms | "
        "req/s | minimal p50 / p99 ms | minimal req/s | submit rows/s | COPY rows/s | "
        "gateway CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in sorted(int(s) for s in growth["by_size"]):
        f = growth["by_size"][str(size)]
        b, s, u = f["batch_match"], f["single_match"], f["bulk_submit"]
        g, m = s["gateway"], s["minimal_durable"]
        lines.append(
            f"| {_size(size)} | {_fmt(b['api_items_per_s'])} | {_fmt(b['raw_items_per_s'])} | "
            f"{b['ratio']:.2f} | {g['p50_ms']:.1f} / {g['p99_ms']:.1f} | {_fmt(g['rps'])} | "
            f"{m['p50_ms']:.1f} / {m['p99_ms']:.1f} | {_fmt(m['rps'])} | "
            f"{_fmt(u['api_rows_per_s'])} | {_fmt(u['raw_rows_per_s'])} | "
            f"{f['gateway_cpu_seconds']:.1f} |"
        )
    return lines


def _audit_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| entries | inclusion p50 / p99 ms | consistency p50 / p99 ms | node lookup p50 / p99 ms "
        "| nodes read (incl.) | load s |",
        "|---|---|---|---|---|---|",
    ]
    for size in sorted(results["sizes"]):
        f = _figures(results, f"audit_{size}")
        if not f:
            continue
        lines.append(
            f"| {_size(size)} | {f['inclusion_p50_ms']:.2f} / {f['inclusion_p99_ms']:.2f} | "
            f"{f['consistency_p50_ms']:.2f} / {f['consistency_p99_ms']:.2f} | "
            f"{f['lookup_p50_ms']:.3f} / {f['lookup_p99_ms']:.3f} | {f['inclusion_nodes']:.1f} | "
            f"{f['load_seconds']:.0f} |"
        )
    first = _figures(results, f"audit_{min(results['sizes'])}")
    if first and "ratio_1" in first:
        lines += [
            "",
            "Appends were measured on a fresh log (`bench/audit.py` times them before the bulk "
            "load), not at each size: an append is a sequence draw and a primary-key insert "
            "whatever the log size, and the sequencer's work per entry grows as O(log n) (the "
            "node counts above). Appending at 1M and 10M entries was not measured in this run.",
            "",
            "| writers | plain INSERT+COMMIT req/s | audited req/s | ratio | audited p99 ms |",
            "|---|---|---|---|---|",
        ]
        for n in (1, 16):
            if f"ratio_{n}" in first:
                lines.append(
                    f"| {n} | {_fmt(first[f'plain_{n}'])} | {_fmt(first[f'audited_{n}'])} | "
                    f"{first[f'ratio_{n}']:.2f} | {first[f'audited_p99_ms_{n}']:.1f} |"
                )
    return lines


def _load_table(results: dict[str, Any]) -> list[str]:
    load = _figures(results, "loadtest")
    if not load:
        return ["(the load test did not run or failed)"]
    lines = [
        f"{load['workers']} uvicorn workers, {_size(load['indicators'])} indicators, "
        f"{load['seconds_per_step']:g} s per step; mix: 80 % single matches, 15 % batch "
        f"matches of {load['batch_items']}, 5 % submissions of {load['submit_items']}.",
        "",
        "| connections | req/s | p50 ms | p99 ms | single p99 | batch p99 | submit p99 | errors "
        "| worker RSS MB | gateway CPU ms/request |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in load["steps"]:
        by = s["by_type"]
        lines.append(
            f"| {s['connections']} | {_fmt(s['rps'])} | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} | "
            + " | ".join(
                f"{by[k]['p99_ms']:.1f}" if k in by else "—" for k in ("single", "batch", "submit")
            )
            + f" | {s['errors']} | {', '.join(f'{r:.0f}' for r in s['worker_rss_mb'])} | "
            f"{s['gateway_cpu_ms_per_request']:.1f} |"
        )
    return lines


def render(results: dict[str, Any], chart_name: str | None) -> str:
    m = results["machine"]
    rows = targets(results)
    out = [
        "# Performance",
        "",
        "<!-- Generated by `python -m bench` (bench/report.py) from one run; do not edit by "
        "hand: rerun the suite. -->",
        "",
        f"Produced by `{results['command']}` on {results['started']} "
        f"(finished {results.get('finished', '—')}). Every ratio compares a figure with a raw "
        "baseline measured **in the same run, on the same machine**.",
        "",
        f"Machine: {m['cores']} cores ({m['cpu_model']}), PostgreSQL {m['postgresql']} "
        f"({', '.join(f'{k}={v}' for k, v in sorted(m['postgresql_settings'].items()))}), "
        f"Python {m['python']}; load average before {m['load_average_before'][0]:.2f}, after "
        f"{m.get('load_average_after', [0])[0]:.2f}. The machine is shared with other "
        "engineers and CI runs: wall-clock figures are noisy, which is why some benchmarks "
        "also give CPU time.",
        "",
        "## Targets",
        "",
        "| target | measured | raw baseline (same run) | ratio | target | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}"
        out.append(
            f"| {r['what']} | {r['measured']} | {r['baseline']} | {ratio} | {r['target']} | "
            f"{_verdict(r['met'])} |"
        )
    missed = [r for r in rows if r["met"] is False]
    if missed:
        out += ["", "### Why targets were missed", ""]
        for r in missed:
            out.append(f"- **{r['what']}.** {NOTES.get(r['id'], '')}")
    sizes = results["sizes"]
    if max(sizes) < 10_000_000:
        out += [
            "",
            f"The issue sets some targets at 10 million indicators/entries; this run stopped "
            f"at {_size(max(sizes))} (the time box of the run). The curves below show how the "
            "cost grows; `python -m bench --indicators 100k,1M,10M` measures 10M.",
        ]
    out += ["", "## Growth: matching", ""]
    if chart_name:
        out += [f"![matching cost against indicators](img/{chart_name})", ""]
    out += _growth_table(results)
    out += ["", "## Growth: audit log", ""]
    out += _audit_table(results)
    out += ["", "## Load test", ""]
    out += _load_table(results)
    out += ["", "## Commands", ""]
    for key, entry in results["benchmarks"].items():
        status = "ok" if entry["returncode"] == 0 else f"FAILED ({entry['returncode']})"
        out.append(f"- `{key}`: `{entry['command']}` — {entry['seconds']:.0f} s, {status}")
    out.append("")
    return "\n".join(out)


def write(results: dict[str, Any], doc: Path, chart: Path) -> None:
    svg = svg_chart(results)
    if svg is not None:
        chart.parent.mkdir(parents=True, exist_ok=True)
        chart.write_text(svg)
    text = render(results, chart.name if svg is not None else None)
    extra = ROOT / "bench" / "performance_notes.md"
    if extra.exists():  # hand-written analysis kept beside the generated page
        text += "\n" + extra.read_text()
    doc.write_text(text)


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs as one page: later runs' benchmarks replace earlier ones of the same key."""
    merged = dict(runs[0])
    merged["benchmarks"] = {}
    for run in runs:
        merged["benchmarks"].update(run["benchmarks"])
    merged["sizes"] = sorted({size for run in runs for size in run["sizes"]})
    if len(runs) > 1:
        merged["command"] = "` and `".join(run["command"] for run in runs)
        merged["finished"] = runs[-1].get("finished", "—")
    return merged


def main() -> None:
    sources = [Path(a) for a in sys.argv[1:]] or [ROOT / "bench" / "results.json"]
    results = merge([json.loads(source.read_text()) for source in sources])
    chart = ROOT / "docs" / "img" / "performance-growth.svg"
    write(results, ROOT / "docs" / "performance.md", chart)


if __name__ == "__main__":
    main()
