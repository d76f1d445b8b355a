"""Group commit: entries of concurrent callers committed together, each caller its receipt.

Every acknowledged entry is in the log with the leaf index and leaf hash its receipt names,
the log stays contiguous (also after ``kill -9`` in the middle of batches: numbers drawn by
an uncommitted batch become void entries), and one caller's invalid event fails only that
caller.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit.entry import Entry
from gateway.audit_trail import store
from gateway.audit_trail.errors import AuditEventInvalidError
from gateway.audit_trail.group_commit import GroupCommitter
from gateway.audit_trail.models import AuditDetailToken, AuditEntry
from gateway.audit_trail.service import AuditReceipt, AuditTrail
from gateway.config import Settings
from gateway.db import transaction
from tests.conftest import REPO_ROOT
from tests.unit.gateway.audit_trail.helpers import event

THREADS = 12
PER_THREAD = 15


def _stored(factory: sessionmaker[Session]) -> dict[int, tuple[str, bytes]]:
    with transaction(factory) as session:
        rows = session.execute(select(AuditEntry.seq, AuditEntry.request_id, AuditEntry.leaf_hash))
        return {int(seq): (request_id, bytes(leaf)) for seq, request_id, leaf in rows}


def _contiguous_after_integrating(factory: sessionmaker[Session], trail: AuditTrail) -> int:
    with transaction(factory) as session:
        size = trail.integrate(session)
    with transaction(factory) as session:
        bodies = store.entry_bodies(session, 0, 10**9)
    assert [seq for seq, _ in bodies] == list(range(len(bodies))) == list(range(size))
    assert [Entry.decode(body).seq for _, body in bodies] == list(range(size))
    with transaction(factory) as session:
        trail.sign_checkpoint(session)  # re-hashes every entry and node
    return size


def test_concurrent_appends_are_batched_with_their_own_receipts(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    committer = GroupCommitter(trail, factory, max_batch=8, max_wait_seconds=0.05)
    token = "cd" * 32
    start = threading.Barrier(THREADS)

    def writer(name: str) -> list[AuditReceipt]:
        start.wait()
        return [
            committer.append(
                event(n, request_id=f"{name}-{n}", detail={"tokens": [token]} if n == 0 else None)
            )
            for n in range(PER_THREAD)
        ]

    with ThreadPoolExecutor(THREADS) as pool:
        receipts = [r for rs in pool.map(writer, [f"w{n}" for n in range(THREADS)]) for r in rs]
    assert committer.entries == THREADS * PER_THREAD
    assert committer.batches < committer.entries  # entries did share commits
    stored = _stored(factory)
    assert sorted(r.leaf_index for r in receipts) == sorted(stored)  # one entry per append
    for receipt in receipts:
        assert stored[receipt.leaf_index] == (receipt.request_id, receipt.leaf_hash)
    with transaction(factory) as session:
        indexed = session.execute(select(AuditDetailToken.seq)).scalars().all()
    # The detail records and their token index went in with the batch.
    assert sorted(indexed) == sorted(r.leaf_index for r in receipts if r.request_id.endswith("-0"))
    assert _contiguous_after_integrating(factory, trail) == THREADS * PER_THREAD


def test_an_invalid_event_fails_alone(factory: sessionmaker[Session], trail: AuditTrail) -> None:
    committer = GroupCommitter(trail, factory)
    with pytest.raises(AuditEventInvalidError):
        committer.append(event(0, purpose="has a space"))
    receipt = committer.append(event(1))
    assert receipt.leaf_index == 0
    assert list(_stored(factory)) == [0]


def test_a_failed_batch_fails_each_caller_in_it(
    factory: sessionmaker[Session], trail: AuditTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    committer = GroupCommitter(trail, factory, max_wait_seconds=0.2)

    def broken(*_args: object) -> list[AuditReceipt]:
        raise RuntimeError("the batch failed")

    monkeypatch.setattr(trail, "write_batch", broken)
    start = threading.Barrier(3)

    def caller(number: int) -> str:
        start.wait()
        try:
            committer.append(event(number))
        except RuntimeError as exc:
            return str(exc)
        return "acknowledged"

    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(caller, range(3))) == ["the batch failed"] * 3
    assert _stored(factory) == {}
    monkeypatch.undo()
    assert committer.append(event(9)).request_id == "req-9"


def test_kill_9_during_group_commits_loses_no_acknowledged_entry(
    factory: sessionmaker[Session], trail: AuditTrail, settings: Settings
) -> None:
    acked = settings.data_dir / "acked"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.unit.gateway.audit_trail.workers",
            "group",
            settings.database_url,
            str(settings.data_dir),
            str(acked),
            "8",
        ],
        cwd=REPO_ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while not acked.exists() or acked.read_bytes().count(b"\n") < 300:
            assert process.poll() is None, "the writer died before it was killed"
            assert time.monotonic() < deadline, "the writer never got going"
            time.sleep(0.005)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    complete = acked.read_text().split("\n")[:-1]  # only whole lines: a kill may cut the last
    acknowledged = {int(seq): name for seq, name in (line.split() for line in complete)}
    assert len(acknowledged) >= 300
    stored = _stored(factory)
    for seq, request_id in acknowledged.items():
        assert stored[seq][0] == request_id, f"acknowledged entry {seq} is lost or changed"
    size = _contiguous_after_integrating(factory, trail)  # gaps (drawn, uncommitted) are void
    assert size >= max(acknowledged) + 1
