"""``ppsgate-connector``: the command line a partner runs beside its own systems.

Each command lives in a module of its own and is registered below, one line each (``hash``
now; ``keys``, ``submit``, ``match``, ``watch``, ``alerts`` and ``custodian`` join the same
way). :func:`main` is the single exit point: every expected failure is a
:class:`~connectors.errors.ConnectorError`, printed as one line with exit code 1; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from connectors.cli import (
    custodian_command,
    exchange_commands,
    hash_command,
    keys_command,
    requests_command,
)
from connectors.errors import ConnectorError
from connectors.interop import command as export_command

app = typer.Typer(
    name="ppsgate-connector",
    help="ppsgate connector: canonicalise and hash identifiers, exchange indicators.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """ppsgate connector: canonicalise and hash identifiers, exchange indicators."""


# Command registrations: one line per command module.
app.command(name="hash")(hash_command.hash_command)
app.add_typer(keys_command.app, name="keys")
app.command(name="submit")(exchange_commands.submit_command)
app.command(name="match")(exchange_commands.match_command)
app.add_typer(exchange_commands.watch_app, name="watch")
app.command(name="alerts")(exchange_commands.alerts_command)
app.command(name="rehash")(exchange_commands.rehash_command)
app.add_typer(custodian_command.app, name="custodian")
app.command(name="export")(export_command.export_command)
app.add_typer(requests_command.app, name="requests")


def main() -> None:
    """Run the CLI; turn expected errors into one line and exit code 1."""
    try:
        result = app(standalone_mode=False)
    except ConnectorError as exc:
        Console(stderr=True, soft_wrap=True).print(
            f"[bold red]error:[/] {exc.diagnostics()}", highlight=False, markup=True
        )
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors from the argument parser
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        Console(stderr=True).print("aborted", highlight=False)
        sys.exit(130)
    # Without standalone mode the parser returns an exit code (e.g. 0 after --help).
    sys.exit(result if isinstance(result, int) else 0)
