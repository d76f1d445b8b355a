"""Operator commands and a served gateway append to one audit log at the same time.

The gateway runs as its own process (as deployed); ``ppsgate partner add`` and ``ppsgate user
add`` run as further processes on the same database while a partner submits batches. Every
request must succeed, every write of every process must be in the log, and the log must
still verify: the sequence numbers are allocated safely across processes on SQLite (its
database write lock) as on PostgreSQL (a sequence).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.functional.test_faults import (
    SUBMIT,
    Deployment,
    deployment,
    indicators,
    verify_audit_log,
)

pytestmark = pytest.mark.slow
MAX_SUBMISSIONS = 300  # enough to overlap every command; bounded so the check stays short


def ppsgate(deploy: Deployment, *args: str, stdin: str | None = None) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env={**os.environ, **deploy.process.environment},
        input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


def test_cli_and_served_gateway_append_to_one_audit_log(database_url: str, tmp_path: Path) -> None:
    with deployment(database_url, tmp_path) as deploy:
        statuses: list[int] = []
        stop = threading.Event()

        def submit() -> None:
            with deploy.client("marketplace-a") as client:
                while not stop.is_set() and len(statuses) < MAX_SUBMISSIONS:
                    body = {**SUBMIT, "items": indicators(3, f"r{len(statuses)}")}
                    response = client.request("POST", "/v1/indicators", json=body)
                    statuses.append(response.status_code)

        submitter = threading.Thread(target=submit)
        submitter.start()
        try:
            for n in range(2):
                ppsgate(deploy, "partner", "add", "--name", f"Bank {n}", "--sector", "bank",
                        "--id", f"bank-cli-{n}")  # fmt: skip
                ppsgate(
                    deploy, "user", "add", "--username", f"fg.cli-{n}", "--role",
                    "privacy_officer", "--partner", f"bank-cli-{n}", "--password-stdin",
                    stdin="a long enough password\n",
                )  # fmt: skip
        finally:
            stop.set()
            submitter.join(timeout=120)

        assert statuses
        assert set(statuses) == {200}
        assert len(deploy.entries("indicator:batch:submit")) == len(statuses)
        assert len(deploy.entries("partner:onboard")) >= 2
        verify_audit_log(deploy)
