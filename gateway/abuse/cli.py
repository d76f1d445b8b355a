"""``ppsgate abuse``: the operator's view of enumeration alerts and quota usage.

Read-only and without identifiers (partner and client ids, purposes, counts), so printing
them is safe; the console overview shows the same rows to the partnership's DPO.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from gateway.abuse.models import AlertStatus, QuotaScope
from gateway.abuse.queries import list_alerts, list_usage
from gateway.datadir import operator_settings
from gateway.db import build_engine, build_session_factory, transaction

app = typer.Typer(help="Quotas and enumeration alerts.", no_args_is_help=True)


def _out() -> Console:
    """A console sized to the terminal at the time of the command."""
    return Console(highlight=False, soft_wrap=True)


@contextmanager
def _session() -> Iterator[Session]:
    engine = build_engine(operator_settings())
    try:
        with transaction(build_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


@app.command("alerts")
def alerts_command(
    partner: Annotated[str | None, typer.Option(help="Only this partner.")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Closed alerts too.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Enumeration alerts (dictionary querying, mass disputes), newest first; open unless --all."""
    with _session() as session:
        rows = list_alerts(
            session,
            status=None if show_all else AlertStatus.OPEN,
            partner_id=partner,
            limit=limit,
        )
    table = Table(title="Enumeration alerts")
    for column in (
        "id",
        "raised",
        "partner",
        "client",
        "purpose",
        "window",
        "items",
        "distinct",
        "hits",
        "status",
        "audit entry",
    ):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            row.raised_at.isoformat(timespec="seconds"),
            row.partner_id,
            row.client_id or "-",
            row.purpose,
            f"{row.window_start.isoformat(timespec='seconds')} +{row.window_seconds}s",
            str(row.items),
            str(row.distinct_tokens),
            str(row.hits),
            row.status,
            str(row.audit_seq),
        )
    _out().print(table if rows else "no enumeration alerts")


@app.command("usage")
def usage_command(
    partner: Annotated[str | None, typer.Option(help="Only this partner.")] = None,
    clients: Annotated[bool, typer.Option(help="Per client instead of per partner.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """Items used per window and purpose (newest window first)."""
    with _session() as session:
        rows = list_usage(
            session,
            partner_id=partner,
            scope=QuotaScope.CLIENT if clients else QuotaScope.PARTNER,
            limit=limit,
        )
    table = Table(title="Quota usage")
    for column in ("window", "partner", "subject", "purpose", "used", "distinct", "hits"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            f"{row.window_start.isoformat(timespec='seconds')} +{row.window_seconds}s",
            row.partner_id,
            row.subject,
            row.purpose,
            str(row.used),
            str(row.distinct_tokens),
            str(row.hits),
        )
    _out().print(table if rows else "no usage recorded")
