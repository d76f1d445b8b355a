"""docs/operations.md, "Deploy a partnership gateway", played block by block on PostgreSQL.

From ``ppsgate init`` on an empty database to a bank's first match (and a partner's
departure, after which the match finds nothing), every request of the
partners' connectors going through nginx terminating TLS on loopback. The page's blocks run
as written except for the substitutions its last table lists, so a command that stops
working, or a step the page forgets, fails this test.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from gateway.server import free_port
from tests.support.databases import in_ci, postgres_base_url
from tests.support.runbook import make_tls, runbook_blocks, substitute, write_systemctl
from tests.support.runbook_systemctl import _nginx, _stop

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _require(condition: bool, message: str) -> None:
    if condition:
        return
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[dict[str, Path | str]]:
    """A blank machine's layout in a temporary directory; stops what the runbook started."""
    base = postgres_base_url()
    _require(base is not None, "the runbook test needs PPSGATE_TEST_DATABASE_URL")
    _require(shutil.which("nginx") is not None, "the runbook test needs nginx (Debian package)")
    assert base is not None
    name = f"ppsgate_rb_{secrets.token_hex(4)}"
    layout: dict[str, Path | str] = {
        "base": base,
        "name": name,
        "state": tmp_path / "standin",
        "root": tmp_path,
    }
    try:
        yield layout
    finally:
        state = tmp_path / "standin"
        for pid_file in state.glob("*.pid"):
            if pid_file.stem == "nginx":
                _nginx(state, "stop")
            else:
                _stop(state, pid_file.stem)
        admin = make_url(base).set(drivername="postgresql", database="postgres")
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as db:
            db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            db.execute(f'DROP DATABASE IF EXISTS "{name}"')
            db.execute(f'DROP ROLE IF EXISTS "{name}"')


def _script(machine: dict[str, Path | str], tls_port: int, gateway_port: int) -> str:
    root = Path(machine["root"])
    tls = make_tls(root / "tls")
    url = make_url(str(machine["base"]))
    name = str(machine["name"])
    values = {
        "PPSGATE_HOME": str(root / "etc"),
        "PPSGATE_SRC": str(ROOT),
        "PUBLIC_URL": f"https://127.0.0.1:{tls_port}",
        "PUBLIC_HOST": "127.0.0.1",
        "TLS_PORT": str(tls_port),
        "TLS_CERT": str(tls.cert),
        "TLS_KEY": str(tls.key),
        "GATEWAY_PORT": str(gateway_port),
        "DB_NAME": name,
        "DB_USER": name,
        "DB_URL": f"postgresql+psycopg://{name}@{url.host}:{url.port or 5432}/{name}",
        "SYSTEMD_DIR": str(root / "systemd"),
        "NGINX_SITES": str(root / "nginx-sites"),
        "BACKUP_DIR": str(root / "backups"),
        "PARTNERS": str(root / "partners"),
    }
    for directory in ("etc", "systemd", "nginx-sites", "home"):
        (root / directory).mkdir()
    blocks = runbook_blocks((ROOT / "docs" / "operations.md").read_text(encoding="utf-8"))
    assert len(blocks) > 10, "the runbook lost its command blocks"
    blocks[0] = substitute(blocks[0], values)
    write_systemctl(root / "bin", Path(machine["state"]), root / "systemd", root / "nginx-sites")
    machine["ca"] = tls.ca
    parts = ["set -euo pipefail"]
    for number, block in enumerate(blocks, start=1):
        parts.append(f"echo '::runbook block {number}' >&2")
        parts.append(block)
    return "\n".join(parts) + "\n"


def _environment(machine: dict[str, Path | str]) -> dict[str, str]:
    root = Path(machine["root"])
    url = make_url(str(machine["base"]))
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("PPSGATE_", "PG"))}
    return {
        **inherited,
        "PATH": os.pathsep.join(
            [str(root / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        "PYTHONPATH": str(ROOT),
        "HOME": str(root / "home"),
        "PGHOST": url.host or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "postgres",
        "SSL_CERT_FILE": str(machine["ca"]),
        "CURL_CA_BUNDLE": str(machine["ca"]),
    }


def test_the_deploy_runbook_reaches_a_first_match_through_tls(
    machine: dict[str, Path | str],
) -> None:
    tls_port, gateway_port = free_port(), free_port()
    script = _script(machine, tls_port, gateway_port)
    root = Path(machine["root"])
    ran = subprocess.run(
        ["bash", "-c", script],
        env=_environment(machine),
        cwd=root / "home",
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    logs = "".join(
        f"\n--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
        for log in sorted(Path(machine["state"]).glob("*.log"))
    )
    assert ran.returncode == 0, f"{ran.stderr[-6000:]}\n{ran.stdout[-3000:]}{logs}"

    screened = root / "partners" / "bank-a" / "screened.jsonl"
    results = [json.loads(line) for line in screened.read_text().splitlines()]
    assert [(r["payee"], r["hit"]) for r in results] == [("P-1", True), ("P-2", False)]
    assert results[0]["categories"] == ["purchase_fraud"]
    after = root / "partners" / "bank-a" / "after-offboarding.jsonl"
    assert [json.loads(line)["hit"] for line in after.read_text().splitlines()] == [False, False]
    # The connectors were configured with the TLS URL only; the gateway never listened on it.
    assert f"https://127.0.0.1:{tls_port}" in (root / "etc" / "gateway.env").read_text()
    assert list((root / "backups").glob("ppsgate-*.dump")), "no database backup was made"
