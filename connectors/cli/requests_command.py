"""``requests send|list|answer``: tracked requests to the reporters of a hit, and answers.

``send`` hashes the identifier here, with the type-key store's active epoch, so only the
token leaves; the gateway finds the reporters and never names them, nor the requester to
them. ``list`` prints what this partner sent (with the answers) and received (with its own
reports concerned); ``answer`` answers one received request before its deadline.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from connectors.canonical import DEFAULT_REGION, canonicalize, parse_kind
from connectors.cli.gateway_options import (
    ClientApi,
    ClientId,
    Connection,
    GatewayUrl,
    KeystorePath,
    LegalBasis,
    Passphrase,
    Purpose,
    Region,
    TypekeysPath,
)
from connectors.hashing import HmacTokeniserV1
from connectors.typekeys import DEFAULT_TYPEKEYS, load_typekeys

app = typer.Typer(
    help="Ask the reporters of a hit to act, and answer what you are asked.",
    no_args_is_help=True,
)

RequestType = Annotated[
    str, typer.Option("--type", help="halt_payment, recall_funds, confirm or share_details.")
]
Message = Annotated[
    str | None, typer.Option(help="Short note; must not hold an identifier (refused if it does).")
]


def _print(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


@app.command("send")
def send_command(
    value: Annotated[str, typer.Argument(help="The identifier the hit was about.")],
    *,
    kind: Annotated[str, typer.Option(help="Its type (iban, phone, url, ...).")],
    request_type: RequestType,
    purpose: Purpose,
    legal_basis: LegalBasis,
    message: Message = None,
    region: Region = DEFAULT_REGION,
    typekeys: TypekeysPath = DEFAULT_TYPEKEYS,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
) -> None:
    """Send a request about one identifier; prints its id, deadline and how many were asked."""
    resolved = parse_kind(kind)
    canonical = canonicalize(resolved, value, region=region)
    held = load_typekeys(typekeys, passphrase=passphrase).pick(None)
    tokeniser = HmacTokeniserV1(held.type_keys())
    body = {
        "purpose": purpose,
        "legal_basis": legal_basis,
        "kind": resolved.value,
        "epoch": tokeniser.epoch,
        "token": tokeniser.token(resolved, canonical),
        "type": request_type,
        **({"message": message} if message else {}),
    }
    with Connection(gateway, client_id, keystore, passphrase).client() as client:
        _print(ClientApi(client).call("POST", "/v1/requests", json=body))


@app.command("list")
def list_command(
    *,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
) -> None:
    """Print the requests you sent (with answers) and received (with your reports concerned)."""
    with Connection(gateway, client_id, keystore, passphrase).client() as client:
        _print(ClientApi(client).call("GET", "/v1/requests"))


@app.command("answer")
def answer_command(
    request_id: Annotated[str, typer.Argument(help="The id shown by `requests list`.")],
    *,
    answer: Annotated[str, typer.Option(help="done, not_possible or declined.")],
    purpose: Purpose,
    legal_basis: LegalBasis,
    message: Message = None,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
) -> None:
    """Answer a request addressed to you, before its deadline."""
    body = {
        "purpose": purpose,
        "legal_basis": legal_basis,
        "answer": answer,
        **({"message": message} if message else {}),
    }
    with Connection(gateway, client_id, keystore, passphrase).client() as client:
        _print(ClientApi(client).call("POST", f"/v1/requests/{request_id}/answer", json=body))
