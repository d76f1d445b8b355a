"""Schema migrations: one Alembic history for SQLite and PostgreSQL.

Areas add their migrations with ``down_revision`` on the foundation and the history is
upgraded to all heads, so work on separate areas does not collide; merge revisions tie
heads together when they accumulate.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from gateway.db import check_reachable
from gateway.errors import StorageUnavailableError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision, or fail with a clear error."""
    check_reachable(engine)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
    except (OperationalError, ProgrammingError) as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StorageUnavailableError(f"migration failed: {detail}") from exc


def current_heads(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def is_up_to_date(engine: Engine) -> bool:
    script = ScriptDirectory.from_config(alembic_config())
    return current_heads(engine) == set(script.get_heads())
