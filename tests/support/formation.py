"""A pg_auto_failover formation of the test's own: monitor, primary, synchronous standby.

Started and stopped with ``docker/pg-auto-failover/formation.sh``, the script the operations
guide uses too, in a fresh directory on three consecutive free loopback ports. ``kill_primary``
plays the loss of the primary's host: ``kill -9`` of its ``pg_autoctl`` keeper and its
PostgreSQL (the keeper alone would restart a killed postmaster in place).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from gateway.config import load_settings
from gateway.db import build_engine
from gateway.migrate import upgrade
from tests.support.postgres_server import descendants, service_directory, signal_all

SCRIPT = Path(__file__).resolve().parents[2] / "docker" / "pg-auto-failover" / "formation.sh"


def available() -> str | None:
    if shutil.which("pg_autoctl") is None:
        return "pg_auto_failover is not installed (Debian: postgresql-15-auto-failover)"
    return None


def _free_run(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        try:
            for port in range(base, base + count):
                with socket.socket() as check:
                    check.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no run of free loopback ports")


@dataclass
class Formation:
    root: Path = field(default_factory=lambda: service_directory("ppsgate-formation-"))
    base_port: int = field(default_factory=lambda: _free_run(3))
    url: str = ""

    def _script(self, *args: str, timeout: float = 240) -> str:
        # The script re-runs itself as the postgres user, who may not reach a checkout kept
        # in a private (0700) directory: run a copy from the formation's own directory.
        script = self.root / SCRIPT.name
        if not script.exists():
            shutil.copy2(SCRIPT, script)
        completed = subprocess.run(  # noqa: PLW1510 - the return code is checked below
            [str(script), *args], capture_output=True, text=True, timeout=timeout
        )
        if completed.returncode != 0:
            raise RuntimeError(f"formation.sh {args[0]} failed: {completed.stderr}")
        return completed.stdout

    def start(self) -> Formation:
        self.url = (
            self._script("start", str(self.root), str(self.base_port)).strip().splitlines()[-1]
        )
        engine = build_engine(load_settings(database_url=self.url))
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        return self

    def state(self) -> str:
        return self._script("state", str(self.root))

    def kill_primary(self, node: str = "node1") -> None:
        """The primary's host is lost: its keeper and its PostgreSQL die at once."""
        keeper = int((self.root / f"{node}.pid").read_text())
        signal_all([keeper, *descendants(keeper)], signal.SIGKILL)

    def stop(self) -> None:
        try:
            self._script("stop", str(self.root), timeout=120)
        finally:
            for name in ("node1", "node2", "monitor"):
                pid_file = self.root / f"{name}.pid"
                if pid_file.exists():
                    keeper = int(pid_file.read_text())
                    if Path(f"/proc/{keeper}").exists():
                        signal_all([keeper, *descendants(keeper)], signal.SIGKILL)
            shutil.rmtree(self.root, ignore_errors=True)
