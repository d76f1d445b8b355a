"""``submit``, ``match``, ``watch`` and ``alerts``: the connector's exchange with the gateway."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from connectors.canonical import DEFAULT_REGION
from connectors.cli.gateway_options import (
    ClientApi,
    ClientId,
    Connection,
    Epoch,
    GatewayUrl,
    KeystorePath,
    LegalBasis,
    OutFormat,
    OutPath,
    Passphrase,
    Purpose,
    Region,
    SaltFile,
    input_rows,
)
from connectors.errors import InputFileError
from connectors.workflows import operations
from connectors.workflows.operations import Summary
from connectors.workflows.outputs import ResultWriter, open_output, output_format

InputFile = Annotated[
    Path, typer.Argument(metavar="FILE", help="`hash` output, or raw with --salt-file.")
]
BatchSize = Annotated[int, typer.Option(min=1, max=10_000, help="Items per request.")]

watch_app = typer.Typer(
    help="Maintain your watch list (your own customers' tokens).", no_args_is_help=True
)


def _summary(console: Console, title: str, summary: Summary, seconds: float) -> None:
    table = Table(title=title, show_header=False)
    table.add_row("sent", str(summary.sent))
    for status, count in sorted(summary.statuses.items()):
        table.add_row(status, str(count))
    if summary.hits or title == "match":
        table.add_row("hits", str(summary.hits))
    for category, count in summary.categories.most_common():
        table.add_row(f"  category {category}", str(count))
    for sector, count in summary.sectors.most_common():
        table.add_row(f"  sector {sector}", str(count))
    for reason, count in summary.rejected.most_common():
        table.add_row(f"rejected: {reason}", str(count))
    rate = summary.sent / seconds if seconds > 0 else 0.0
    table.add_row("time", f"{seconds:.2f} s ({rate:,.0f} items/s)")
    console.print(table)


def _run(
    title: str,
    out: Path | None,
    fmt: str | None,
    leading: tuple[str, ...],
    action: Any,
) -> None:
    console = Console(stderr=True)
    chosen = output_format(out, fmt)
    if chosen not in {"jsonl", "csv"}:
        raise InputFileError(f"unknown output format {chosen!r}; use jsonl or csv")
    started = time.perf_counter()
    with open_output(out, sys.stdout) as handle:
        writer = ResultWriter(handle, chosen, leading)
        summary = action(writer.write_many)
    _summary(console, title, summary, time.perf_counter() - started)


def submit_command(
    file: InputFile,
    *,
    purpose: Purpose,
    legal_basis: LegalBasis,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
    category: Annotated[str | None, typer.Option(help="Default category (column wins).")] = None,
    role: Annotated[str, typer.Option(help="Default role: suspect, mule or victim.")] = "suspect",
    salt_file: SaltFile = None,
    epoch: Epoch = 1,
    region: Region = DEFAULT_REGION,
    out: OutPath = None,
    fmt: OutFormat = None,
    batch_size: BatchSize = 5_000,
) -> None:
    """Submit indicators; each row's status (accepted, duplicate, rejected) joins back."""
    console = Console(stderr=True)
    rows = input_rows(file, salt_file=salt_file, epoch=epoch, region=region, console=console)
    with Connection(gateway, client_id, keystore, passphrase).client() as client:
        api = ClientApi(client)
        _run(
            "submit",
            out,
            fmt,
            ("row", "type", "status"),
            lambda emit: operations.submit(
                api,
                rows,
                purpose=purpose,
                legal_basis=legal_basis,
                defaults={"category": category, "role": role},
                batch_size=batch_size,
                emit=emit,
            ),
        )


def match_command(
    file: InputFile,
    *,
    purpose: Purpose,
    legal_basis: LegalBasis,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
    salt_file: SaltFile = None,
    epoch: Epoch = 1,
    region: Region = DEFAULT_REGION,
    out: OutPath = None,
    fmt: OutFormat = None,
    batch_size: BatchSize = 1_000,
) -> None:
    """Screen rows; each result holds exactly what the policy let you learn."""
    console = Console(stderr=True)
    rows = input_rows(file, salt_file=salt_file, epoch=epoch, region=region, console=console)
    with Connection(gateway, client_id, keystore, passphrase).client() as client:
        api = ClientApi(client)
        _run(
            "match",
            out,
            fmt,
            ("row", "type", "hit"),
            lambda emit: operations.match(
                api,
                rows,
                purpose=purpose,
                legal_basis=legal_basis,
                batch_size=batch_size,
                emit=emit,
            ),
        )


@watch_app.command("add")
def watch_add_command(
    file: InputFile,
    *,
    purpose: Purpose,
    legal_basis: LegalBasis,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
    salt_file: SaltFile = None,
    epoch: Epoch = 1,
    region: Region = DEFAULT_REGION,
    out: Annotated[
        Path, typer.Option(help="Watch map: row -> watch_id (keep it for alerts).")
    ] = Path("watchlist.jsonl"),
    batch_size: BatchSize = 5_000,
) -> None:
    """Watch your own customers' identifiers; alerts come when others report them."""
    console = Console(stderr=True)
    rows = input_rows(file, salt_file=salt_file, epoch=epoch, region=region, console=console)
    with Connection(gateway, client_id, keystore, passphrase).client() as client:
        api = ClientApi(client)
        _run(
            "watch add",
            out,
            "jsonl",
            ("row",),
            lambda emit: operations.watch_add(
                api,
                rows,
                purpose=purpose,
                legal_basis=legal_basis,
                batch_size=batch_size,
                emit=emit,
            ),
        )


@watch_app.command("remove")
def watch_remove_command(
    watch_map: Annotated[Path, typer.Argument(help="Watch map written by `watch add`.")],
    *,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
) -> None:
    """Stop watching every entry listed in a watch map."""
    ids = sorted(_load_watch_map(watch_map))
    with Connection(gateway, client_id, keystore, passphrase).client() as client:
        removed = operations.watch_remove(ClientApi(client), ids, batch_size=5_000)
    Console(stderr=True).print(f"removed {removed} of {len(ids)} watch entries")


def _load_watch_map(path: Path) -> dict[int, dict[str, Any]]:
    entries: dict[int, dict[str, Any]] = {}
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("watch_id") is not None:
                    entries[int(record["watch_id"])] = {
                        k: v for k, v in record.items() if k not in {"watch_id", "status"}
                    }
    except OSError as exc:
        raise InputFileError(f"cannot read watch map {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}: not a watch map ({exc.msg})") from None
    return entries


def alerts_command(
    *,
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
    watch_map: Annotated[Path | None, typer.Option(help="Join alerts to your rows.")] = None,
    after: Annotated[
        int | None, typer.Option(min=0, help="Cursor (default: acknowledged).")
    ] = None,
    follow: Annotated[bool, typer.Option(help="Keep polling for new alerts.")] = False,
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between polls.")] = 5.0,
    ack: Annotated[bool, typer.Option(help="Acknowledge what was written.")] = True,
    out: OutPath = None,
    fmt: OutFormat = None,
) -> None:
    """Read alerts in order (at-least-once), joined to your watch map, and acknowledge them."""
    console = Console(stderr=True)
    joined = _load_watch_map(watch_map) if watch_map else {}
    chosen = output_format(out, fmt)
    total = 0
    with (
        Connection(gateway, client_id, keystore, passphrase).client() as client,
        open_output(out, sys.stdout) as handle,
    ):
        api = ClientApi(client)
        writer = ResultWriter(handle, chosen, ("cursor", "type", "watch_id"))
        cursor = after
        while True:
            records, cursor_next = operations.fetch_alerts(api, after=cursor, watch_map=joined)
            writer.write_many(records)
            handle.flush()
            total += len(records)
            if records and ack:
                api.call("POST", "/v1/alerts/ack", json={"cursor": cursor_next})
            cursor = cursor_next
            if not records and not follow:
                break
            if not records:
                time.sleep(interval)
    console.print(f"{total} alerts written; cursor {cursor}")
