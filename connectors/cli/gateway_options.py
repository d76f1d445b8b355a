"""Options shared by the commands that talk to the gateway, and building their client."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from connectors.canonical import DEFAULT_REGION
from connectors.cli.hash_command import load_salt_file
from connectors.client import GatewayClient
from connectors.hashing import HmacTokeniserV1, TypeKeys
from connectors.keystore import load_keystore
from connectors.workflows.rows import HashedRow, RejectedRow, hash_on_the_fly, read_hashed

GatewayUrl = Annotated[
    str,
    typer.Option("--gateway", envvar="PPSGATE_CONNECTOR_GATEWAY", help="Gateway base URL."),
]
ClientId = Annotated[
    str,
    typer.Option(
        "--client-id",
        envvar="PPSGATE_CONNECTOR_CLIENT_ID",
        help="OAuth client id registered for this connector.",
    ),
]
KeystorePath = Annotated[
    Path,
    typer.Option(
        "--keystore", envvar="PPSGATE_CONNECTOR_KEYSTORE", help="Key store made by `keys init`."
    ),
]
Passphrase = Annotated[
    str | None,
    typer.Option(
        "--passphrase",
        envvar="PPSGATE_CONNECTOR_PASSPHRASE",
        hidden=True,
        help="Key store passphrase (prefer the environment variable).",
    ),
]
SaltFile = Annotated[
    Path | None,
    typer.Option(help="Hash a raw CSV/JSONL on the fly with this master-salt file."),
]
Epoch = Annotated[int, typer.Option(min=1, help="Salt epoch when hashing on the fly.")]
Region = Annotated[str, typer.Option(help="Default region for national phone numbers.")]
Purpose = Annotated[str, typer.Option(help="Registered purpose of this processing.")]
LegalBasis = Annotated[str, typer.Option("--legal-basis", help="Legal basis you rely on.")]
OutPath = Annotated[Path | None, typer.Option(help="Results file (.jsonl or .csv).")]
OutFormat = Annotated[
    str | None, typer.Option("--format", help="jsonl or csv (default: from --out's suffix).")
]


@dataclass(frozen=True, slots=True)
class Connection:
    gateway: str
    client_id: str
    keystore: Path
    passphrase: str | None

    def client(self) -> GatewayClient:
        keys = load_keystore(self.keystore, passphrase=self.passphrase)
        return GatewayClient(self.gateway, self.client_id, keys)


class ClientApi:
    """Adapts :class:`GatewayClient` to the workflows' ``GatewayApi`` protocol."""

    def __init__(self, client: GatewayClient) -> None:
        self._client = client

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        return self._client.request(
            method, path, json=json, params=params, idempotency_key=idempotency_key
        ).json()


def input_rows(
    path: Path, *, salt_file: Path | None, epoch: int, region: str, console: Console
) -> Any:
    """The rows to send: the ``hash`` output as is, or a raw file hashed on the fly."""
    if salt_file is None:
        return read_hashed(path)
    keys = TypeKeys.from_master_salt(load_salt_file(salt_file, console), epoch=epoch)
    return hash_on_the_fly(path, HmacTokeniserV1(keys), region=region or DEFAULT_REGION)


__all__ = ["HashedRow", "RejectedRow"]
