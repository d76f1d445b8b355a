"""``ppsgate purge``: apply retention now (the server also does it periodically)."""

from __future__ import annotations

import getpass
import secrets

from rich.console import Console
from rich.table import Table

from gateway.bootstrap import build_services
from gateway.datadir import operator_settings
from gateway.db import transaction
from gateway.retention import purge


def purge_command() -> None:
    """Delete expired indicators, stale idempotency records, audit details past retention
    and quota bookkeeping of ended windows."""
    services = build_services(operator_settings())
    try:
        with transaction(services.session_factory) as session:
            counts = purge(
                session,
                services,
                request_id=f"cli-{secrets.token_hex(6)}",
                actor=f"cli:{getpass.getuser()}",
            )
    finally:
        services.engine.dispose()
    table = Table(title="Purged (audited as counts)", show_header=False)
    for name, count in sorted(counts.counts.items()):
        table.add_row(name, str(count))
    Console().print(table)
