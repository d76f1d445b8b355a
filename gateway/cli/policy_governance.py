"""``ppsgate policy propose|approve|activate|history``: four-eyes policy changes."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit_trail.service import AuditTrail, build_audit_trail
from gateway.clock import Clock, SystemClock
from gateway.datadir import operator_settings
from gateway.db import build_engine, build_session_factory, transaction
from gateway.governance import APPROVALS_NEEDED, PolicyGovernance
from gateway.migrate import upgrade
from gateway.policy.bundle import load_bundle

By = Annotated[str, typer.Option("--by", help="Console user name of who does this step.")]
Digest = Annotated[str, typer.Argument(help="Version digest (at least 8 hex characters).")]


def _governance_session() -> tuple[Engine, sessionmaker[Session], AuditTrail, Clock]:
    settings = operator_settings()
    engine = build_engine(settings)
    upgrade(engine)
    clock = SystemClock()
    audit = build_audit_trail(settings, clock=clock)
    return engine, build_session_factory(engine), audit, clock


def propose(
    bundle_dir: Annotated[Path, typer.Argument(help="Bundle directory or .tar.gz.")],
    by: By,
    note: Annotated[str, typer.Option(help="Why this change (kept with the version).")] = "",
) -> None:
    """Propose a new policy bundle; it must pass its Rego tests and the decision table."""
    bundle = load_bundle(bundle_dir)
    engine, factory, audit, clock = _governance_session()
    try:
        with transaction(factory) as session:
            version = PolicyGovernance(
                session, audit, clock, request_id=f"cli-{secrets.token_hex(6)}"
            ).propose(bundle, by=by, note=note)
            report = json.loads(version.test_report)
    finally:
        engine.dispose()
    Console().print(
        f"proposed {bundle.digest[:16]} (tests: {report['rego_passed']} Rego, "
        f"{report['table_passed']} decision-table cases passed); needs {APPROVALS_NEEDED} "
        "approvals"
    )


def approve(digest: Digest, by: By) -> None:
    """Approve a proposed version (privacy officer or partnership DPO, not the proposer)."""
    engine, factory, audit, clock = _governance_session()
    try:
        with transaction(factory) as session:
            count = PolicyGovernance(
                session, audit, clock, request_id=f"cli-{secrets.token_hex(6)}"
            ).approve(digest, by=by)
    finally:
        engine.dispose()
    Console().print(f"approved; {count} of {APPROVALS_NEEDED} approvals")


def activate(digest: Digest, by: By) -> None:
    """Activate an approved version; running gateways switch within a refresh interval."""
    engine, factory, audit, clock = _governance_session()
    try:
        with transaction(factory) as session:
            version = PolicyGovernance(
                session, audit, clock, request_id=f"cli-{secrets.token_hex(6)}"
            ).activate(digest, by=by)
            active = version.digest
    finally:
        engine.dispose()
    Console().print(f"active policy version is now {active[:16]}")


def history() -> None:
    """Every policy version with its status, proposer and activation."""
    engine, factory, audit, clock = _governance_session()
    table = Table(title="Policy versions")
    for column in ("digest", "status", "proposed by", "created", "activated", "note"):
        table.add_column(column)
    try:
        with transaction(factory) as session:
            for version in PolicyGovernance(session, audit, clock, request_id="cli").history():
                table.add_row(
                    version.digest[:16],
                    version.status,
                    version.proposed_by,
                    version.created_at.isoformat(timespec="seconds"),
                    version.activated_at.isoformat(timespec="seconds")
                    if version.activated_at
                    else "",
                    version.note,
                )
    finally:
        engine.dispose()
    Console().print(table)
