"""CPU and wall time of the quota charge alone, one thread, on PostgreSQL.

``charge_quota`` for one client of one partner, ``--charges`` times inside one request
transaction (warmed up first), as a single match charges it: this process's CPU per charge
(statement building, the driver, the give-back hook's bookkeeping) and the wall time, which
adds the round trips and the database's work. No HTTP, no lookup, no commit of the request.
Then the statements alone with psycopg (``raw``): the gateway's one statement in autocommit
against the earlier form, BEGIN, one upsert per row, COMMIT, both with
``synchronous_commit = off`` on the same scratch database, alternated twice.

    .venv/bin/python -m bench.quota_charge --charges 3000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy import Dialect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.contention import UNLIMITED, _client
from bench.fixture import scratch_database
from gateway.abuse.quotas import _charge_statement, charge_quota
from gateway.audit_trail.events import Actor, AuditTag
from gateway.bootstrap import build_services
from gateway.config import load_settings
from gateway.db import build_engine, transaction
from gateway.migrate import upgrade
from gateway.partners.service import PartnerRegistry
from gateway.services import Services


def _charge(session: Session, services: Services) -> None:
    charge_quota(
        session,
        services,
        _client(1),
        request_id="r" * 16,
        purpose="payment_screening",
        legal_basis="art6_1_c",
        decision=UNLIMITED,
        items=1,
        deny_tag=AuditTag.MATCH_QUERY_DENY,
    )


def measure(services: Services, charges: int, warm: int = 200) -> tuple[float, float]:
    """CPU and wall milliseconds per charge."""
    with transaction(services.session_factory) as session:
        for _ in range(warm):
            _charge(session, services)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(charges):
            _charge(session, services)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return 1000 * cpu / charges, 1000 * wall / charges


_ONE_ROW = """
INSERT INTO abuse_quota_usage AS u (scope, subject, purpose, window_start, partner_id,
    window_seconds, used, distinct_tokens, hits, alerted)
VALUES (%(scope)s, %(subject)s, 'raw', 0, 'raw', 3600, 1, 0, 0, false)
ON CONFLICT (scope, subject, purpose, window_start) DO UPDATE SET used = u.used + excluded.used
    WHERE u.used + excluded.used <= %(limit)s
RETURNING scope, used
"""


def raw(url: str, dialect: Dialect, charges: int) -> list[tuple[str, float]]:
    """Wall milliseconds per charge of the two forms, with psycopg directly."""
    compiled = _charge_statement("postgresql", 2).compile(dialect=dialect)
    params = {
        **compiled.params,
        **{"meter0_scope": "client", "meter0_subject": "raw-c", "meter1_scope": "partner"},
        **{"meter1_subject": "raw", "purpose": "raw", "window_start": 0, "partner_id": "raw"},
        **{"window_seconds": 3600, "items": 1, "client_limit": 10**12, "partner_limit": 10**12},
    }
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    figures = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")

        def before() -> None:
            with conn.transaction():
                for scope in ("client", "partner"):
                    subject = "raw-c" if scope == "client" else "raw"
                    conn.execute(_ONE_ROW, {"scope": scope, "subject": subject, "limit": 10**12})

        def after() -> None:
            conn.execute(str(compiled), params).fetchall()

        forms = (("BEGIN, 2 upserts, COMMIT", before), ("one statement, autocommit", after))
        for _round in range(2):
            for name, charge in forms:
                for _ in range(50):
                    charge()
                started = time.perf_counter()
                for _ in range(charges):
                    charge()
                figures.append((name, 1000 * (time.perf_counter() - started) / charges))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charges", type=int, default=3000)
    args = parser.parse_args()
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(database_url=url, data_dir=Path(tmp), database_pool_size=4)
        engine = build_engine(settings)
        upgrade(engine)
        engine.dispose()
        services = build_services(settings)
        with transaction(services.session_factory) as session:
            PartnerRegistry(session, services.audit, actor=Actor("bench", "bench")).add_partner(
                name="bank-a", sector="bank", partner_id="bank-a"
            )
        cpu, wall = measure(services, args.charges)
        print(f"quota charge x{args.charges}: CPU {cpu:.3f} ms, wall {wall:.3f} ms per charge")
        services.engine.dispose()
        for name, ms in raw(url, services.engine.dialect, args.charges):
            print(f"raw {name}: {ms:.3f} ms wall per charge")


if __name__ == "__main__":
    main()
