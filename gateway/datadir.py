"""Where the operator's commands find the gateway's data, and refusing to invent it.

Every ``ppsgate`` command that works on a gateway's data takes ``--data-dir`` (the same
option everywhere), else ``PPSGATE_DATA_DIR`` (or ``PPSGATE_DATABASE_URL``), else the per-user
default. A command that reads or changes a gateway's state refuses when no database is there,
naming the path it looked at and how to point it elsewhere: a typo in a path must not leave
behind a new, empty database (with freshly generated development keys) that the command then
silently reports on. ``ppsgate db upgrade`` is the command that creates a database.

The option is attached to the commands by :func:`add_data_dir_option` when the command tree
is built; its value reaches :func:`operator_settings` through a context variable.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main
from sqlalchemy.engine import make_url

from gateway.config import Settings, load_database_settings, load_settings
from gateway.errors import ConfigurationError

OPTION = "--data-dir"
HELP = (
    "The gateway's data directory (SQLite database and development keys); default: "
    "PPSGATE_DATA_DIR, else the per-user data directory."
)
_chosen: ContextVar[Path | None] = ContextVar("ppsgate_data_dir", default=None)


def _remember(value: Path | None) -> Path | None:
    _chosen.set(value.expanduser() if value is not None else None)
    return value


def data_dir_option() -> Any:
    """The option as typer builds it, not passed to the command function it is added to."""
    probe = typer.Typer()

    @probe.command()
    def _probe(
        data_dir: Annotated[
            Path | None, typer.Option(OPTION, help=HELP, callback=_remember)
        ] = None,
    ) -> None:
        """Only here to have typer build the option."""

    option = typer.main.get_command(probe).params[0]
    option.expose_value = False
    return option


def add_data_dir_option(command: Any, *, skip: Iterable[str] = (), prefix: str = "") -> None:
    """Give every leaf command under ``command`` the ``--data-dir`` option (except ``skip``)."""
    skipped = set(skip)
    for name, sub in getattr(command, "commands", {}).items():
        path = f"{prefix}{name}"
        if path in skipped:
            continue
        if hasattr(sub, "commands"):
            add_data_dir_option(sub, skip=skipped, prefix=f"{path} ")
        elif not any(OPTION in getattr(p, "opts", ()) for p in sub.params):
            sub.params.append(data_dir_option())


def operator_settings(
    *, require_database: bool = True, schema_only: bool = False, **overrides: object
) -> Settings:
    """Settings for an operator command; refuse when no gateway database is where it looks.

    ``schema_only`` (``db upgrade``): production needs no key file for it.
    """
    chosen = _chosen.get()
    if chosen is not None:
        overrides = {"data_dir": chosen, **overrides}
    loader = load_database_settings if schema_only else load_settings
    settings = loader(**overrides)
    if require_database:
        check_database_exists(settings, chosen=chosen is not None)
    return settings


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite database file of these settings (``None`` for PostgreSQL or in memory)."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database))


def check_database_exists(settings: Settings, *, chosen: bool = False) -> None:
    path = sqlite_path(settings)
    if path is None or path.is_file():
        return
    if settings.database_url:
        source = "PPSGATE_DATABASE_URL"
    elif chosen:
        source = OPTION
    elif "data_dir" in settings.model_fields_set:
        source = "PPSGATE_DATA_DIR"
    else:
        source = "the per-user default data directory"
    raise ConfigurationError(
        f"no gateway database at {path} (from {source}); point the command at the gateway's "
        f"data with {OPTION} DIR or PPSGATE_DATA_DIR=DIR (PostgreSQL: PPSGATE_DATABASE_URL), "
        "or create a new database there with `ppsgate db upgrade`",
        field="data_dir",
    )
