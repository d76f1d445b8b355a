"""What the demo prints after its story: how to sign in and what to try next.

Each line that a newcomer may paste (a URL, a command) is printed on a line of its own and
never wrapped, so pasting it works. The passwords and TOTP secrets are the demo's throwaway
accounts, printed because the demo is a local trial on loopback; the banner says so.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from gateway.demo.accounts import DemoAccount
from gateway.demo.cast import HONEST_IBAN, SELLER_IBAN
from gateway.demo.setup import DemoClient

TRY_PARTNER = "bank-b"
TRY_PURPOSE = ("payment_screening", "art6_1_c")


@dataclass(frozen=True, slots=True)
class NextSteps:
    url: str
    accounts: list[DemoAccount]
    clients: list[DemoClient]
    connector_command: list[str]


def _tool(name: str) -> str:
    """The command beside this interpreter (the virtualenv's), else the bare name."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


def connector_command(url: str, client: DemoClient) -> list[str]:
    """A screening call by bank-b for two payees: the demo's fraudster and an honest one."""
    payees = client.keystore.with_name("payees.csv")
    payees.write_text(f"value,payee\n{SELLER_IBAN},web shop order\n{HONEST_IBAN},rent\n")
    purpose, legal_basis = TRY_PURPOSE
    return [
        _tool("ppsgate-connector"),
        "match",
        str(payees),
        "--gateway",
        url,
        "--client-id",
        client.client_id,
        "--keystore",
        str(client.keystore),
        "--typekeys",
        str(client.keystore.with_name("typekeys.json")),
        "--purpose",
        purpose,
        "--legal-basis",
        legal_basis,
    ]


def build(url: str, accounts: list[DemoAccount], clients: Iterable[DemoClient]) -> NextSteps:
    listed = sorted(clients, key=lambda client: client.partner_id)
    trying = next(client for client in listed if client.partner_id == TRY_PARTNER)
    return NextSteps(url, accounts, listed, connector_command(url, trying))


def show(console: Console, steps: NextSteps) -> None:
    def line(text: str = "") -> None:
        console.print(text, soft_wrap=True, highlight=False, markup=False)

    line()
    console.print("[bold]Next steps[/]")
    line(f"Console: {steps.url}/console   (API docs: {steps.url}/docs)")
    line()
    console.print(
        "[bold red]DEMO ONLY[/] - throwaway console accounts of this demo run. Real "
        "accounts are made with `ppsgate user add`, and their secrets are never printed "
        "or shared like this.",
        soft_wrap=True,
    )
    for account in steps.accounts:
        user = account.user
        line(f"  {user.username}  ({user.role.value}, {user.partner_id}): {user.sees}")
        line(f"    user name:   {user.username}")
        line(f"    password:    {account.password}")
        line(f"    TOTP secret: {account.totp_secret}")
        line(f"    code now:    {_totp_command(account.totp_secret)}")
    line("Sign-in asks for the 6-digit code of the TOTP secret: from an authenticator app")
    line("holding the secret, or from the command after 'code now' (each code works once).")
    line()
    line("Connector clients (private_key_jwt; key stores and type keys in the data directory):")
    for client in steps.clients:
        line(f"  {client.partner_id}: client id {client.client_id}")
        line(f"    key store: {client.keystore}")
        line(f"    type keys: {client.keystore.with_name('typekeys.json')}")
    line()
    line(f"Try the connector: {TRY_PARTNER} screens two payees (one is the demo's fraudster):")
    line(f"  {shlex.join(steps.connector_command)}")


def _totp_command(secret: str) -> str:
    code = f'import pyotp; print(pyotp.TOTP("{secret}").now())'
    return shlex.join([sys.executable, "-c", code])
