"""Writers run in threads or separate processes by the concurrency and crash tests.

Each "request" does a small action (a row in ``audit_test_actions``, a table of the tests'
own) and records its audit entry in the same transaction, as the gateway's services do.
Run as ``python -m tests.unit.gateway.audit_trail.workers MODE DATABASE_URL DATA_DIR ...``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, insert
from sqlalchemy.orm import Session

from gateway.audit_trail.group_commit import GroupCommitter
from gateway.audit_trail.service import AuditTrail, build_audit_trail
from gateway.db import build_engine, build_session_factory, transaction
from tests.unit.gateway.audit_trail.helpers import event, make_settings

metadata = MetaData()
actions = Table(
    "audit_test_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False),
    Column("batch", Integer, nullable=False),
)


class RollbackError(Exception):
    """Raised inside a request to abandon it after its entry was appended."""


def create_actions_table(engine: Engine) -> None:
    metadata.create_all(engine)


def audited_request(
    session: Session, trail: AuditTrail, request_id: str, *, batch: int = 0, rows: int = 1
) -> int:
    for _ in range(rows):
        session.execute(insert(actions).values(request_id=request_id, batch=batch))
    return trail.record(session, event(0, request_id=request_id, counts={"items": rows})).leaf_index


def run_writer(database_url: str, data_dir: str, name: str, count: int) -> None:
    """Append ``count`` requests; every fifth one rolls back after its entry was appended."""
    settings = make_settings(database_url, Path(data_dir))
    engine = build_engine(settings)
    trail = build_audit_trail(settings)
    factory = build_session_factory(engine)
    try:
        for number in range(count):
            try:
                with transaction(factory) as session:
                    audited_request(session, trail, f"{name}-{number}")
                    if number % 5 == 4:
                        raise RollbackError
            except RollbackError:
                pass
    finally:
        engine.dispose()


def run_until_killed(database_url: str, data_dir: str, ready: str, name: str, stage: str) -> None:
    """Batches of 20 actions and one entry per transaction until SIGKILL.

    The fourth batch announces itself through the ``ready`` file and stalls inside its
    transaction, at ``stage`` "actions" (actions written, entry not yet) or "entry" (entry
    appended, not committed), so the kill lands exactly there.
    """
    settings = make_settings(database_url, Path(data_dir))
    engine = build_engine(settings)
    trail = build_audit_trail(settings)
    factory = build_session_factory(engine)
    for batch in range(1000):
        with transaction(factory) as session:
            for _ in range(20):
                session.execute(insert(actions).values(request_id=f"{name}-{batch}", batch=batch))
            if batch == 3 and stage == "actions":
                Path(ready).write_text(stage)
                time.sleep(60)
            trail.record(session, event(batch, request_id=f"{name}-{batch}", counts={"items": 20}))
            if batch == 3 and stage == "entry":
                Path(ready).write_text(stage)
                time.sleep(60)


def run_group_until_killed(database_url: str, data_dir: str, acked: str, threads: int) -> None:
    """Threads append entries through one group committer until SIGKILL.

    Each acknowledged entry (``append`` returned) is written to ``acked`` as one line,
    ``<leaf index> <request id>``, straight to the kernel (no buffer a kill could lose).
    """
    settings = make_settings(database_url, Path(data_dir))
    engine = build_engine(settings)
    trail = build_audit_trail(settings)
    committer = GroupCommitter(trail, build_session_factory(engine), max_batch=16, max_leaders=2)
    out = os.open(acked, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def writer(name: str) -> None:
        for number in range(100_000):
            request_id = f"{name}-{number}"
            receipt = committer.append(event(number, request_id=request_id))
            os.write(out, f"{receipt.leaf_index} {request_id}\n".encode())

    running = [threading.Thread(target=writer, args=(f"g{n}",)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()


if __name__ == "__main__":
    mode, url, directory, *rest = sys.argv[1:]
    if mode == "writer":
        run_writer(url, directory, rest[0], int(rest[1]))
    elif mode == "crash":
        run_until_killed(url, directory, rest[0], rest[1], rest[2])
    elif mode == "group":
        run_group_until_killed(url, directory, rest[0], int(rest[1]))
    else:
        raise SystemExit(f"unknown mode {mode}")
