"""``ppsgate partner offboard``: a partner leaves the partnership (story 10).

Registered on the ``partner`` command group; one audited transaction like the other registry
commands (see :mod:`gateway.offboarding` for the steps).
"""

from __future__ import annotations

from typing import Annotated

import typer

from gateway.cli.partner import out, registry_context
from gateway.offboarding import OffboardReport, RetentionDecision, offboard


def offboard_command(
    partner_id: Annotated[str, typer.Argument(help="Partner id.")],
    indicators: Annotated[
        RetentionDecision,
        typer.Option(
            help="expire: its indicators stop matching now and the retention purge deletes "
            "them; keep: the partnership decided to keep them until their own expiry "
            "(needs --reason)."
        ),
    ],
    reason: Annotated[
        str | None,
        typer.Option(
            help="The partnership's decision for --indicators keep (no personal data; "
            "written to the audit log)."
        ),
    ] = None,
) -> None:
    """A partner leaves: clients suspended, no next key epoch, indicators per the decision."""
    with registry_context() as (registry, _):
        report = offboard(registry, partner_id, decision=indicators, reason=reason)
    _print(report)


def _print(report: OffboardReport) -> None:
    clients = ", ".join(report.clients_suspended) or "none active"
    out.print(
        f"partner {report.partner_id} offboarded: clients suspended ({clients}); excluded "
        f"from the next key epoch; {report.watch_entries_deleted} watch-list entries deleted"
    )
    if report.decision is RetentionDecision.EXPIRE:
        out.print(
            f"{report.indicators} indicators expired now; the retention purge "
            "(`ppsgate purge`, or the periodic one) deletes them"
        )
    else:
        out.print(
            f"{report.indicators} indicators kept until their own expiry, by the "
            "partnership's decision"
        )
