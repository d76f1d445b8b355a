"""``ppsgate-connector custodian``: the key custodian's commands.

The custodian runs a connector installation of its own (``keys init``; the gateway operator
registers it with the scope ``keys:custody``) plus a custodian state file holding its
Ed25519 signing key, the recipients it has pinned and its sealed copies of each epoch's
master salt. ``init`` creates the state and registers the public key at the gateway, and
prints it: the partnership publishes it and every partner pins it (``keys fetch
--custodian-key``). ``new-epoch`` makes and uploads the next epoch, ``issue`` seals an
existing epoch for partners that joined later, ``activate`` and ``retire`` move epochs on.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from connectors.cli.gateway_options import ClientApi, ClientId, GatewayUrl, KeystorePath, Passphrase
from connectors.client import GatewayClient
from connectors.custodian import epochs as custody
from connectors.custodian.state import CustodianState, load_state, save_state
from connectors.errors import UsageError
from connectors.keystore import ConnectorKeys, load_keystore

app = typer.Typer(
    help="Key custody: salt epochs, sealed envelopes, rotation.", no_args_is_help=True
)
err = Console(stderr=True, highlight=False, soft_wrap=True)

StatePath = Annotated[
    Path,
    typer.Option(
        "--state",
        envvar="PPSGATE_CUSTODIAN_STATE",
        help="Custodian state file (signing key, pins, sealed salts); mode 0600.",
    ),
]
DEFAULT_STATE = Path("custodian-state.json")
PinNew = Annotated[
    bool,
    typer.Option(
        "--pin-new/--no-pin-new",
        help="Trust recipients not pinned yet (prints their thumbprints: check them with each "
        "partner). Without it, unpinned recipients are skipped; changed keys always are.",
    ),
]


class _Session:
    """The custodian's key store, state and gateway client for one command."""

    def __init__(
        self, gateway: str, client_id: str, keystore: Path, state: Path, passphrase: str | None
    ) -> None:
        self.passphrase = passphrase
        self.path = state
        self.keys: ConnectorKeys = load_keystore(keystore, passphrase=passphrase)
        self.state: CustodianState = load_state(state, passphrase=passphrase)
        if client_id and client_id != self.state.client_id:
            raise UsageError(
                f"the state belongs to client {self.state.client_id!r}", field="client-id"
            )
        self.client = GatewayClient(gateway, self.state.client_id, self.keys)
        self.api = ClientApi(self.client)

    def save(self, state: CustodianState) -> None:
        save_state(self.path, state, passphrase=self.passphrase)

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.client.close()


def _report(report: custody.IssueReport) -> None:
    table = Table(title=f"epoch {report.epoch}")
    for column in ("client", "partner", "kinds sealed"):
        table.add_column(column)
    for client_id, partner_id, kinds in report.sealed:
        table.add_row(client_id, partner_id, ", ".join(kinds))
    err.print(table)
    for client_id, thumbprint in report.pinned:
        err.print(f"pinned {client_id}: X25519 thumbprint {thumbprint} (confirm with the partner)")
    for client_id, reason in report.skipped:
        err.print(f"[yellow]no envelope[/] for {client_id}: {reason}", markup=True)


def _state_line(answer: dict[str, Any]) -> None:
    epoch = answer.get("epoch", {})
    line = f"epoch {epoch.get('epoch')}: {epoch.get('state')}"
    if answer.get("retired"):
        line += f"; retired {', '.join(map(str, answer['retired']))}"
    if answer.get("purged"):
        line += "; purged " + ", ".join(f"{k} {v}" for k, v in sorted(answer["purged"].items()))
    err.print(line)


@app.command("init")
def init(
    *,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
    state: StatePath = DEFAULT_STATE,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing state file.")] = False,
) -> None:
    """Create the custodian's signing key, register it at the gateway, print it for pinning."""
    if not client_id:
        raise UsageError("the custodian's client id is needed", field="client-id")
    keys = load_keystore(keystore, passphrase=passphrase)
    fresh = CustodianState.generate(client_id)
    save_state(state, fresh, passphrase=passphrase, overwrite=force)
    with GatewayClient(gateway, client_id, keys) as client:
        answer = custody.register(ClientApi(client), fresh)
    err.print(f"custodian key {answer['key_id'][:16]}… registered; state written to {state}")
    err.print("publish this public key to every partner (they pin it with keys fetch):")
    sys.stdout.write(fresh.key_text + "\n")


@app.command("pin")
def pin(
    client: Annotated[str, typer.Argument(help="The recipient client id.")],
    thumbprint: Annotated[
        str, typer.Argument(help="Its X25519 key thumbprint, as the partner confirmed it.")
    ],
    *,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
    state: StatePath = DEFAULT_STATE,
) -> None:
    """Trust a recipient's envelope key after confirming its thumbprint out of band."""
    with _Session(gateway, client_id, keystore, state, passphrase) as session:
        listing = session.api.call("GET", "/v1/keys/recipients")["recipients"]
        found = [r for r in listing if r["client_id"] == client]
        if not found:
            raise UsageError("is not an eligible recipient at the gateway now", field="client")
        if custody.thumbprint(found[0]["encryption_jwk"]) != thumbprint:
            raise UsageError(
                "does not match the key the gateway lists for this client; do not pin it",
                field="thumbprint",
            )
        custody.pin_recipient(session.state, found[0])
        session.save(session.state)
    err.print(f"pinned {client}")


@app.command("new-epoch")
def new_epoch(
    *,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
    state: StatePath = DEFAULT_STATE,
    pin_new: PinNew = False,
) -> None:
    """Make the next epoch's salt, seal each recipient's keys, upload (state: pending)."""
    with _Session(gateway, client_id, keystore, state, passphrase) as session:
        report = custody.new_epoch(
            session.api, session.state, session.keys, pin_new=pin_new, save=session.save
        )
        session.save(session.state)
    _report(report)
    err.print(f"epoch {report.epoch} uploaded (pending); activate it with `custodian activate`")


@app.command("issue")
def issue(
    *,
    epoch: Annotated[int, typer.Option(min=1, help="The epoch to issue envelopes for.")],
    client: Annotated[
        list[str] | None, typer.Option("--client", help="Only these clients (repeatable).")
    ] = None,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
    state: StatePath = DEFAULT_STATE,
    pin_new: PinNew = False,
) -> None:
    """Seal an existing epoch's keys for clients without an envelope (joined, new key)."""
    with _Session(gateway, client_id, keystore, state, passphrase) as session:
        report = custody.issue(
            session.api,
            session.state,
            session.keys,
            epoch=epoch,
            clients=client or (),
            pin_new=pin_new,
            save=session.save,
        )
    _report(report)


@app.command("activate")
def activate(
    epoch: Annotated[int, typer.Argument(min=1, help="The pending epoch to activate.")],
    *,
    overlap_days: Annotated[
        int | None,
        typer.Option(
            min=0, max=365, help="Days the previous epoch stays valid (default: the gateway's)."
        ),
    ] = None,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
    state: StatePath = DEFAULT_STATE,
) -> None:
    """Make a pending epoch active; the previous one enters its overlap window."""
    with _Session(gateway, client_id, keystore, state, passphrase) as session:
        _state_line(custody.activate(session.api, epoch, overlap_days=overlap_days))


@app.command("retire")
def retire(
    epoch: Annotated[int, typer.Argument(min=1, help="A retiring (or pending) epoch.")],
    *,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
    state: StatePath = DEFAULT_STATE,
) -> None:
    """End an overlap window now (its data are purged at the gateway) or cancel an epoch."""
    with _Session(gateway, client_id, keystore, state, passphrase) as session:
        _state_line(custody.retire(session.api, epoch))
        session.state.salts.pop(epoch, None)  # a retired epoch's salt is of no further use
        session.save(session.state)


@app.command("status")
def status(
    *,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
    state: StatePath = DEFAULT_STATE,
) -> None:
    """List the gateway's epochs and what this custodian holds for each."""
    with _Session(gateway, client_id, keystore, state, passphrase) as session:
        listed = session.api.call("GET", "/v1/keys/epochs")["epochs"]
        held = session.state
    table = Table(title=f"custodian key {held.key_id[:16]}…")
    for column in ("epoch", "state", "overlap ends", "sealed salt", "envelopes issued"):
        table.add_column(column)
    for item in listed:
        number = int(item["epoch"])
        table.add_row(
            str(number),
            str(item["state"]),
            str(item.get("overlap_ends_at") or ""),
            "yes" if number in held.salts else "no",
            str(len(held.issued.get(number, {}))),
        )
    Console().print(table)
