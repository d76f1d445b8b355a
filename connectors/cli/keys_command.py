"""``ppsgate-connector keys``: the key store, its public keys, and fetching type keys.

``keys init`` writes the key store (mode 0600, by default encrypted with a passphrase) and
prints the public JWK set on standard output — send that file to the gateway operator, who
registers it with ``ppsgate partner add-client --jwk``. Messages go to standard error, so
``ppsgate-connector keys init > client.jwks.json`` captures exactly what to send.

``keys fetch`` downloads the client's sealed envelopes, checks them against the custodian key
the partner pinned (``--custodian-key`` the first time), opens them and stores the type keys
in the type-key store that ``hash``, ``submit``, ``match`` and ``watch`` read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from connectors.cli.gateway_options import ClientApi
from connectors.client import GatewayClient
from connectors.custodian.fetch import fetch_keys, pin_custodian
from connectors.errors import UsageError
from connectors.keystore import ConnectorKeys, is_encrypted, load_keystore, save_keystore
from connectors.typekeys import DEFAULT_TYPEKEYS, load_typekeys, save_typekeys
from connectors.victims import DEFAULT_VICTIM_KEY, create_victim_key

app = typer.Typer(
    help="The connector's key store (client-authentication and envelope keys).",
    no_args_is_help=True,
)
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
        value = typer.prompt(
            "key store passphrase", hide_input=True, confirmation_prompt=confirm, err=True
        )
    if not value:
        raise UsageError("must not be empty", field="passphrase")
    return value


def _print_public(keys: ConnectorKeys) -> None:
    sys.stdout.write(json.dumps(keys.public_jwks(), indent=2, sort_keys=True) + "\n")


@app.command("init")
def init(
    keystore: KeystoreOption = DEFAULT_KEYSTORE,
    passphrase: Annotated[
        bool,
        typer.Option(
            "--passphrase/--no-passphrase",
            help="Encrypt the key store with a passphrase (Argon2id + secretbox).",
        ),
    ] = True,
    passphrase_stdin: StdinOption = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing key store (its keys are lost).")
    ] = False,
) -> None:
    """Create the ES256 signing key and X25519 envelope key; print the public JWK set."""
    secret = _passphrase(from_stdin=passphrase_stdin, confirm=True) if passphrase else None
    keys = ConnectorKeys.generate()
    save_keystore(keystore, keys, passphrase=secret, overwrite=force)
    err.print(
        f"key store written to {keystore} (mode 0600"
        + (", encrypted)" if secret else ", NOT encrypted)")
    )
    err.print(
        f"signing key id {keys.key_id}; register the public keys below with the "
        "gateway operator (ppsgate partner add-client --jwk FILE)"
    )
    _print_public(keys)


@app.command("victim-key")
def victim_key(
    path: Annotated[Path, typer.Argument(help="Where to write the victim key.")] = (
        DEFAULT_VICTIM_KEY
    ),
    passphrase: Annotated[
        bool,
        typer.Option("--passphrase/--no-passphrase", help="Encrypt the file with a passphrase."),
    ] = True,
    passphrase_stdin: StdinOption = False,
) -> None:
    """Create the partner's victim key (never replaced): victim references count victims.

    One key for all of a partner's connector installations: copy the file, never make a
    second one, or one customer reported from two installations counts as two victims.
    """
    secret = _passphrase(from_stdin=passphrase_stdin, confirm=True) if passphrase else None
    create_victim_key(path, passphrase=secret)
    err.print(
        f"victim key written to {path} (mode 0600"
        + (", encrypted)" if secret else ", NOT encrypted)")
        + "; back it up: a new key makes every victim count again"
    )


@app.command("show")
def show(
    keystore: KeystoreOption = DEFAULT_KEYSTORE, passphrase_stdin: StdinOption = False
) -> None:
    """Print the public JWK set of an existing key store."""
    secret = (
        _passphrase(from_stdin=passphrase_stdin, confirm=False) if is_encrypted(keystore) else None
    )
    _print_public(load_keystore(keystore, passphrase=secret))


@app.command("fetch")
def fetch(
    *,
    gateway: Annotated[
        str, typer.Option("--gateway", envvar="PPSGATE_CONNECTOR_GATEWAY", help="Gateway base URL.")
    ] = "http://127.0.0.1:8000",
    client_id: Annotated[
        str,
        typer.Option("--client-id", envvar="PPSGATE_CONNECTOR_CLIENT_ID", help="OAuth client id."),
    ] = "",
    keystore: KeystoreOption = DEFAULT_KEYSTORE,
    typekeys: Annotated[
        Path,
        typer.Option(
            "--typekeys",
            envvar="PPSGATE_CONNECTOR_TYPEKEYS",
            help="Type-key store to fill (created with mode 0600).",
        ),
    ] = DEFAULT_TYPEKEYS,
    passphrase: Annotated[
        str | None,
        typer.Option(
            "--passphrase",
            envvar="PPSGATE_CONNECTOR_PASSPHRASE",
            hidden=True,
            help="Key store passphrase; also encrypts the type-key store.",
        ),
    ] = None,
    passphrase_stdin: StdinOption = False,
    custodian_key: Annotated[
        str | None,
        typer.Option(
            "--custodian-key",
            envvar="PPSGATE_CONNECTOR_CUSTODIAN_KEY",
            help="The custodian's public key (ed25519:..., published by the partnership); "
            "needed once, then pinned in the type-key store.",
        ),
    ] = None,
    replace_custodian_key: Annotated[
        bool,
        typer.Option(
            "--replace-custodian-key",
            help="Pin a different custodian key than the one pinned before (after the "
            "partnership announced a new custodian).",
        ),
    ] = False,
    epoch: Annotated[
        list[int] | None,
        typer.Option("--epoch", min=1, help="Fetch only this epoch (repeatable)."),
    ] = None,
) -> None:
    """Download this client's sealed envelopes, check and open them, store the type keys."""
    secret = passphrase
    if secret is None and (passphrase_stdin or is_encrypted(keystore)):
        secret = _passphrase(from_stdin=passphrase_stdin, confirm=False)
    keys = load_keystore(keystore, passphrase=secret)
    store = load_typekeys(typekeys, passphrase=secret, missing_ok=True)
    pinned = pin_custodian(store, custodian_key, replace=replace_custodian_key)
    with GatewayClient(gateway, client_id, keys) as client:
        report = fetch_keys(
            ClientApi(client),
            store,
            keys=keys,
            client_id=client_id,
            custodian_key=pinned,
            epochs=tuple(epoch or ()),
        )
    save_typekeys(typekeys, store, passphrase=secret)
    for number, kinds in report.fetched:
        err.print(f"epoch {number}: stored keys for {', '.join(kinds)}")
    for number in report.missing:
        err.print(
            f"epoch {number} ({report.states[number]}): no envelope for this client; ask the "
            "key custodian to issue one (`ppsgate-connector custodian issue`)"
        )
    for number in report.dropped:
        err.print(f"epoch {number}: retired, its keys were deleted from the store")
    usable = store.usable()
    summary = ", ".join(f"{held.epoch} ({held.state})" for held in usable) or "none"
    err.print(f"usable epochs in {typekeys}: {summary}")
