"""Many writers at once: contiguous sequence numbers, one entry per request, a valid tree.

Threads share nothing but the database (separate sessions and connections); on PostgreSQL
separate processes append too, as several gateway workers would.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from audit import merkle
from audit.entry import Entry
from gateway.audit_trail import store
from gateway.audit_trail.service import AuditTrail
from gateway.config import Settings
from gateway.db import transaction
from tests.conftest import REPO_ROOT
from tests.unit.gateway.audit_trail.workers import actions, create_actions_table, run_writer

THREADS = 12
PER_THREAD = 20
PROCESSES = 3
PER_PROCESS = 25


def _check_log(
    factory: sessionmaker[Session], trail: AuditTrail, committed: int, abandoned: int, backend: str
) -> None:
    with transaction(factory) as session:
        size = trail.integrate(session)
    with transaction(factory) as session:
        bodies = store.entry_bodies(session, 0, 10**9)
        done = session.execute(select(actions.c.request_id)).scalars().all()
        head = store.read_head(session)
    assert [seq for seq, _ in bodies] == list(range(len(bodies)))  # contiguous from 0
    entries = [Entry.decode(body) for _, body in bodies]
    requests = [e for e in entries if e.tag != "audit:sequence:void"]
    voids = [e for e in entries if e.tag == "audit:sequence:void"]
    # One entry per committed request, and no entry without its action.
    assert len(requests) == len(done) == committed
    assert Counter(e.request_id for e in requests) == Counter(done)
    assert all(count == 1 for count in Counter(done).values())
    # Numbers drawn by requests that rolled back: reused on SQLite, void on PostgreSQL.
    assert len(voids) == (abandoned if backend == "postgres" else 0)
    assert size == head.size == len(entries)
    assert head.root_hash == merkle.root([body for _, body in bodies])
    with transaction(factory) as session:
        published = trail.sign_checkpoint(session)  # re-hashes every entry and node
    assert published is not None
    assert published.tree_size == len(entries)


def test_parallel_threads_append_contiguously(
    backend: str,
    engine: Engine,
    factory: sessionmaker[Session],
    trail: AuditTrail,
    settings: Settings,
) -> None:
    create_actions_table(engine)
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [
            pool.submit(
                run_writer, settings.database_url, str(settings.data_dir), f"t{n}", PER_THREAD
            )
            for n in range(THREADS)
        ]
        for future in futures:
            future.result()
    abandoned = THREADS * (PER_THREAD // 5)
    _check_log(factory, trail, THREADS * PER_THREAD - abandoned, abandoned, backend)


def test_parallel_processes_append_contiguously(
    backend: str,
    engine: Engine,
    factory: sessionmaker[Session],
    trail: AuditTrail,
    settings: Settings,
) -> None:
    create_actions_table(engine)
    trail_key = settings.data_dir / "audit-checkpoint.key"
    assert trail_key.exists()  # the fixture's trail created it; the processes share it
    commands = [
        [
            sys.executable,
            "-m",
            "tests.unit.gateway.audit_trail.workers",
            "writer",
            settings.database_url,
            str(settings.data_dir),
            f"p{n}",
            str(PER_PROCESS),
        ]
        for n in range(PROCESSES)
    ]
    running = [subprocess.Popen(command, cwd=REPO_ROOT) for command in commands]
    with ThreadPoolExecutor(4) as pool:
        threads = [
            pool.submit(
                run_writer, settings.database_url, str(settings.data_dir), f"t{n}", PER_THREAD
            )
            for n in range(4)
        ]
        for future in threads:
            future.result()
    assert [process.wait(timeout=120) for process in running] == [0] * PROCESSES
    requests = PROCESSES * PER_PROCESS + 4 * PER_THREAD
    abandoned = requests // 5
    _check_log(factory, trail, requests - abandoned, abandoned, backend)
