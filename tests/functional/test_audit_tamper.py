"""Tampering with audit rows in SQL: ``ppsgate audit verify`` fails and names the entry.

A real gateway serves the (tampered) database over HTTP on a loopback port; the verifier
gets the URL, the log's public key and the partnership DPO's client credentials (entry
contents are readable only by audit readers), exactly as a privacy officer would. The same
log is also checked from an export file.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from audit import merkle
from gateway.audit_trail import queries
from gateway.audit_trail.errors import AuditVerificationError
from gateway.audit_trail.models import AuditEntry
from gateway.cli.audit import app as audit_cli
from gateway.clock import SystemClock
from gateway.db import transaction
from gateway.server import BackgroundServer, free_port
from gateway.services import Services
from tests.conftest import REPO_ROOT
from tests.unit.gateway.audit_trail.apps import build_app
from tests.unit.gateway.audit_trail.helpers import event, make_settings, register_reader

SIZE = 40


class Gateway:
    def __init__(
        self,
        url: str,
        services: Services,
        tmp_path: Path,
        indexes: list[int],
        reader: list[str],
    ) -> None:
        self.url = url
        self.services = services
        self.tmp_path = tmp_path
        self.indexes = indexes  # leaf index of our n-th entry (the app logs its own too)
        self.reader = reader  # --client-id and --keystore of the partnership's DPO

    @property
    def key(self) -> str:
        return self.services.audit.verifier_key

    def verify(self, *args: str) -> tuple[int, str, BaseException | None]:
        result = CliRunner().invoke(
            audit_cli, ["verify", "--public-key", self.key, *args], catch_exceptions=True
        )
        return result.exit_code, result.output, result.exception

    def export(self) -> Path:
        """The operator's export (``ppsgate audit export``) of the database as it is now."""
        path = self.tmp_path / "export.jsonl"
        with transaction(self.services.session_factory) as session:
            lines = queries.export_jsonl(
                session,
                queries.AuditFilter(),
                scope=None,
                origin=self.services.audit.origin,
                exported_at="2026-11-29T12:00:00.000000Z",
            )
            path.write_text("".join(lines), encoding="utf-8")
        return path

    def sql(self, change: Callable[[Session], None]) -> None:
        with transaction(self.services.session_factory) as session:
            change(session)


@pytest.fixture
def gateway(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    port = free_port()
    settings = make_settings(database_url, tmp_path, public_url=f"http://127.0.0.1:{port}")
    app, services = build_app(settings, clock=SystemClock())  # the CLI signs in on real time
    reader = register_reader(services, tmp_path)
    with transaction(services.session_factory) as session:
        indexes = [
            services.audit.record(session, event(n, counts={"items": n})).leaf_index
            for n in range(SIZE)
        ]
    with transaction(services.session_factory) as session:
        services.audit.sign_checkpoint(session)
    with BackgroundServer(app, port=port) as server:
        yield Gateway(server.url, services, tmp_path, indexes, reader)


def _expect_failure(gateway: Gateway, index: int, words: str, *, online: bool = True) -> None:
    sources = [["--export", str(gateway.export())]]
    if online:
        sources.append(["--url", gateway.url, *gateway.reader])
    for args in sources:
        code, output, exc = gateway.verify(*args)
        assert code != 0, output
        assert isinstance(exc, AuditVerificationError), exc
        assert exc.index == index, exc.reason
        assert words in exc.reason, exc.reason
        assert f"entry {index}" in exc.diagnostics()


def _body(session: Session, seq: int) -> bytes:
    return bytes(session.scalar(select(AuditEntry.body).where(AuditEntry.seq == seq)) or b"")


def test_a_consistent_log_verifies(gateway: Gateway) -> None:
    code, output, exc = gateway.verify("--url", gateway.url, *gateway.reader)
    assert code == 0, (output, exc)
    assert f"size {gateway.indexes[-1] + 1}" in output
    size = gateway.indexes[-1] + 1
    assert f"{size} entries recomputed from their contents," in " ".join(output.split())
    code, output, exc = gateway.verify("--url", gateway.url)  # anyone: the hash-level tree
    assert code == 0, (output, exc)
    words = " ".join(output.split())
    assert f"0 entries recomputed from their contents, {size} by leaf hash" in words
    code, output, exc = gateway.verify("--export", str(gateway.export()))
    assert code == 0, (output, exc)


def test_changed_row_is_named(gateway: Gateway) -> None:
    target = gateway.indexes[17]

    def change(session: Session) -> None:
        body = _body(session, target).replace(b'"items":17', b'"items":1')
        session.execute(update(AuditEntry).where(AuditEntry.seq == target).values(body=body))

    gateway.sql(change)
    _expect_failure(gateway, target, f"entry {target} was altered")


def test_deleted_row_is_named(gateway: Gateway) -> None:
    target = gateway.indexes[23]
    gateway.sql(lambda s: s.execute(delete(AuditEntry).where(AuditEntry.seq == target)))
    _expect_failure(gateway, target, f"entry {target} is missing")


def test_reordered_rows_are_named(gateway: Gateway) -> None:
    first, second = gateway.indexes[8], gateway.indexes[9]

    def swap(session: Session) -> None:
        one, two = _body(session, first), _body(session, second)
        session.execute(update(AuditEntry).where(AuditEntry.seq == first).values(body=two))
        session.execute(update(AuditEntry).where(AuditEntry.seq == second).values(body=one))

    gateway.sql(swap)
    _expect_failure(gateway, first, f"entry {first} says it is entry {second}")


def test_inserted_row_is_named(gateway: Gateway) -> None:
    target = gateway.indexes[5]

    def insert_before_target(session: Session) -> None:
        last = int(session.scalar(select(func.max(AuditEntry.seq))) or 0)
        for seq in range(last, target - 1, -1):
            session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(seq=seq + 1))
        row = session.get(AuditEntry, target - 1)
        assert row is not None
        forged = row.body.replace(f'"seq":{target - 1}'.encode(), f'"seq":{target}'.encode())
        session.add(
            AuditEntry(
                seq=target,
                body=forged,
                leaf_hash=merkle.leaf_hash(forged),
                time=row.time,
                tag=row.tag,
                request_id="forged",
                actor_partner=row.actor_partner,
            )
        )

    gateway.sql(insert_before_target)
    _expect_failure(gateway, target, f"entry {target} was altered", online=False)
    # Online, the shifted rows take the numbers the log would append next: the gateway
    # cannot record the reader's sign-in or read, so it serves no contents (fails closed).
    code, _, exc = gateway.verify("--url", gateway.url, *gateway.reader)
    assert code != 0
    assert "refusing to append" in str(exc)


def test_failure_exits_1_with_the_entry_named(gateway: Gateway) -> None:
    target = gateway.indexes[2]

    def change(session: Session) -> None:
        body = _body(session, target).replace(b'"bank-a"', b'"bank-z"')
        session.execute(update(AuditEntry).where(AuditEntry.seq == target).values(body=body))

    gateway.sql(change)
    command = [
        sys.executable,
        "-c",
        "from gateway.cli import main; main()",
        "audit",
        "verify",
        "--url",
        gateway.url,
        "--public-key",
        gateway.key,
        *gateway.reader,
    ]
    done = subprocess.run(
        command, check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert f"entry {target} was altered" in done.stderr
