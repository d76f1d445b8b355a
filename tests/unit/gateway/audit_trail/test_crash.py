"""kill -9 in the middle of audited writes: each action is there with its entry, or neither."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from audit.entry import Entry
from gateway.audit_trail import store
from gateway.audit_trail.service import AuditTrail
from gateway.config import Settings
from gateway.db import transaction
from tests.conftest import REPO_ROOT
from tests.unit.gateway.audit_trail.helpers import record
from tests.unit.gateway.audit_trail.workers import actions, create_actions_table


def _kill_mid_batch(settings: Settings, name: str, stage: str) -> None:
    ready = settings.data_dir / "ready"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.unit.gateway.audit_trail.workers",
            "crash",
            settings.database_url,
            str(settings.data_dir),
            str(ready),
            name,
            stage,
        ],
        cwd=REPO_ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert process.poll() is None, "the writer died before it was killed"
            assert time.monotonic() < deadline, "the writer never got going"
            time.sleep(0.01)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def test_kill_9_leaves_actions_and_entries_together(
    backend: str,
    engine: Engine,
    factory: sessionmaker[Session],
    trail: AuditTrail,
    settings: Settings,
) -> None:
    create_actions_table(engine)
    record(factory, trail, 2)  # a log that existed before
    for stage in ("actions", "entry"):
        name = f"kill-at-{stage}"
        _kill_mid_batch(settings, name, stage)
        record(factory, trail, 1)  # the log goes on after the crash
        with transaction(factory) as session:
            trail.integrate(session)
        with transaction(factory) as session:
            batches = Counter(session.execute(select(actions.c.batch)).scalars())
            bodies = store.entry_bodies(session, 0, 10**9)
            head = store.read_head(session)
        entries = [Entry.decode(body) for _, body in bodies]
        voids = [e for e in entries if e.tag == "audit:sequence:void"]
        # Killed after drawing its number: PostgreSQL fills that number with a void entry.
        drawn = stage == "entry" and backend == "postgres"
        assert len(voids) == (1 if drawn else 0)
        logged = Counter(e.request_id for e in entries if e.request_id.startswith(name))
        # Batches 0-2 committed with all 20 actions and one entry each; the fourth, killed
        # inside its transaction, left neither actions nor entry.
        assert batches == Counter({0: 20, 1: 20, 2: 20})
        assert logged == Counter({f"{name}-{b}": 1 for b in batches})
        assert [e.seq for e in entries] == list(range(head.size))
        # The log is intact: signing re-hashes every entry after the crash.
        with transaction(factory) as session:
            assert trail.sign_checkpoint(session) is not None
        with transaction(factory) as session:
            session.execute(actions.delete())
        (settings.data_dir / "ready").unlink()
