"""Benchmark: the CPU the background sequencer and checkpoint signer spend per entry.

Appends ``--entries`` entries once, then folds them into the tree and signs a checkpoint
several ways, resetting the tree (nodes, head, checkpoints) before each, and prints the CPU
time of this thread per entry (``time.thread_time``, so other processes on the machine do not
count) against a raw baseline measured in the same process: reading the same rows in the same
batches and hashing each body once (SHA-256), which is the least any check of the entries can
cost.

- ``integrate``: the sequencer alone (one transaction).
- ``integrate, then sign``: the sequencer in one transaction and the signer in the next, so
  the signer has to re-read and re-check every entry (entries folded by an earlier pass).
- ``run_once``: what the scheduler does when a checkpoint is due: both in one transaction.

Last, the CPU of one scheduler pass that finds nothing new (the fixed cost of a wake-up).

    .venv/bin/python -m bench.sequencer [--entries 20000] [--repeat 3]
        [--base-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres | --sqlite]
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit_trail import checkpoints
from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.audit_trail.models import AuditEntry
from gateway.audit_trail.scheduler import CheckpointScheduler
from gateway.audit_trail.service import AuditTrail, build_audit_trail
from gateway.config import load_settings
from gateway.db import build_engine, build_session_factory, transaction
from gateway.migrate import upgrade

APPEND_BATCH = 256
READ_BATCH = 5000


def _event(number: int) -> AuditEvent:
    return AuditEvent(
        tag=AuditTag.MATCH_QUERY_ALLOW,
        request_id=f"bench-{number}",
        actor_partner="bank-a",
        actor_client="bank-a-screening",
        purpose="fraud-prevention",
        legal_basis="gdpr-6-1-f",
        decision="allow",
        reason_codes=("purpose-registered",),
        policy_digest="sha256:" + "1" * 64,
        counts={"items": 1, "hits": number % 2},
    )


def _append(factory: sessionmaker[Session], trail: AuditTrail, entries: int) -> None:
    for start in range(0, entries, APPEND_BATCH):
        batch = [trail.prepare(_event(n)) for n in range(start, min(entries, start + APPEND_BATCH))]
        with transaction(factory) as session:
            trail.write_batch(session, batch)


def _reset(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        session.execute(text("DELETE FROM audit_cosignatures"))
        session.execute(text("DELETE FROM audit_checkpoints"))
        session.execute(text("DELETE FROM audit_nodes"))
        session.execute(
            text("UPDATE audit_log_head SET tree_size = 0, frontier = :empty"), {"empty": b""}
        )


def _raw(factory: sessionmaker[Session], entries: int) -> None:
    """Read every row (number, body, recorded leaf hash) in batches and hash each body."""
    with transaction(factory) as session:
        for start in range(0, entries, READ_BATCH):
            rows = session.execute(
                select(AuditEntry.seq, AuditEntry.body, AuditEntry.leaf_hash).where(
                    AuditEntry.seq >= start, AuditEntry.seq < start + READ_BATCH
                )
            )
            for _seq, body, recorded in rows:
                if hashlib.sha256(b"\x00" + bytes(body)).digest() != bytes(recorded):
                    raise SystemExit("the raw baseline found a corrupt entry")


def _cpu(action: Callable[[], object], reset: Callable[[], None] | None, repeat: int) -> float:
    """Least thread CPU seconds of ``repeat`` runs (other load only ever adds)."""
    best = float("inf")
    for _ in range(repeat):
        if reset is not None:
            reset()
        started = time.thread_time()
        action()
        best = min(best, time.thread_time() - started)
    return best


def measure(factory: sessionmaker[Session], trail: AuditTrail, entries: int, repeat: int) -> None:
    scheduler = CheckpointScheduler(trail, factory)

    def integrate() -> None:
        with transaction(factory) as session:
            trail.integrate(session)

    def integrate_then_sign() -> None:
        integrate()
        with transaction(factory) as session:
            checkpoints.sign_pending(session, trail.signer, trail.clock.now())

    raw = _cpu(lambda: _raw(factory, entries), None, repeat)
    print(f"  raw read + SHA-256      {1e6 * raw / entries:7.1f} µs/entry (baseline)")
    for name, action in (
        ("integrate", integrate),
        ("integrate, then sign", integrate_then_sign),
        ("run_once (due)", scheduler.run_once),
    ):
        spent = _cpu(action, lambda: _reset(factory), repeat)
        print(f"  {name:<23} {1e6 * spent / entries:7.1f} µs/entry   {spent / raw:5.1f}x raw")
    idle = _cpu(scheduler.run_once, None, 20)  # everything is folded and signed by now
    print(f"  a pass with nothing new {1e3 * idle:7.2f} ms (what each wake-up costs at least)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode; the least counts")
    parser.add_argument("--sqlite", action="store_true", help="a scratch SQLite file instead")
    parser.add_argument(
        "--base-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    name = f"ppsgate_bench_seq_{secrets.token_hex(4)}"
    admin = make_url(args.base_url).set(drivername="postgresql").render_as_string(False)
    with tempfile.TemporaryDirectory() as data_dir:
        if args.sqlite:
            url = f"sqlite:///{data_dir}/bench.db"
        else:
            url = make_url(args.base_url).set(database=name).render_as_string(False)
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        try:
            settings = load_settings(
                env="test",
                database_url=url,
                data_dir=Path(data_dir),
                audit_checkpoint_max_entries=1_000_000,
            )
            engine = build_engine(settings)
            upgrade(engine)
            factory = build_session_factory(engine)
            trail = build_audit_trail(settings)
            _append(factory, trail, args.entries)
            print(f"{engine.dialect.name}, {args.entries:,} entries, least of {args.repeat} runs:")
            measure(factory, trail, args.entries, args.repeat)
            engine.dispose()
        finally:
            if not args.sqlite:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                        (name,),
                    )
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()
