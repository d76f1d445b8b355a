"""``ppsgate user``: console accounts (privacy officers, help desk, partnership DPO, admin).

The password is typed twice at a hidden prompt (or read from standard input for scripts),
never passed as an argument, so it stays out of shell history and process lists. The TOTP
enrolment URI is printed once, for the person to scan into an authenticator app.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from gateway.auth.console_users import ConsoleAccounts
from gateway.cli.partner import registry_context
from gateway.clock import SystemClock
from gateway.errors import InvalidRequestError

app = typer.Typer(help="Console user accounts.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


@app.command("add")
def add(
    username: Annotated[str, typer.Option(help="Login name (not an e-mail address).")],
    role: Annotated[str, typer.Option(help="privacy_officer, helpdesk, partnership_dpo or admin.")],
    partner_id: Annotated[
        str, typer.Option("--partner", help="The user's organisation (a partner id).")
    ],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from the first line of standard input."
        ),
    ] = False,
) -> None:
    """Create a console user with an Argon2id password and a TOTP second factor."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise InvalidRequestError("must not be empty", field="password")
    with registry_context() as (registry, settings):
        accounts = ConsoleAccounts(
            registry.session,
            registry.audit,
            settings,
            clock=SystemClock(),
            request_id=registry.actor.request_id,
        )
        created = accounts.add_user(
            username=username, role=role, partner_id=partner_id, password=password
        )
    out.print(f"user {created.username} ({created.role}, {created.partner_id}) created")
    out.print("enrol this TOTP secret in the user's authenticator app (shown only now):")
    out.print(created.provisioning_uri, soft_wrap=True)


@app.command("disable")
def disable(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Disable a console user and end their sessions."""
    with registry_context() as (registry, settings):
        ConsoleAccounts(
            registry.session,
            registry.audit,
            settings,
            clock=SystemClock(),
            request_id=registry.actor.request_id,
        ).disable_user(username)
    out.print(f"user {username} disabled")
