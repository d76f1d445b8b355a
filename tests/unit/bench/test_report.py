"""The performance page's target rows: issue 22's targets, each judged from the run's figures."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bench import report


def _ok(figures: dict[str, Any]) -> dict[str, Any]:
    return {"command": "cmd", "seconds": 1.0, "returncode": 0, "figures": figures, "output": []}


def _growth_at(*, cpu: float, p99_ratio: float, rps_ratio: float, ratio: float) -> dict[str, Any]:
    gateway = {"p50_ms": 10.0, "p99_ms": 30.0 * p99_ratio, "rps": 600.0 * rps_ratio, "errors": 0}
    minimal = {"p50_ms": 8.0, "p99_ms": 30.0, "rps": 600.0, "errors": 0}
    return {
        "load_seconds": 1.0,
        "batch_match": {"api_items_per_s": 50_000 * ratio, "raw_items_per_s": 50_000.0,
                        "ratio": ratio},
        "single_match": {"gateway": {**gateway, "cpu_ms": cpu},
                         "minimal_durable": {**minimal, "cpu_ms": 1.25},
                         "p99_ratio": p99_ratio, "throughput_ratio": rps_ratio,
                         "gateway_cpu_ms": cpu, "minimal_cpu_ms": 1.25},
        "bulk_submit": {"api_rows_per_s": 40_000 * ratio, "raw_rows_per_s": 40_000.0,
                        "ratio": ratio},
        "gateway_cpu_seconds": 12.0,
    }  # fmt: skip


def results(*, good: bool, size: int = 10_000_000) -> dict[str, Any]:
    """A run whose every issue-22 figure is on the ``good`` side of its target."""
    growth = _growth_at(
        cpu=2.4 if good else 2.6,
        p99_ratio=1.5 if good else 1.6,
        rps_ratio=0.7 if good else 0.69,
        ratio=0.5 if good else 0.49,
    )
    audit: dict[str, Any] = {
        "entries": size, "load_seconds": 3.0, "inclusion_nodes": 24.0,
        "inclusion_p50_ms": 0.5, "inclusion_p99_ms": 1.0, "consistency_p50_ms": 0.5,
        "consistency_p99_ms": 1.0, "lookup_p50_ms": 0.2, "lookup_p99_ms": 0.3,
    }  # fmt: skip
    for n in (1, 16):
        ratio = 1.0 if good else 0.99
        audit.update({
            f"plain_{n}": 1000.0, f"audited_{n}": 1000.0 * ratio, f"ratio_{n}": ratio,
            f"audited_p99_ms_{n}": 9.0, f"entry_alone_ratio_{n}": 0.8,
            f"group_commit_ratio_{n}": 0.6, f"group_commit_batch_{n}": 3.0,
        })  # fmt: skip
    oprf = {
        "items": 100_000, "batch_size": 2000, "in_flight": 4, "crypto_workers": 2,
        "evaluator_workers": 1, "load_average_before": 1.0, "v1_tokens_per_s": 1_700_000.0,
        "raw_tokens_per_s": 2_300.0, "raw_stage_cpu_us": {"blind": 67.0, "unblind": 54.0},
        "raw_connector_stages_cpu_us": 385.0,
        "v2_tokens_per_s": 10_000.0 if good else 9_999.0, "v2_seconds": 10.0,
        "ratio_v2_v1": 0.006, "evaluator_cpu_us": {"a": 65.0, "b": 66.0},
        "connector_cpu_us": 330.0, "connector_process_cpu_us": 3.0,
        "connector_workers_cpu_us": 327.0, "target_tokens_per_s": 10_000,
    }  # fmt: skip
    policy = {
        "raw": {"cpu_p50_us": 60.0 if good else 61.0, "cpu_p99_us": 90.0},
        "embedded": {"cpu_p50_us": 80.0, "cpu_p99_us": 150.0 if good else 151.0},
        "cached": {"cpu_p50_us": 7.0, "cpu_p99_us": 8.0},
    }
    step = {
        "connections": 4, "rps": 300.0, "p50_ms": 10.0, "p99_ms": 40.0, "errors": 0,
        "by_type": {"single": {"p99_ms": 30.0}}, "worker_rss_mb": [180.0, 190.0],
        "gateway_cpu_ms_per_request": 4.5,
    }  # fmt: skip
    load = {
        "workers": 2, "indicators": 100_000, "seconds_per_step": 10.0, "batch_items": 100,
        "submit_items": 10, "steps": [step], "errors": 0, "sustained_rps_p99_under_50ms": 300.0,
        "max_worker_rss_mb": 190.0,
    }  # fmt: skip
    hashing = {
        "e2e_rows_per_s_cpu": 90_000.0, "raw_baseline": "hmac.digest",
        "raw_rows_per_s_cpu": {"hmac.digest": 200_000.0}, "ratio_cpu": 0.45,
    }  # fmt: skip
    console = {"results": [{"case": "dpo", "p99_ms": 120.0, "raw_p99_ms": 20.0}]}
    return {
        "command": ".venv/bin/python -m bench",
        "started": "2026-12-07T18:00:00+00:00",
        "finished": "2026-12-07T19:00:00+00:00",
        "quick": False,
        "sizes": [size],
        "machine": {
            "cores": 2,
            "cpu_model": "test",
            "postgresql": "16",
            "python": "3.11",
            "postgresql_settings": {"fsync": "on"},
            "load_average_before": [1.0, 1.0, 1.0],
            "load_average_after": [1.0, 1.0, 1.0],
        },
        "benchmarks": {
            "hashing": _ok(hashing),
            "policy": _ok(policy),
            "growth": _ok({"sizes": [size], "clients": 16, "by_size": {str(size): growth}}),
            f"audit_{size}": _ok(audit),
            "oprf": _ok(oprf),
            "console": _ok(console),
            "loadtest": _ok(load),
        },
    }


ISSUE_22 = (
    "cpu", "single_p99", "single_rps", "policy_raw", "policy_decision", "audit_append", "batch",
    "submit", "oprf",
)  # fmt: skip
EARLIER = ("proof", "console", "load", "memory", "hashing")


def by_id(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in report.targets(run)}


def test_every_issue_22_target_has_a_row_in_the_issues_order() -> None:
    rows = report.targets(results(good=True))
    assert [r["id"] for r in rows if r["origin"] == report.ISSUE] == list(ISSUE_22)
    assert [r["id"] for r in rows if r["origin"] == report.EARLIER] == list(EARLIER)


@pytest.mark.parametrize("good", [True, False])
def test_each_issue_22_verdict_follows_its_figure_at_the_boundary(good: bool) -> None:
    rows = by_id(results(good=good))
    assert {target: rows[target]["met"] for target in ISSUE_22} == dict.fromkeys(ISSUE_22, good)


def test_rows_show_the_measured_figure_and_the_same_run_baseline() -> None:
    rows = by_id(results(good=False))
    assert rows["cpu"]["measured"] == "2.60 ms"
    assert rows["cpu"]["baseline"] == "minimal durable request 1.25 ms"
    assert rows["cpu"]["ratio"] == pytest.approx(2.6 / 1.25)
    assert rows["policy_raw"]["measured"] == "61 µs"
    assert rows["policy_decision"]["measured"] == "151 µs"
    assert rows["audit_append"]["ratio"] == pytest.approx(0.99)
    assert rows["oprf"]["measured"] == "9,999 tokens/s"
    assert rows["oprf"]["baseline"] == "v1 HMAC 1,700,000 tokens/s"


def test_ten_million_targets_say_when_the_run_stopped_below_10m() -> None:
    small = by_id(results(good=True, size=1_000_000))
    for target in ("batch", "submit", "proof"):
        assert report._verdict(small[target]) == "met at 1M (target at 10M, not run)"
    full = by_id(results(good=True))
    assert report._verdict(full["batch"]) == "met"
    page = report.render(results(good=False, size=1_000_000), None)
    assert "This run stopped at 1M" in page
    assert "This run stopped" not in report.render(results(good=False), None)


def test_a_benchmark_that_failed_keeps_its_rows_unjudged() -> None:
    run = results(good=True)
    for key in ("growth", "policy", "oprf"):
        run["benchmarks"][key]["returncode"] = 1
    rows = by_id(run)
    for target in ("cpu", "single_p99", "single_rps", "policy_raw", "batch", "submit", "oprf"):
        assert rows[target]["met"] is None
        assert rows[target]["measured"] == "not measured in this run"
    assert rows["audit_append"]["met"] is True
    report.render(run, None)  # renders without the missing figures


def test_growth_figures_from_before_cpu_was_recorded_leave_the_cpu_row_unjudged() -> None:
    run = copy.deepcopy(results(good=True))
    single = run["benchmarks"]["growth"]["figures"]["by_size"]["10000000"]["single_match"]
    del single["gateway_cpu_ms"], single["minimal_cpu_ms"]
    assert by_id(run)["cpu"]["met"] is None
    assert by_id(run)["single_p99"]["met"] is True


def test_the_page_gives_every_row_a_verdict_and_a_note() -> None:
    run = results(good=False)
    page = report.render(run, None)
    for row in report.targets(run):
        assert f"| {row['what']} |" in page
        assert report.note(row, run), row["id"]
    missed = page.split("### Why targets were missed")[1].split("### Notes on the other")[0]
    for row in report.targets(run):
        if row["origin"] == report.ISSUE:
            assert f"- **{row['what']}** — **missed**" in missed
    assert "330.0 µs of CPU per identifier" in page  # the oprf note quotes the run's figures
    assert "| 10M | " in page
    assert "| 2.60 | 1.25 |" in page  # the growth table gives (d) at each size


def test_small_ratios_keep_their_significant_digits() -> None:
    assert report._ratio(0.0013) == "0.0013"
    assert report._ratio(0.25) == "0.25"
    assert report._ratio(None) == "—"
