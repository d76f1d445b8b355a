"""Benchmark: first render of the console's audit page over 1,000,000 audit entries.

Creates a scratch PostgreSQL database (dropped at the end), migrates it, bulk-loads
``--entries`` canonical audit entries with COPY (spread over 12 partners, 90 days, allowed
and denied), then renders ``GET /console/audit`` through the real app (session cookie,
policy decision on the audit read, keyset query, the view's own audit entry, Jinja page) and
prints p50/p99 per page for: the partnership DPO (all partners, no filter), a privacy
officer (one partner), and a filtered search (one partner, denied only), plus a keyset page
further back. The raw baseline is ``queries.search`` alone on the same data, in the same
process. Target: first render under 300 ms.

    .venv/bin/python -m bench.console [--entries 1000000] [--renders 60]
        [--base-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nacl.pwhash
import psycopg
import pyotp
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from audit.entry import Entry
from audit.merkle import leaf_hash
from gateway.app import create_app
from gateway.audit_trail import queries
from gateway.audit_trail.events import Actor
from gateway.audit_trail.queries import AuditFilter
from gateway.auth.console_deps import SESSION_COOKIE
from gateway.auth.console_users import ConsoleAccounts, PasswordHashing
from gateway.bootstrap import build_services
from gateway.clock import FixedClock
from gateway.config import load_settings
from gateway.db import build_engine, transaction
from gateway.migrate import upgrade
from gateway.partners.service import PartnerRegistry

PARTNERS = (
    "bank-a",
    "bank-b",
    "telecom-a",
    "marketplace-a",
    "psp-a",
    "registry-nl",
    "police-nl",
    "bailiff-nl",
    "psp-b",
    "bank-c",
    "bank-d",
    "telecom-b",
)
PURPOSES = (
    "payment_screening",
    "batch_screening",
    "indicator_submission",
    "watchlist_alerts",
    "spoofing_prevention",
)
TAGS = (
    "match:query:allow",
    "indicator:batch:submit",
    "watchlist:entries:write",
    "alert:cursor:ack",
)
FAST = PasswordHashing(
    opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN, memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN
)
PASSWORD = "benchmark password 1"
START = datetime(2026, 9, 1, tzinfo=UTC)


def _load(conninfo: str, entries: int) -> float:
    began = time.perf_counter()
    span = timedelta(days=90).total_seconds()
    digest = secrets.token_hex(32)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY audit_entries (seq, body, leaf_hash, time, tag, request_id, actor_partner,"
            " actor_client,"
            " actor_user, purpose, decision) FROM STDIN"
        ) as copy:
            for seq in range(entries):
                moment = START + timedelta(seconds=span * seq / entries)
                partner = PARTNERS[seq % len(PARTNERS)]
                denied = seq % 17 == 0
                tag = "match:query:deny" if denied else TAGS[seq % len(TAGS)]
                purpose = PURPOSES[seq % len(PURPOSES)]
                entry = Entry(
                    seq=seq,
                    time=moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    request_id=f"bench{seq:x}",
                    tag=tag,
                    actor_partner=partner,
                    actor_client=f"{partner}-c1",
                    purpose=purpose,
                    legal_basis="art6_1_f",
                    decision="deny" if denied else "allow",
                    reasons=("kind-not-allowed-for-purpose",) if denied else ("purpose-limited",),
                    policy_digest=digest,
                    counts={"items": 1 + seq % 5, "hits": seq % 2},
                )
                body = entry.encode()
                copy.write_row(
                    (
                        seq,
                        body,
                        leaf_hash(body),
                        moment,
                        tag,
                        entry.request_id,
                        partner,
                        entry.actor_client,
                        None,
                        purpose,
                        entry.decision,
                    )
                )
        cur.execute("SELECT setval('audit_entry_seq', %s, false)", (entries,))
        cur.execute("ANALYZE audit_entries")
    return time.perf_counter() - began


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _measure(client: TestClient, path: str, renders: int) -> tuple[float, float]:
    timings = []
    for _ in range(renders):
        began = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.text[:300]}")
    return _percentiles(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--renders", type=int, default=60)
    parser.add_argument(
        "--base-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    base = make_url(args.base_url)
    name = f"ppsgate_bench_console_{os.getpid()}"
    admin = f"host={base.host} port={base.port or 5432} user={base.username} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as directory:
            _run(url, name, admin, Path(directory), args)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(url: str, name: str, admin: str, directory: Path, args: argparse.Namespace) -> None:
    settings = load_settings(
        env="test", data_dir=directory, database_url=url, public_url="https://gateway.bench"
    )
    engine = build_engine(settings)
    upgrade(engine)
    engine.dispose()
    loaded = _load(admin.replace("dbname=postgres", f"dbname={name}"), args.entries)
    print(f"loaded {args.entries:,} audit entries with COPY in {loaded:.1f} s")
    clock = FixedClock(datetime.now(tz=UTC).replace(microsecond=0))
    services = build_services(settings, clock=clock)
    app = create_app(settings, services=services)
    users = {}
    with transaction(services.session_factory) as session:
        registry = PartnerRegistry(session, services.audit, actor=Actor(request_id="bench"))
        registry.add_partner(name="Bank A", sector="bank", partner_id="bank-a")
        registry.add_partner(name="DPO", sector="partnership_dpo", partner_id="dpo-pps")
        accounts = ConsoleAccounts(
            session, services.audit, settings, clock=clock, request_id="bench", hashing=FAST
        )
        for username, role, partner in (
            ("dora", "partnership_dpo", "dpo-pps"),
            ("petra", "privacy_officer", "bank-a"),
        ):
            users[username] = accounts.add_user(
                username=username, role=role, partner_id=partner, password=PASSWORD
            )
    clients = {}
    for username, created in users.items():
        clock.current += timedelta(seconds=31)
        with transaction(services.session_factory) as session:
            outcome = ConsoleAccounts(
                session, services.audit, settings, clock=clock, request_id="bench", hashing=FAST
            ).sign_in(username, PASSWORD, pyotp.TOTP(created.totp_secret).at(clock.now()))
        outcome.raise_for_failure()
        client = TestClient(app, base_url="https://testserver")
        client.cookies.set(SESSION_COOKIE, str(outcome.session_token))
        clients[username] = client

    def raw(filters: AuditFilter, scope: str | None) -> tuple[float, float]:
        timings = []
        for _ in range(args.renders):
            began = time.perf_counter()
            with transaction(services.session_factory) as session:
                queries.search(session, filters, scope=scope, limit=50)
            timings.append((time.perf_counter() - began) * 1000)
        return _percentiles(timings)

    cases = [
        ("DPO, all partners, first page", "dora", "/console/audit", AuditFilter(), None),
        ("officer, own partner, first page", "petra", "/console/audit", AuditFilter(), "bank-a"),
        (
            "officer, denied only",
            "petra",
            "/console/audit?decision=deny",
            AuditFilter(decision="deny"),
            "bank-a",
        ),
        (
            f"DPO, keyset page at entry {args.entries // 2:,}",
            "dora",
            f"/console/audit?before={args.entries // 2}",
            AuditFilter(),
            None,
        ),
    ]
    results = []
    for label, user, path, filters, scope in cases:
        clients[user].get(path)  # warm the connection pool and the template cache
        p50, p99 = _measure(clients[user], path, args.renders)
        base50, base99 = raw(filters, scope)
        results.append(
            {
                "case": label,
                "p50_ms": round(p50, 1),
                "p99_ms": round(p99, 1),
                "raw_p50_ms": round(base50, 2),
                "raw_p99_ms": round(base99, 2),
            }
        )
        print(
            f"{label:38s} render p50 {p50:6.1f} ms  p99 {p99:6.1f} ms   "
            f"raw search p50 {base50:5.2f} ms  p99 {base99:5.2f} ms  "
            f"(render/raw {p50 / base50:4.1f}x)  target < 300 ms: "
            f"{'met' if p99 < 300 else 'MISSED'}"
        )
    print(json.dumps({"entries": args.entries, "results": results}))
    services.engine.dispose()


if __name__ == "__main__":
    main()
