"""A PostgreSQL server of the test's own, to freeze, kill and restore without harming anyone.

The machine's shared PostgreSQL serves other test runs, so tests that stop a server
(``SIGSTOP`` as a hung host or a partition looks, ``kill -9`` of the postmaster) start their
own cluster with Debian's ``initdb``/``pg_ctl`` in a temporary directory on a free loopback
port, and stop it by its pid afterwards. PostgreSQL refuses to run as root, so when the tests
run as root the server runs as the ``postgres`` system user (Debian's packages create it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from gateway.config import load_settings
from gateway.db import build_engine
from gateway.migrate import upgrade
from gateway.server import free_port

PG_BIN = Path(os.environ.get("PPSGATE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVICE_USER = "postgres"


def available() -> str | None:
    """Why a server of the test's own cannot be started here, or ``None`` if it can."""
    if not (PG_BIN / "pg_ctl").exists():
        return f"PostgreSQL server binaries are not installed in {PG_BIN}"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to start PostgreSQL as its own user"
    return None


def as_service_user(command: Sequence[str]) -> list[str]:
    """``command`` as the PostgreSQL system user when the tests run as root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SERVICE_USER, "--", *command]
    return list(command)


def service_directory(prefix: str) -> Path:
    """A fresh directory the PostgreSQL user owns (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(path, SERVICE_USER, SERVICE_USER)
    return path


def run(command: Sequence[str], *, timeout: float = 60) -> str:
    completed = subprocess.run(  # noqa: PLW1510 - the return code is checked below
        as_service_user(command), capture_output=True, text=True, timeout=timeout
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {completed.stdout}\n{completed.stderr}")
    return completed.stdout


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (PostgreSQL's backends and workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def signal_all(pids: Sequence[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


@dataclass
class PostgresServer:
    """One cluster in a temporary directory, trust authentication on 127.0.0.1 only."""

    root: Path = field(default_factory=lambda: service_directory("ppsgate-pg-"))
    port: int = field(default_factory=free_port)
    settings: tuple[str, ...] = ("fsync=off", "max_connections=60")

    @property
    def data(self) -> Path:
        return self.root / "data"

    def initdb(self) -> PostgresServer:
        run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--no-sync", "--no-instructions"])  # fmt: skip
        return self

    def configure(self, *lines: str) -> PostgresServer:
        """Append settings to postgresql.conf (read at the next start)."""
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("".join(f"{line}\n" for line in lines))
        return self

    def start(self) -> PostgresServer:
        if not self.data.exists():
            self.initdb()
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.root}"]
        options += [f"-c {setting}" for setting in self.settings]
        run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
             "-w", "-t", "60", "-o", " ".join(options), "start"])  # fmt: skip
        return self

    @property
    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str = "ppsgate") -> str:
        """A new database migrated to the newest revision; returns its SQLAlchemy URL."""
        conninfo = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        engine = build_engine(load_settings(database_url=self.url(name)))
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        return self.url(name)

    def freeze(self) -> None:
        """``SIGSTOP`` the postmaster, then its backends: the host stops answering."""
        postmaster = self.postmaster_pid
        signal_all([postmaster], signal.SIGSTOP)
        signal_all(descendants(postmaster), signal.SIGSTOP)

    def thaw(self) -> None:
        postmaster = self.postmaster_pid
        signal_all(descendants(postmaster), signal.SIGCONT)
        signal_all([postmaster], signal.SIGCONT)

    def kill(self) -> None:
        """``kill -9`` of the postmaster (its backends then exit by themselves)."""
        signal_all([self.postmaster_pid], signal.SIGKILL)

    def shut_down(self) -> None:
        """A clean, fast shutdown (the data directory stays)."""
        run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def stop(self) -> None:
        """Stop by pid (immediate shutdown) and remove the directory."""
        if (self.data / "postmaster.pid").exists():
            postmaster = self.postmaster_pid
            self.thaw()
            signal_all([postmaster], signal.SIGQUIT)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and Path(f"/proc/{postmaster}").exists():
                time.sleep(0.1)
            signal_all([postmaster, *descendants(postmaster)], signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)
