"""What every benchmark sets up: a scratch PostgreSQL database, partners, an active epoch,
and a gateway served by uvicorn (standard extras) in a separate process on loopback."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import policies
from bench.generate import Loaded, load_indicators, new_tokeniser
from connectors.canonical import Kind
from connectors.client import GatewayClient
from connectors.hashing import HmacTokeniserV1
from connectors.keystore import ConnectorKeys
from gateway.audit_trail.events import Actor
from gateway.bootstrap import build_services
from gateway.config import load_settings
from gateway.db import build_engine, transaction
from gateway.epochs.models import EpochState, KeyEpoch
from gateway.keys.models import CustodianKey
from gateway.migrate import upgrade
from gateway.partners.models import Partner, PartnerClient
from gateway.partners.service import PartnerRegistry
from gateway.services import Services

BASE_URL = os.environ.get(
    "PPSGATE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def conninfo(url: str) -> str:
    """A libpq connection string from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def scratch_database(prefix: str = "ppsgate_bench") -> Iterator[str]:
    """A uniquely named database, dropped afterwards (connections terminated first)."""
    name = f"{prefix}_{secrets.token_hex(3)}"
    admin = conninfo(BASE_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def activate_epoch(session: Session, epoch: int = 1) -> None:
    """An active salt epoch without the custodian's HTTP flow.

    The benchmarks measure matching, not key distribution; the custodian's key row is a
    placeholder (the gateway never sees a salt either way: tokens arrive already hashed).
    """
    now = datetime.now(tz=UTC)
    session.add(Partner(id="bench-custodian", name="Bench custodian", sector="operator"))
    session.add(
        PartnerClient(id="bench-custodian-c1", partner_id="bench-custodian", public_jwk="{}")
    )
    session.flush()
    key_id = secrets.token_hex(32)
    session.add(
        CustodianKey(
            key_id=key_id,
            public_key=secrets.token_bytes(32),
            client_id="bench-custodian-c1",
            created_at=now,
        )
    )
    session.flush()
    session.add(
        KeyEpoch(
            epoch=epoch,
            state=EpochState.ACTIVE.value,
            custodian_key_id=key_id,
            created_at=now,
            activated_at=now,
        )
    )
    session.flush()


def uvicorn_command(target: str, port: int, workers: int = 1) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        str(workers),
    ]


@contextmanager
def serve(
    target: str, env: dict[str, str], port: int, *, workers: int = 1, ready_path: str = "/docs"
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Serve ``target`` (an app factory) on 127.0.0.1:``port``; yields (url, process)."""
    process = subprocess.Popen(uvicorn_command(target, port, workers), env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{target} exited with {process.returncode}")
            try:
                httpx.get(f"{url}{ready_path}", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        process.wait(20)


BENCH_PARTNERS = ("bank-a", "bank-b", "marketplace-a")
BENCH_SECTORS = ("bank", "bank", "marketplace")


def bench_policy_dir(target: Path) -> Path:
    """The bundled policies with the bench partners' quotas raised and enumeration alerts off.

    Quotas bound what a key holder can learn by guessing; a benchmark sends millions of
    items from three partners on purpose, so they get per-partner overrides, as the policy
    data provide for partners whose agreed volume differs. Everything else is unchanged.
    """
    source = Path(policies.__file__).parent
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    quotas_file = target / "data" / "quotas.json"
    quotas = json.loads(quotas_file.read_text())
    unbounded = {"partner": 10**12, "client": 10**12, "enumeration": None}
    quotas["partners"] = {
        partner: {purpose: dict(unbounded) for purpose in quotas["purposes"]}
        for partner in BENCH_PARTNERS
    }
    quotas_file.write_text(json.dumps(quotas))
    return target


@dataclass
class BenchEnvironment:
    """A migrated scratch database with the bench partners, an active epoch, and the
    settings and environment a gateway process needs to serve it."""

    url: str
    env: dict[str, str]
    services: Services
    keys: dict[str, ConnectorKeys]
    tokeniser: HmacTokeniserV1 = field(default_factory=new_tokeniser)
    known: list[tuple[Kind, str]] = field(default_factory=list)
    indicators: int = 0

    def client(self, base_url: str, partner: str) -> GatewayClient:
        return GatewayClient(base_url, f"{partner}-bench", self.keys[partner])

    def load(self, total: int) -> Loaded:
        """Grow the indicators table to ``total`` identifiers (COPY), keeping known tokens."""
        loaded = load_indicators(
            conninfo(self.url),
            self.services.pepper.for_epoch(1),
            self.tokeniser,
            total - self.indicators,
            known=max(0, 10_000 - len(self.known)),
            seed=total,
        )
        self.known.extend(loaded.known)
        self.indicators = total
        return loaded


@contextmanager
def bench_environment(port: int, *, pool_size: int = 20) -> Iterator[BenchEnvironment]:
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        policy_dir = bench_policy_dir(Path(tmp) / "policies")
        public_url = f"http://127.0.0.1:{port}"
        env = {
            "PPSGATE_DATABASE_URL": url,
            "PPSGATE_DATA_DIR": tmp,
            "PPSGATE_PUBLIC_URL": public_url,
            "PPSGATE_LOG_LEVEL": "WARNING",
            "PPSGATE_DATABASE_POOL_SIZE": str(pool_size),
            "PPSGATE_POLICY_DIR": str(policy_dir),
            "PPSGATE_ACCESS_TOKEN_LIFETIME_SECONDS": "3600",
        }
        settings = load_settings(
            database_url=url, data_dir=Path(tmp), public_url=public_url, policy_dir=policy_dir
        )
        engine = build_engine(settings)
        upgrade(engine)
        engine.dispose()
        services = build_services(settings)
        keys = {partner: ConnectorKeys.generate() for partner in BENCH_PARTNERS}
        with transaction(services.session_factory) as session:
            registry = PartnerRegistry(session, services.audit, actor=Actor("bench", "bench"))
            for partner, sector in zip(BENCH_PARTNERS, BENCH_SECTORS, strict=True):
                registry.add_partner(name=partner, sector=sector, partner_id=partner)
                registry.add_client(
                    partner_id=partner,
                    jwk=keys[partner].public_jwks(),
                    scopes=["indicators:write", "match:query"],
                    client_id=f"{partner}-bench",
                )
            activate_epoch(session)
        try:
            yield BenchEnvironment(url=url, env=env, services=services, keys=keys)
        finally:
            services.engine.dispose()


def worker_pids(supervisor: int) -> list[int]:
    """uvicorn's worker processes under ``supervisor`` (itself when it serves alone)."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children")
    if not children.exists():
        return [supervisor]
    pids = [int(pid) for pid in children.read_text().split()]
    workers = [p for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]
    return workers or [supervisor]


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (from /proc; 0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
