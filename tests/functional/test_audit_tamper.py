"""Tampering with audit rows in SQL: ``ppsgate audit verify`` fails and names the entry.

A real gateway serves the (tampered) database over HTTP on a loopback port; the verifier
only gets the URL and the log's public key, exactly as a privacy officer would. The same
log is also checked from an export file.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gateway.audit_trail import queries
from gateway.audit_trail.deps import AuditReader
from gateway.audit_trail.errors import AuditVerificationError
from gateway.audit_trail.models import AuditEntry
from gateway.cli.audit import app as audit_cli
from gateway.db import transaction
from gateway.server import BackgroundServer
from gateway.services import Services
from tests.conftest import REPO_ROOT
from tests.unit.gateway.audit_trail.apps import build_app
from tests.unit.gateway.audit_trail.helpers import event, make_settings

SIZE = 40
DPO = AuditReader(partner_id="pps-dpo", user="dpo-anna", all_partners=True)


class Gateway:
    def __init__(self, url: str, services: Services, tmp_path: Path) -> None:
        self.url = url
        self.services = services
        self.tmp_path = tmp_path

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
    settings = make_settings(database_url, tmp_path)
    app, services = build_app(settings, reader=DPO)
    with transaction(services.session_factory) as session:
        for number in range(SIZE):
            services.audit.record(session, event(number, counts={"items": number}))
    with transaction(services.session_factory) as session:
        services.audit.sign_checkpoint(session)
    with BackgroundServer(app) as server:
        yield Gateway(server.url, services, tmp_path)


def _expect_failure(gateway: Gateway, index: int, words: str) -> None:
    for args in (["--url", gateway.url], ["--export", str(gateway.export())]):
        code, output, exc = gateway.verify(*args)
        assert code != 0, output
        assert isinstance(exc, AuditVerificationError), exc
        assert exc.index == index, exc.reason
        assert words in exc.reason, exc.reason
        assert f"entry {index}" in exc.diagnostics()


def _body(session: Session, seq: int) -> bytes:
    return bytes(session.scalar(select(AuditEntry.body).where(AuditEntry.seq == seq)) or b"")


def test_a_consistent_log_verifies(gateway: Gateway) -> None:
    code, output, exc = gateway.verify("--url", gateway.url)
    assert code == 0, (output, exc)
    assert f"size {SIZE}" in output
    code, output, exc = gateway.verify("--export", str(gateway.export()))
    assert code == 0, (output, exc)


def test_changed_row_is_named(gateway: Gateway) -> None:
    def change(session: Session) -> None:
        body = _body(session, 17).replace(b'"items":17', b'"items":1')
        session.execute(update(AuditEntry).where(AuditEntry.seq == 17).values(body=body))

    gateway.sql(change)
    _expect_failure(gateway, 17, "entry 17 was altered")


def test_deleted_row_is_named(gateway: Gateway) -> None:
    gateway.sql(lambda s: s.execute(delete(AuditEntry).where(AuditEntry.seq == 23)))
    _expect_failure(gateway, 23, "entry 23 is missing")


def test_reordered_rows_are_named(gateway: Gateway) -> None:
    def swap(session: Session) -> None:
        eight, nine = _body(session, 8), _body(session, 9)
        session.execute(update(AuditEntry).where(AuditEntry.seq == 8).values(body=nine))
        session.execute(update(AuditEntry).where(AuditEntry.seq == 9).values(body=eight))

    gateway.sql(swap)
    _expect_failure(gateway, 8, "entry 8 says it is entry 9")


def test_inserted_row_is_named(gateway: Gateway) -> None:
    def insert_at_five(session: Session) -> None:
        for seq in range(SIZE - 1, 4, -1):
            session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(seq=seq + 1))
        row = session.get(AuditEntry, 4)
        assert row is not None
        forged = row.body.replace(b'"seq":4', b'"seq":5').replace(b'"items":4', b'"items":0')
        session.add(
            AuditEntry(
                seq=5,
                body=forged,
                time=row.time,
                tag=row.tag,
                request_id="forged",
                actor_partner=row.actor_partner,
            )
        )

    gateway.sql(insert_at_five)
    _expect_failure(gateway, 5, "entry 5 was altered")


def test_failure_exits_1_with_the_entry_named(gateway: Gateway) -> None:
    def change(session: Session) -> None:
        body = _body(session, 2).replace(b'"bank-a"', b'"bank-z"')
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(body=body))

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
    ]
    done = subprocess.run(
        command, check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "entry 2 was altered" in done.stderr
