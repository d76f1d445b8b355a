"""``ppsgate pepper``: rotate K_gw along with the salt epochs (status, add, prune).

The ring file should be edited only through these commands, so the two mistakes that would
silently break matching — a key added for an epoch that already holds tokens, a key removed
while its epochs still hold data — are refused with the reason.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gateway.bootstrap import build_services
from gateway.datadir import operator_settings
from gateway.keys.pepper_binding import KeyUse
from gateway.keys.pepper_rotation import add_key, prune_keys, uses
from gateway.pepper import pepper_path
from gateway.services import Services

app = typer.Typer(help="K_gw, the pepper of tokens at rest: key ring status and rotation.")


@contextmanager
def _services() -> Iterator[Services]:
    services = build_services(operator_settings())
    try:
        yield services
    finally:
        services.engine.dispose()


def _table(current: list[KeyUse], now: datetime) -> Table:
    table = Table(title="Pepper key ring (K_gw)")
    for column in ("from epoch", "key id", "epochs", "webhooks", "may be pruned"):
        table.add_column(column)
    for position, use in enumerate(current):
        blocker = use.blocker(now, newest=position == len(current) - 1)
        table.add_row(
            str(use.from_epoch),
            use.key_id,
            ", ".join(map(str, use.epochs)) or "-",
            str(use.webhooks),
            "yes" if blocker is None else f"no: {blocker}",
        )
    return table


@app.command()
def status() -> None:
    """Show each key of the ring, the epochs and webhooks bound to it, and whether it may go."""
    with _services() as services:
        Console().print(_table(uses(services), services.clock.now()))


@app.command()
def add(
    from_epoch: Annotated[
        int, typer.Option("--from-epoch", min=1, help="First salt epoch the new key peppers")
    ],
) -> None:
    """Add a fresh key for epochs from --from-epoch on (an epoch not issued yet)."""
    with _services() as services:
        key_id = add_key(services, from_epoch, actor=f"cli:{getpass.getuser()}")
        Console().print(
            f"Added key {key_id} for epochs from {from_epoch} to "
            f"{pepper_path(services.settings)}. Copy the file to every gateway replica before "
            "the custodian issues that epoch (running workers re-read it within "
            "PPSGATE_MAINTENANCE_INTERVAL_SECONDS)."
        )


@app.command()
def prune(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would go")] = False,
) -> None:
    """Destroy keys whose epochs are retired, whose audit details are purged and no webhook uses."""
    with _services() as services:
        report = prune_keys(services, actor=f"cli:{getpass.getuser()}", dry_run=dry_run)
        Console().print(_table(report.uses, services.clock.now()))
        verb = "May be pruned" if dry_run else "Pruned"
        Console().print(f"{verb}: {len(report.pruned)} key(s); {report.kept} in the ring.")
