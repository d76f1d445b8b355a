"""`ppsgate demo --no-serve`: the whole flow on the embedded defaults, then checks of its data."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.demo.privacy import cast_identifiers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "demo", "--no-serve", "--data-dir", str(directory)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "What happened" in result.stdout
    assert "protected number" in result.stdout
    assert "registry alerts: 1" in result.stdout  # scenario 12: the phishing page
    assert "cash_out" in result.stdout  # scenario 12: the exchange finds the address
    assert "recalls the funds" in result.stdout  # scenario 13: the reporter answers in time
    return directory


def test_database_holds_tokens_only(demo_dir: Path) -> None:
    database = demo_dir / "ppsgate.sqlite3"
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT token_hash FROM indicators").fetchall()
        assert rows
        assert all(isinstance(r[0], bytes) and len(r[0]) == 32 for r in rows)
    blobs = b"".join(p.read_bytes() for p in demo_dir.rglob("ppsgate.sqlite3*"))
    for needle in cast_identifiers():
        assert needle.encode() not in blobs, "an identifier reached the gateway's database"


def test_one_audit_entry_per_partner_request(demo_dir: Path) -> None:
    with sqlite3.connect(demo_dir / "ppsgate.sqlite3") as connection:
        request_ids = [
            r[0]
            for r in connection.execute(
                "SELECT request_id FROM audit_entries WHERE actor_client IS NOT NULL "
                "AND tag NOT LIKE 'auth:%' AND tag NOT LIKE 'key:%'"
            )
        ]
        key_tags = [
            r[0]
            for r in connection.execute(
                "SELECT tag FROM audit_entries WHERE tag LIKE 'key:%' ORDER BY seq"
            )
        ]
        seqs = [r[0] for r in connection.execute("SELECT seq FROM audit_entries ORDER BY seq")]
    assert len(request_ids) == len(set(request_ids)), "a partner request has two audit entries"
    assert len(request_ids) == 25  # the audited partner calls (see gateway.demo.story)
    assert seqs == list(range(len(seqs))), "audit sequence numbers are not contiguous"
    # Key custody (gateway.demo.custody): the custodian registers, creates and activates
    # epoch 1, and each of the six partners downloads its own envelope.
    assert key_tags == [
        "key:custodian:register",
        "key:epoch:create",
        "key:epoch:activate",
        *["key:envelope:fetch"] * 6,
    ]
