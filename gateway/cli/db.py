"""``ppsgate db``: schema migrations."""

from __future__ import annotations

import typer
from rich.console import Console

from gateway.datadir import operator_settings
from gateway.db import build_engine
from gateway.migrate import current_heads, upgrade

app = typer.Typer(help="Database schema commands.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply all migrations to the configured database (SQLite or PostgreSQL); needs no key."""
    settings = operator_settings(require_database=False, schema_only=True)
    engine = build_engine(settings)
    try:
        upgrade(engine)
        heads = ", ".join(sorted(current_heads(engine)))
    finally:
        engine.dispose()
    url = engine.url.render_as_string(hide_password=True)
    Console().print(f"database {url} is at revision {heads}")
