"""Options shared by the commands that talk to the gateway, and building their client."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from connectors.canonical import DEFAULT_REGION
from connectors.cli.connection_options import ClientId, GatewayUrl, KeystorePath, Passphrase
from connectors.cli.hash_command import load_salt_file
from connectors.client import GatewayClient
from connectors.hashing import HmacTokeniserV1, Tokeniser, TypeKeys
from connectors.keystore import load_keystore
from connectors.typekeys import DEFAULT_TYPEKEYS, load_typekeys
from connectors.workflows.rows import (
    HashedRow,
    RejectedRow,
    check_input_file,
    hash_on_the_fly,
    looks_hashed,
    read_hashed,
)

SaltFile = Annotated[
    Path | None,
    typer.Option(help="Hash a raw CSV/JSONL on the fly with this master-salt file."),
]
Epoch = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Salt epoch when hashing on the fly (default: the type-key store's active epoch; "
        "with --salt-file: 1; with --mode voprf: the newest epoch pinned for every evaluator). "
        "match: a given epoch is asked alone, also during an overlap window.",
    ),
]
TypekeysPath = Annotated[
    Path,
    typer.Option(
        "--typekeys",
        envvar="PPSGATE_CONNECTOR_TYPEKEYS",
        help="Type-key store filled by `ppsgate-connector keys fetch`.",
    ),
]
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
    path: Path,
    *,
    salt_file: Path | None,
    epoch: int | None,
    region: str,
    console: Console,
    typekeys: Path = DEFAULT_TYPEKEYS,
    passphrase: str | None = None,
    overlap: bool = False,
    v2: Tokeniser | None = None,
    v2_also: tuple[Tokeniser, ...] = (),
    v2_chunk: int = 2_000,
) -> Any:
    """The rows to send: the ``hash`` output as is, or a raw file hashed on the fly.

    Raw files are hashed with the type-key store's active epoch (or ``epoch``); with
    ``overlap`` (matches) also with every retiring epoch still in its overlap window, so a
    report made under either epoch is found. ``--salt-file`` remains for tests and
    migration. With ``v2`` (``--mode voprf``) raw files are tokenised by the evaluators,
    ``v2_chunk`` rows per call so every in-flight evaluator batch is filled, and also under
    the epochs of ``v2_also`` (a match during an overlap window); ``hash`` output is read as
    it is, each row with the spec it names.
    """
    region = region or DEFAULT_REGION
    check_input_file(path)  # a broken file fails before the first request, never halfway
    if salt_file is not None:
        master_salt = load_salt_file(salt_file, console)
        keys = TypeKeys.from_master_salt(master_salt, epoch=1 if epoch is None else epoch)
        return hash_on_the_fly(path, HmacTokeniserV1(keys), region=region)
    if looks_hashed(path):
        return read_hashed(path)
    if v2 is not None:
        return hash_on_the_fly(path, v2, region=region, chunk=v2_chunk, also=v2_also)
    store = load_typekeys(typekeys, passphrase=passphrase)
    main = store.pick(epoch)
    also: tuple[HmacTokeniserV1, ...] = ()
    if overlap and epoch is None:
        also = tuple(
            HmacTokeniserV1(held.type_keys()) for held in store.usable() if held.epoch != main.epoch
        )
        if also:
            epochs = ", ".join(str(t.epoch) for t in also)
            console.print(f"overlap window: asking under epoch {main.epoch} and {epochs}")
    return hash_on_the_fly(path, HmacTokeniserV1(main.type_keys()), region=region, also=also)


__all__ = [
    "ClientId",
    "GatewayUrl",
    "HashedRow",
    "KeystorePath",
    "Passphrase",
    "RejectedRow",
]
