"""Thirty parallel wrong passwords for one console account: only the limit is checked.

The failure counter is counted atomically before a password is checked, so a burst of
concurrent sign-ins cannot test more passwords than ``console_max_failed_signins``; every
refusal after that is the lockout answer, 429 with ``Retry-After``.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth.console_users import PasswordHashing
from gateway.server import BackgroundServer, free_port
from tests.functional.auth_helpers import audit_entries
from tests.functional.console_support import console_app

ATTEMPTS = 30
SIGNIN = re.compile(r'name="signin_token" value="([^"]+)"')


def _wrong_password(url: str, username: str) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=60) as http:
        form = http.get("/console/signin")
        found = SIGNIN.search(form.text)
        assert found is not None
        token = found.group(1)
        return http.post(
            "/console/signin",
            data={
                "username": username,
                "password": "not the password at all",
                "totp": "000000",
                "signin_token": token,
            },
            headers={"Cookie": f"__Host-ppsgate-signin={token}"},
        )


def test_parallel_wrong_passwords_check_only_the_limit(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[int] = []
    lock = threading.Lock()
    verify = PasswordHashing.verify

    def counting_verify(stored: str, password: str) -> Any:
        with lock:
            checked.append(1)
        return verify(stored, password)

    monkeypatch.setattr(PasswordHashing, "verify", staticmethod(counting_verify))
    with console_app(database_url, tmp_path) as console:
        limit = console.services.settings.console_max_failed_signins
        server = BackgroundServer(console.http.app, port=free_port()).start()  # type: ignore[arg-type]
        try:
            with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
                answers = list(pool.map(lambda _: _wrong_password(server.url, "petra"), range(30)))
        finally:
            server.stop()
        statuses = sorted(answer.status_code for answer in answers)
        assert len(checked) == limit, statuses
        assert statuses == [401] * (limit - 1) + [429] * (ATTEMPTS - limit + 1)
        lockout = console.services.settings.console_lockout_seconds
        for answer in answers:
            if answer.status_code == 429:
                assert 0 < int(answer.headers["Retry-After"]) <= lockout
        reasons = [
            entry["reasons"] for entry in audit_entries(console.services, "console:signin:deny")
        ]
        assert reasons.count(["account-locked-now"]) == 1
        assert reasons.count(["signin-failed"]) == limit - 1
        assert reasons.count(["account-locked"]) == ATTEMPTS - limit
