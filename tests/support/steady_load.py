"""Matches and submissions at a steady rate from several connector clients, with outcomes.

Each thread submits one indicator (a fresh random token), then asks a match for it, and
sleeps between requests, until told to stop. Every request is recorded with its start and
end time and its outcome, so a test can check that each acknowledged (2xx) submission is
stored and audited, count the failures and measure how long writes were unavailable.
"""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.client import GatewayAPIError, GatewayClient

SUBMIT = {"purpose": "indicator_submission", "legal_basis": "art6_1_f"}
SCREEN = {"purpose": "payment_screening", "legal_basis": "art6_1_c"}


@dataclass(frozen=True)
class Outcome:
    kind: str  # "submit" or "match"
    token: str
    started: float
    ended: float
    status: int  # HTTP status, 0 when no answer arrived (connection cut)
    code: str | None = None  # the problem+json code of a refusal


def _send(client: GatewayClient, kind: str, token: str) -> Outcome:
    item: dict[str, Any] = {"kind": "iban", "epoch": 1, "token": token}
    if kind == "submit":
        observed = (datetime.now(tz=UTC) - timedelta(hours=1)).isoformat()
        body = {**SUBMIT, "items": [{**item, "category": "phishing", "observed_at": observed}]}
        path = "/v1/indicators"
    else:
        body, path = {**SCREEN, "items": [item]}, "/v1/match"
    started = time.monotonic()
    code = None
    try:
        status = client.request("POST", path, json=body).status_code
    except GatewayAPIError as exc:
        status, code = exc.status, exc.code
    except Exception as exc:  # noqa: BLE001 - no answer at all (the gateway or its path died)
        status, code = 0, f"{type(exc).__name__}: {exc}"
    return Outcome(kind, token, started, time.monotonic(), status, code)


@dataclass
class SteadyLoad:
    submitter: Callable[[], GatewayClient]  # one client per thread
    matcher: Callable[[], GatewayClient]
    threads: int = 4
    pause: float = 0.02  # seconds between one thread's requests
    outcomes: list[Outcome] | None = None

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(self.threads)
        self._futures: list[Any] = []
        self._lock = threading.Lock()
        self._done: list[Outcome] = []

    def _run(self, submitter: GatewayClient, matcher: GatewayClient) -> None:
        with submitter, matcher:
            while not self._stop.is_set():
                token = secrets.token_hex(32)
                for outcome in (_send(submitter, "submit", token), _send(matcher, "match", token)):
                    with self._lock:
                        self._done.append(outcome)
                self._stop.wait(self.pause)

    def snapshot(self) -> list[Outcome]:
        """The outcomes so far, while the load runs."""
        with self._lock:
            return list(self._done)

    def start(self) -> SteadyLoad:
        """Every client holds its access token before the first request is timed."""
        pairs = [(self.submitter(), self.matcher()) for _ in range(self.threads)]
        for submitter, matcher in pairs:
            submitter.access_token()
            matcher.access_token()
        self._futures = [self._pool.submit(self._run, *pair) for pair in pairs]
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for future in self._futures:
            future.result()
        self._pool.shutdown()
        self.outcomes = sorted(self.snapshot(), key=lambda o: o.started)
        return self.outcomes


def acknowledged(outcomes: list[Outcome], kind: str) -> list[Outcome]:
    return [o for o in outcomes if o.kind == kind and 200 <= o.status < 300]


def failed(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if not 200 <= o.status < 300]


def write_gap(outcomes: list[Outcome], after: float) -> float:
    """Seconds from ``after`` until a submission was acknowledged again (writes unavailable)."""
    later = [o.ended for o in acknowledged(outcomes, "submit") if o.started >= after]
    return (min(later) - after) if later else float("inf")


def figures(outcomes: list[Outcome]) -> dict[str, float]:
    """Requests per second, p50 and p99 latency (ms) of the answered requests, failures."""
    ok = [o for o in outcomes if 200 <= o.status < 300]
    latencies = sorted((o.ended - o.started) * 1000 for o in ok)
    span = max(o.ended for o in outcomes) - min(o.started for o in outcomes)
    return {
        "requests": len(outcomes),
        "per_second": len(ok) / span if span else 0.0,
        "p50_ms": statistics.median(latencies) if latencies else 0.0,
        "p99_ms": latencies[int(len(latencies) * 0.99)] if latencies else 0.0,
        "failed": len(failed(outcomes)),
    }
