"""``ppsgate-connector keys``: create the connector's key store and show its public keys.

``keys init`` writes the key store (mode 0600, by default encrypted with a passphrase) and
prints the public JWK set on standard output — send that file to the gateway operator, who
registers it with ``ppsgate partner add-client --jwk``. Messages go to standard error, so
``ppsgate-connector keys init > client.jwks.json`` captures exactly what to send.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from connectors.errors import UsageError
from connectors.keystore import ConnectorKeys, is_encrypted, load_keystore, save_keystore

app = typer.Typer(help="The connector's key store (client-authentication and envelope keys).",
                  no_args_is_help=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


KeystoreOption = Annotated[
    Path,
    typer.Option(
        "--keystore",
        envvar="PPSGATE_CONNECTOR_KEYSTORE",
        help="Key store file (the other connector commands read the same option).",
    ),
]
DEFAULT_KEYSTORE = Path("connector-keystore.json")
StdinOption = Annotated[
    bool,
    typer.Option("--passphrase-stdin", help="Read the passphrase from standard input."),
]


def _passphrase(*, from_stdin: bool, confirm: bool) -> str:
    if from_stdin:
        value = sys.stdin.readline().rstrip("\n")
    else:
        value = typer.prompt("key store passphrase", hide_input=True,
                             confirmation_prompt=confirm, err=True)
    if not value:
        raise UsageError("must not be empty", field="passphrase")
    return value


def _print_public(keys: ConnectorKeys) -> None:
    sys.stdout.write(json.dumps(keys.public_jwks(), indent=2, sort_keys=True) + "\n")


@app.command("init")
def init(
    keystore: KeystoreOption = DEFAULT_KEYSTORE,
    passphrase: Annotated[bool, typer.Option("--passphrase/--no-passphrase",
                                             help="Encrypt the key store with a passphrase "
                                             "(Argon2id + secretbox).")] = True,
    passphrase_stdin: StdinOption = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key store "
                                        "(its keys are lost).")] = False,
) -> None:
    """Create the ES256 signing key and X25519 envelope key; print the public JWK set."""
    secret = _passphrase(from_stdin=passphrase_stdin, confirm=True) if passphrase else None
    keys = ConnectorKeys.generate()
    save_keystore(keystore, keys, passphrase=secret, overwrite=force)
    err.print(f"key store written to {keystore} (mode 0600"
              + (", encrypted)" if secret else ", NOT encrypted)"))
    err.print(f"signing key id {keys.key_id}; register the public keys below with the "
              "gateway operator (ppsgate partner add-client --jwk FILE)")
    _print_public(keys)


@app.command("show")
def show(
    keystore: KeystoreOption = DEFAULT_KEYSTORE, passphrase_stdin: StdinOption = False
) -> None:
    """Print the public JWK set of an existing key store."""
    secret = (
        _passphrase(from_stdin=passphrase_stdin, confirm=False) if is_encrypted(keystore) else None
    )
    _print_public(load_keystore(keystore, passphrase=secret))
