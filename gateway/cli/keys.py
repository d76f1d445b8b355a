"""``ppsgate keys``: what the gateway operator can see and do about salt epochs.

The operator sees epochs, their states and dates, and how many envelopes each holds — never
what is inside. It can revoke the custodian's key (after a compromise or a hand-over), after
which no epoch is accepted until the new custodian registers; it cannot create, activate or
retire epochs: that is the custodian's, through the API, with its own key.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from gateway.audit_trail.events import Actor
from gateway.bootstrap import build_services
from gateway.datadir import operator_settings
from gateway.db import transaction
from gateway.errors import InvalidRequestError
from gateway.keys.models import KeyEnvelope
from gateway.keys.service import KeyCustody

app = typer.Typer(
    help="Salt epochs and the key custodian (read-only but for revocation).", no_args_is_help=True
)
out = Console(highlight=False, soft_wrap=True)


def _actor() -> Actor:
    user = Actor.command_line().user
    return Actor(request_id=f"cli-{secrets.token_hex(8)}", user=user)


@app.command("list")
def list_epochs() -> None:
    """Epochs, states, overlap windows, envelopes held and fetched."""
    services = build_services(operator_settings())
    try:
        with transaction(services.session_factory) as session:
            custody = KeyCustody(session, services, _actor())
            epochs = custody.list_epochs(None)
            counts = dict(
                session.execute(
                    select(KeyEnvelope.epoch, func.count()).group_by(KeyEnvelope.epoch)
                ).all()
            )
            fetched = dict(
                session.execute(
                    select(KeyEnvelope.epoch, func.count())
                    .where(KeyEnvelope.fetched_at.is_not(None))
                    .group_by(KeyEnvelope.epoch)
                ).all()
            )
            custodian = custody.active_custodian()
    finally:
        services.engine.dispose()
    title = (
        f"custodian key {custodian.key_id[:16]}… ({custodian.client_id})"
        if custodian
        else ("no custodian key registered")
    )
    table = Table(title=title)
    for column in (
        "epoch",
        "state",
        "activated",
        "overlap ends",
        "retired",
        "envelopes",
        "fetched",
    ):
        table.add_column(column)
    for epoch in epochs:
        table.add_row(
            str(epoch.epoch),
            epoch.state,
            epoch.activated_at.isoformat() if epoch.activated_at else "",
            epoch.overlap_ends_at.isoformat() if epoch.overlap_ends_at else "",
            epoch.retired_at.isoformat() if epoch.retired_at else "",
            str(counts.get(epoch.epoch, 0)),
            str(fetched.get(epoch.epoch, 0)),
        )
    out.print(table)


@app.command("revoke-custodian")
def revoke_custodian(
    yes: Annotated[bool, typer.Option("--yes", help="Confirm the revocation.")] = False,
) -> None:
    """Revoke the registered custodian key (audited); uploads stop until a new one registers."""
    if not yes:
        raise InvalidRequestError(
            "confirm with --yes: no epoch can be created until a new custodian registers",
            field="--yes",
        )
    services = build_services(operator_settings())
    try:
        with transaction(services.session_factory) as session:
            revoked = KeyCustody(session, services, _actor()).revoke_custodian()
    finally:
        services.engine.dispose()
    out.print(f"custodian key {revoked.key_id} revoked")
