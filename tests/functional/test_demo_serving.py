"""A serving `ppsgate demo` as a newcomer meets it: what it prints works when pasted, a second
demo cannot harm it, and operator commands may write to its database while it serves.

The demo runs as its own process on a free loopback port, as ``make demo`` runs it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest

from connectors.client import GatewayClient
from connectors.keystore import load_keystore
from gateway.server import free_port

pytestmark = pytest.mark.slow

ACCOUNT = re.compile(
    r"^    user name:   (?P<username>\S+)\n"
    r"    password:    (?P<password>\S+)\n"
    r"    TOTP secret: (?P<secret>\S+)\n"
    r"    code now:    (?P<code_command>.+)$",
    re.MULTILINE,
)
CONNECTOR = re.compile(r"^  (?P<command>\S*ppsgate-connector match .+)$", re.MULTILINE)
CONSOLE = re.compile(r"^Console: (?P<url>\S+)", re.MULTILINE)
SIGNIN_TOKEN = re.compile(r'name="signin_token" value="([^"]+)"')


@dataclass
class Demo:
    url: str
    directory: Path
    process: subprocess.Popen[bytes]
    output: Path

    @property
    def printed(self) -> str:
        return self.output.read_text(encoding="utf-8")

    def database(self) -> Path:
        return self.directory / "ppsgate.sqlite3"


def demo_command(directory: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "gateway.cli", "demo", "--port", str(port),
        "--data-dir", str(directory),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("serving-demo")
    port = free_port()
    output = root / "demo.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            demo_command(root / "data", port), stdout=sink, stderr=subprocess.STDOUT
        )
    running = Demo(f"http://127.0.0.1:{port}", root / "data", process, output)
    try:
        deadline = time.monotonic() + 240
        while "Serving the gateway" not in running.printed:
            assert process.poll() is None, running.printed[-3000:]
            assert time.monotonic() < deadline, "the demo did not start serving"
            time.sleep(0.5)
        yield running
    finally:
        process.terminate()
        process.wait(timeout=30)


def cli_env(demo: Demo) -> dict[str, str]:
    return {**os.environ, "PPSGATE_DATA_DIR": str(demo.directory)}


def ppsgate(demo: Demo, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=cli_env(demo), input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def snapshot(demo: Demo) -> dict[str, object]:
    """What a wiped directory would lose: key stores, keys, partners, the audit log."""
    with sqlite3.connect(demo.database()) as connection:
        partners = connection.execute("SELECT id FROM partners ORDER BY id").fetchall()
        entries = connection.execute("SELECT count(*) FROM audit_entries").fetchone()
    files = sorted(
        p for p in demo.directory.rglob("*") if p.is_file() and p.suffix in {".json", ".key"}
    )
    return {
        "partners": partners,
        "entries": entries,
        "files": {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files},
    }


def bank_client(demo: Demo, partner_id: str = "bank-a") -> GatewayClient:
    keystore = demo.directory / "connectors" / partner_id / "keystore.json"
    # One attempt: a 5xx must reach the test, not be retried away.
    return GatewayClient(
        demo.url, f"{partner_id}-connector", load_keystore(keystore), max_attempts=1
    )


def deliveries(demo: Demo) -> int:
    with sqlite3.connect(demo.database()) as connection:
        return int(
            connection.execute(
                "SELECT count(*) FROM audit_entries WHERE tag = 'alert:delivery:send'"
            ).fetchone()[0]
        )


def test_second_demo_on_the_same_directory_is_refused_and_the_first_keeps_serving(
    demo: Demo, tmp_path: Path
) -> None:
    before = snapshot(demo)
    assert before["files"], "the demo wrote no key stores"
    second = subprocess.run(
        demo_command(demo.directory, free_port()),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert second.returncode == 1, second.stdout[-2000:]
    assert "another demo is running" in second.stderr
    assert "--data-dir" in second.stderr

    port = int(demo.url.rsplit(":", 1)[1])
    elsewhere = tmp_path / "other-demo"
    third = subprocess.run(
        demo_command(elsewhere, port), capture_output=True, text=True, timeout=120, check=False
    )
    assert third.returncode == 1, third.stdout[-2000:]
    assert "is in use" in third.stderr
    assert "--port" in third.stderr
    assert not elsewhere.exists(), "a demo refused for its port touched its directory"

    assert snapshot(demo) == before
    with bank_client(demo) as client:
        assert client.request("GET", "/v1/alerts").status_code == 200


def test_printed_console_accounts_sign_in(demo: Demo) -> None:
    accounts = {m["username"]: m for m in ACCOUNT.finditer(demo.printed)}
    assert set(accounts) == {"dpo.demo", "fg.bank-a", "vragenloket.demo"}
    assert "DEMO ONLY" in demo.printed
    console = CONSOLE.search(demo.printed)
    assert console is not None
    assert console["url"] == f"{demo.url}/console"

    dpo = accounts["dpo.demo"]
    assert sign_in(demo.url, dpo["username"], dpo["password"], pyotp.TOTP(dpo["secret"]).now())
    # The printed 'code now' command gives a code that works too.
    officer = accounts["fg.bank-a"]
    code = subprocess.run(
        shlex.split(officer["code_command"]), capture_output=True, text=True, check=True
    ).stdout.strip()
    assert sign_in(demo.url, officer["username"], officer["password"], code)
    assert not sign_in(demo.url, "vragenloket.demo", "not the password", "000000")


def sign_in(url: str, username: str, password: str, code: str) -> bool:
    """The sign-in form over plain loopback HTTP (the ``__Host-`` cookies sent by hand)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        form = http.get("/console/signin")
        assert form.status_code == 200
        token = SIGNIN_TOKEN.search(form.text)
        assert token is not None
        answer = http.post(
            "/console/signin",
            data={
                "username": username,
                "password": password,
                "totp": code,
                "signin_token": token.group(1),
            },
            headers={"Cookie": f"__Host-ppsgate-signin={token.group(1)}"},
            follow_redirects=False,
        )
        session = re.search(r"__Host-ppsgate-session=([^;]+)", answer.headers.get("set-cookie", ""))
        if answer.status_code != 303 or session is None:
            return False
        page = http.get(
            "/console/overview", headers={"Cookie": f"__Host-ppsgate-session={session[1]}"}
        )
        return page.status_code == 200 and username in page.text


def test_printed_connector_command_runs(demo: Demo) -> None:
    printed = CONNECTOR.search(demo.printed)
    assert printed is not None
    result = subprocess.run(
        shlex.split(printed["command"]), capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    hits = re.findall(r'"hit": (true|false)', result.stdout)
    assert hits == ["true", "false"], result.stdout


def test_root_page_links_docs_console_and_checkpoint(demo: Demo) -> None:
    page = httpx.get(f"{demo.url}/", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for link in ("/docs", "/console", "/v1/audit/sth"):
        assert f'href="{link}"' in page.text
        followed = httpx.get(f"{demo.url}{link}", timeout=10, follow_redirects=True)
        assert followed.status_code == 200, link


def test_cli_commands_write_while_the_demo_serves(demo: Demo) -> None:
    """Operator commands and API calls write to one SQLite database at once, safely."""
    statuses: list[int] = []
    stop = threading.Event()
    served_before = deliveries(demo)

    def calls() -> None:
        with bank_client(demo) as client:
            while not stop.is_set():
                statuses.append(client.request("GET", "/v1/alerts").status_code)

    caller = threading.Thread(target=calls)
    caller.start()
    try:
        for n in range(3):
            added = ppsgate(demo, "partner", "add", "--name", f"Bank {n}", "--sector", "bank",
                            "--id", f"bank-cli-{n}")  # fmt: skip
            assert added.returncode == 0, added.stderr
            user = ppsgate(
                demo, "user", "add", "--username", f"fg.cli-{n}", "--role", "privacy_officer",
                "--partner", f"bank-cli-{n}", "--password-stdin", stdin="a long demo password\n",
            )  # fmt: skip
            assert user.returncode == 0, user.stderr
    finally:
        stop.set()
        caller.join(timeout=60)
    with bank_client(demo) as client:  # the next calls after the commands, too
        statuses.extend(client.request("GET", "/v1/alerts").status_code for _ in range(3))
    assert statuses
    assert set(statuses) == {200}

    # Every write of both processes is in the database file that other processes read.
    with sqlite3.connect(demo.database()) as connection:
        seqs = [r[0] for r in connection.execute("SELECT seq FROM audit_entries ORDER BY seq")]
        onboarded = connection.execute(
            "SELECT count(*) FROM audit_entries WHERE tag = 'partner:onboard' "
            "AND request_id LIKE 'cli-%'"
        ).fetchone()[0]
    assert seqs == list(range(len(seqs)))
    assert deliveries(demo) - served_before == len(statuses)
    assert onboarded == 3

    signed = ppsgate(demo, "audit", "checkpoint")
    assert signed.returncode == 0, signed.stderr
    key = ppsgate(demo, "audit", "public-key").stdout.strip()
    verified = ppsgate(demo, "audit", "verify", "--public-key", key, "--url", demo.url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
