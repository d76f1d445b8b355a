"""``ppsgate``: the gateway operator's command line.

Sub-commands live in one module each (``db``, ``demo``, ``policy``, ``audit``, ...) and are
registered here. :func:`main` is the single exit point: every expected failure is a
:class:`~gateway.errors.GatewayError`, printed as one line with exit code 1; anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import click
import typer
import typer.main
from rich.console import Console
from typer.core import TyperGroup

from gateway.abuse import cli as abuse_cli
from gateway.cli import audit as audit_cli
from gateway.cli import db as db_cli
from gateway.cli import demo as demo_cli
from gateway.cli import evaluator as evaluator_cli
from gateway.cli import init as init_cli
from gateway.cli import keys as keys_cli
from gateway.cli import partner as partner_cli
from gateway.cli import partner_notice, partner_offboard
from gateway.cli import pepper as pepper_cli
from gateway.cli import policy as policy_cli
from gateway.cli import purge as purge_cli
from gateway.cli import user as user_cli
from gateway.datadir import add_data_dir_option
from gateway.errors import GatewayError

app = typer.Typer(
    name="ppsgate",
    help="ppsgate gateway: serve, demo, database, policy and audit commands.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(abuse_cli.app, name="abuse")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(db_cli.app, name="db")
app.add_typer(evaluator_cli.app, name="evaluator")
app.add_typer(keys_cli.app, name="keys")
partner_cli.app.command("offboard")(partner_offboard.offboard_command)
partner_cli.app.command("notice")(partner_notice.notice_command)
app.add_typer(partner_cli.app, name="partner")
app.add_typer(pepper_cli.app, name="pepper")
app.add_typer(policy_cli.app, name="policy")
app.add_typer(user_cli.app, name="user")
app.command(name="demo")(demo_cli.demo)
app.command(name="init")(init_cli.init)
app.command(name="serve")(demo_cli.serve)
app.command(name="purge")(purge_cli.purge_command)


# Commands that work on no gateway data directory of their own: init makes key files only,
# the demo has its own
# --data-dir, serve reads PPSGATE_* like its workers, evaluators and witnesses are separate
# parties, these audit commands work from a URL, a receipt or a new key file, and these policy
# commands from a bundle directory.
NO_DATA_DIR = (
    "init",
    "demo",
    "serve",
    "evaluator",
    "audit verify",
    "audit check-receipt",
    "audit keygen",
    "audit witness",
    "policy test",
    "policy explain",
    "policy bundle",
    "policy register",
    "policy dpia",
    "policy diff",
)


def command() -> TyperGroup:
    """The command tree, with ``--data-dir`` on every command that works on a gateway's data."""
    tree = typer.main.get_command(app)
    if not isinstance(tree, TyperGroup):  # pragma: no cover - the app has sub-commands
        raise TypeError("ppsgate's command tree is not a group")
    add_data_dir_option(tree, skip=NO_DATA_DIR)
    return tree


def main() -> None:
    """Run the CLI; turn expected errors into one line and exit code 1."""
    try:
        command()(standalone_mode=False)
    except GatewayError as exc:
        Console(stderr=True, soft_wrap=True).print(
            f"[bold red]error:[/] {exc.diagnostics()}", highlight=False
        )
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except (click.ClickException, typer.TyperException) as exc:
        # Usage errors (a bad option value, a missing argument) from either click or the
        # click that typer bundles: the parser's own one-line message, never a traceback.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        sys.exit(int(getattr(exc, "exit_code", 2)))
