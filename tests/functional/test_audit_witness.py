"""Truncating the log and re-signing it is caught by a witness and by a monitor's state.

The operator here has everything: the database and the log's signing key. It truncates the
log, appends other entries and signs a fresh, perfectly well-formed checkpoint. A fresh
verifier would accept that history; a witness that cosigned the old one, and a verifier that
kept its state file, do not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, text, update
from typer.testing import CliRunner

from audit.tree import frontier_keys
from gateway.audit_trail import store
from gateway.audit_trail.errors import AuditVerificationError
from gateway.audit_trail.models import (
    AuditCheckpoint,
    AuditCosignature,
    AuditEntry,
    AuditLogHead,
    AuditNode,
)
from gateway.cli.audit import app as audit_cli
from gateway.db import transaction
from gateway.server import BackgroundServer
from gateway.services import Services
from tests.unit.gateway.audit_trail.apps import build_app
from tests.unit.gateway.audit_trail.helpers import event, make_settings

WITNESS_NAME = "witness.test/w1"


def _cli(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(audit_cli, list(args), catch_exceptions=True)
    return result.exit_code, result.output, result.exception


class Setup:
    def __init__(self, url: str, services: Services, tmp_path: Path, witness_key: str) -> None:
        self.url = url
        self.services = services
        self.tmp_path = tmp_path
        self.witness_key = witness_key

    def append(self, count: int, partner: str = "bank-a") -> None:
        with transaction(self.services.session_factory) as session:
            for number in range(count):
                self.services.audit.record(session, event(number, actor_partner=partner))
        with transaction(self.services.session_factory) as session:
            self.services.audit.sign_checkpoint(session)

    def size(self) -> int:
        return int(httpx.get(f"{self.url}/v1/audit/sth", timeout=10).json()["tree_size"])

    def witness(self) -> tuple[int, str, BaseException | None]:
        return _cli(
            "witness",
            "run",
            "--url",
            self.url,
            "--key-file",
            str(self.tmp_path / "witness.key"),
            "--log-key",
            self.services.audit.verifier_key,
            "--state",
            str(self.tmp_path / "witness.json"),
        )

    def verify(self, *extra: str) -> tuple[int, str, BaseException | None]:
        return _cli(
            "verify",
            "--url",
            self.url,
            "--public-key",
            self.services.audit.verifier_key,
            *extra,
        )

    def truncate_and_resign(self, keep: int) -> None:
        """What a dishonest operator with database and key access would do."""
        with transaction(self.services.session_factory) as session:
            session.execute(delete(AuditCosignature))
            session.execute(delete(AuditCheckpoint))
            session.execute(delete(AuditEntry).where(AuditEntry.seq >= keep))
            for level in range(32):  # far above the height of this test log
                session.execute(
                    delete(AuditNode).where(
                        AuditNode.level == level, (AuditNode.idx + 1) * (1 << level) > keep
                    )
                )
            kept = store.fetch_nodes(session, frontier_keys(keep))
            frontier = b"".join(kept[key] for key in frontier_keys(keep))
            session.execute(
                update(AuditLogHead).values(tree_size=keep, frontier=frontier, reserved=keep)
            )
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text(f"SELECT setval('audit_entry_seq', {keep - 1})"))
        self.append(12, partner="bank-x")


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> Iterator[Setup]:
    code, output, exc = _cli(
        "witness", "keygen", "--name", WITNESS_NAME, "--out", str(tmp_path / "witness.key")
    )
    assert code == 0, (output, exc)
    witness_key = output.strip().splitlines()[-1]
    settings = make_settings(database_url, tmp_path, audit_witness_keys=[witness_key])
    app, services = build_app(settings)
    with BackgroundServer(app) as server:
        yield Setup(server.url, services, tmp_path, witness_key)


def test_witness_cosigns_consistent_growth_and_refuses_a_rewrite(setup: Setup) -> None:
    setup.append(20)
    first = setup.size()
    code, output, exc = setup.witness()
    assert code == 0, (output, exc)
    assert "cosigned" in output
    sth = httpx.get(f"{setup.url}/v1/audit/sth", timeout=10).json()
    assert sth["cosigners"] == [WITNESS_NAME]
    state = setup.tmp_path / "monitor.json"
    checks = ("--state", str(state), "--witness", setup.witness_key)
    code, output, exc = setup.verify(*checks, "--require-cosigner", WITNESS_NAME)
    assert code == 0, (output, exc)

    setup.append(5)
    assert setup.witness()[0] == 0
    assert setup.verify(*checks)[0] == 0
    cosigned = setup.size()
    assert cosigned >= first + 5

    setup.truncate_and_resign(keep=10)  # 22 entries now, entries 10.. rewritten
    assert setup.size() == 22 < cosigned
    code, output, exc = setup.witness()
    assert code != 0
    assert isinstance(exc, AuditVerificationError)
    assert "truncated or rolled back" in exc.reason

    code, output, exc = setup.verify(*checks)
    assert isinstance(exc, AuditVerificationError)
    assert "shrank" in exc.reason

    setup.append(cosigned, partner="bank-x")  # larger than anything seen, still forged
    assert setup.size() > cosigned
    code, output, exc = setup.witness()
    assert isinstance(exc, AuditVerificationError)
    assert f"not consistent with the cosigned size {cosigned}" in exc.reason
    code, output, exc = setup.verify(*checks)
    assert isinstance(exc, AuditVerificationError)
    assert "history rewritten" in exc.reason
    # A verifier without state but with the witness policy refuses the uncosigned history.
    code, output, exc = setup.verify(
        "--witness", setup.witness_key, "--require-cosigner", WITNESS_NAME
    )
    assert isinstance(exc, AuditVerificationError)
    assert WITNESS_NAME in exc.reason
    # Without state or witnesses the forged history looks fine: that is what witnesses are for.
    assert setup.verify()[0] == 0


def test_witness_add_checkpoint_request_file(setup: Setup) -> None:
    from audit.witness import add_checkpoint_request

    setup.append(3)
    note = httpx.get(f"{setup.url}/v1/audit/sth", timeout=10).json()["checkpoint"]
    request = setup.tmp_path / "request.txt"
    request.write_text(add_checkpoint_request(0, [], note))
    code, output, exc = _cli(
        "witness",
        "add-checkpoint",
        "--key-file",
        str(setup.tmp_path / "witness.key"),
        "--log-key",
        setup.services.audit.verifier_key,
        "--state",
        str(setup.tmp_path / "w.json"),
        str(request),
    )
    assert code == 0, (output, exc)
    assert output.startswith(f"— {WITNESS_NAME} ")
    code, output, exc = _cli(
        "witness",
        "add-checkpoint",
        "--key-file",
        str(setup.tmp_path / "witness.key"),
        "--log-key",
        setup.services.audit.verifier_key,
        "--state",
        str(setup.tmp_path / "w.json"),
        str(request),
    )
    assert isinstance(exc, AuditVerificationError)
    assert "(409)" in exc.reason
