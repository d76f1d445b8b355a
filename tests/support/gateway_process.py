"""The gateway as a separate process (uvicorn, as deployed), so a test can ``kill -9`` it.

The process is configured only through ``PPSGATE_*`` environment variables, like a real
deployment; the test process builds its own services from the same settings to register
partners and to inspect the database, and reads the server's stderr from a file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from gateway.config import Settings, load_settings
from gateway.server import free_port


@dataclass
class GatewayProcess:
    database_url: str
    data_dir: Path
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def environment(self) -> dict[str, str]:
        return {
            "PPSGATE_ENV": "test",
            "PPSGATE_DATA_DIR": str(self.data_dir),
            "PPSGATE_DATABASE_URL": self.database_url,
            "PPSGATE_PUBLIC_URL": self.url,
            # Wall-clock decision limit: a CI scheduling stall must not fail a test closed
            # (the limit itself is tested on the engines, tests/unit/gateway/policy).
            "PPSGATE_POLICY_TIMEOUT_SECONDS": "10",
            **self.extra_env,
        }

    def settings(self, **overrides: Any) -> Settings:
        """The same settings the process reads from its environment."""
        return load_settings(
            env="test",
            data_dir=self.data_dir,
            database_url=self.database_url,
            public_url=self.url,
            **{"policy_timeout_seconds": 10.0, **overrides},
        )

    def start(self, timeout: float = 60.0) -> GatewayProcess:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "gateway.asgi:app_from_environment",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--log-level",
                "warning",
            ],
            env={**os.environ, **self.environment},
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.process.returncode}; see log")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gateway did not answer on {self.url} within {timeout} s")

    def kill(self) -> None:
        """``kill -9``: no shutdown handler, no flush, no rollback but the database's own."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._close_log()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
