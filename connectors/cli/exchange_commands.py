"""``submit``, ``match``, ``watch``, ``alerts`` and ``rehash``: the exchange with the gateway.

Raw input files are hashed on the fly with the type-key store's active epoch (``keys
fetch`` fills it) or, with ``--mode voprf``, by the pinned evaluators under the newest pinned
epoch; ``match`` during an overlap window asks under both epochs and merges the answers per
row; ``rehash`` re-submits the partner's indicators and watch list from its source files
under the new epoch after a rotation.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
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
    TypekeysPath,
    input_rows,
)
from connectors.cli.voprf_options import VoprfOptions, with_voprf_options
from connectors.errors import InputFileError, UsageError
from connectors.hashing import HmacTokeniserV1, Tokeniser
from connectors.interop.command import ExportFormat, write_export
from connectors.interop.tlp import DEFAULT_TLP
from connectors.typekeys import DEFAULT_TYPEKEYS, load_typekeys
from connectors.victims import load_victim_key, victim_reference
from connectors.workflows import operations
from connectors.workflows.operations import Summary
from connectors.workflows.outputs import ResultWriter, open_output, output_format
from connectors.workflows.rows import hash_on_the_fly, looks_hashed

InputFile = Annotated[
    Path, typer.Argument(metavar="FILE", help="`hash` output, or raw with --salt-file.")
]
BatchSize = Annotated[
    int,
    typer.Option(
        min=1,
        max=10_000,
        help="Items per request, at most 10,000 (the gateway's largest batch). Each item "
        "counts against the purpose's quota per client and partner and window: "
        "indicator_submission ships 100,000 per client an hour, ten full batches; past it "
        "the gateway answers 429 until the window ends (docs/policies.md, Quotas).",
    ),
]

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
    *,
    interop: Interop | None = None,
) -> None:
    console = Console(stderr=True)
    chosen = output_format(out, fmt)
    started = time.perf_counter()
    if chosen in INTEROP_FORMATS:
        if interop is None:
            raise InputFileError(f"--format {chosen} is for match and alerts results")
        records: list[dict[str, Any]] = []
        summary = action(records.extend)
        interop.write(records, ExportFormat(chosen), out)
    elif chosen in {"jsonl", "csv"}:
        with open_output(out, sys.stdout) as handle:
            writer = ResultWriter(handle, chosen, leading)
            summary = action(writer.write_many)
    else:
        known = ", ".join(["jsonl", "csv", *sorted(INTEROP_FORMATS)])
        raise InputFileError(f"unknown output format {chosen!r}; use one of {known}")
    _summary(console, title, summary, time.perf_counter() - started)


INTEROP_FORMATS = frozenset({"stix", "misp-feed", "xlsx"})


@dataclass(frozen=True, slots=True)
class Interop:
    """Where STIX/MISP/XLSX output goes and who signs it as author."""

    partner: str
    tlp: str
    org_uuid: str | None
    region: str

    def write(self, records: list[dict[str, Any]], fmt: ExportFormat, out: Path | None) -> None:
        write_export(
            records,
            fmt,
            out=out,
            partner=self.partner,
            tlp=self.tlp,
            org_uuid=self.org_uuid,
            region=self.region,
        )


PartnerName = Annotated[
    str,
    typer.Option(
        envvar="PPSGATE_CONNECTOR_PARTNER",
        help="Your organisation's name (STIX author, MISP Orgc).",
    ),
]
TlpLevel = Annotated[
    str, typer.Option(envvar="PPSGATE_CONNECTOR_TLP", help="TLP 2.0 level for STIX/MISP.")
]
OrgUuid = Annotated[str | None, typer.Option(help="Your organisation's uuid in MISP.")]


ROLE_HELP = (
    "Default role: suspect, mule, mule_witting, mule_unwitting, mule_recruited, "
    "takeover_victim or victim (a protected identifier)."
)


def _victims(path: Path | None, passphrase: str | None) -> Callable[[str], str] | None:
    """The victim-reference function of the key at ``path``, or None without one."""
    if path is None:
        return None
    key = load_victim_key(path, passphrase=passphrase)
    return lambda value: victim_reference(key, value)


@with_voprf_options()
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
    role: Annotated[str, typer.Option(help=ROLE_HELP)] = "suspect",
    evidence: Annotated[
        str | None, typer.Option(help="Default evidence level, e.g. police_report (column wins).")
    ] = None,
    victim_key: Annotated[
        Path | None,
        typer.Option(
            help="Victim key file: a victim column (your customer or case id) is sent only as "
            "a reference keyed with it, so the gateway counts distinct victims."
        ),
    ] = None,
    salt_file: SaltFile = None,
    epoch: Epoch = None,
    typekeys: TypekeysPath = DEFAULT_TYPEKEYS,
    region: Region = DEFAULT_REGION,
    out: OutPath = None,
    fmt: OutFormat = None,
    batch_size: BatchSize = 5_000,
    voprf: VoprfOptions,
) -> None:
    """Submit indicators; each row's status (accepted, duplicate, rejected) joins back."""
    console = Console(stderr=True)
    with (
        voprf.session(epoch=epoch, console=console, salt_file=salt_file) as v2,
        Connection(gateway, client_id, keystore, passphrase).client() as client,
    ):
        rows = input_rows(
            file,
            salt_file=salt_file,
            epoch=epoch,
            region=region,
            console=console,
            typekeys=typekeys,
            passphrase=passphrase,
            v2=v2,
            v2_chunk=voprf.chunk_rows,
        )
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
                defaults={"category": category, "role": role, "evidence": evidence},
                batch_size=batch_size,
                emit=emit,
                victims=_victims(victim_key, passphrase),
            ),
        )


@with_voprf_options()
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
    epoch: Epoch = None,
    typekeys: TypekeysPath = DEFAULT_TYPEKEYS,
    region: Region = DEFAULT_REGION,
    out: OutPath = None,
    fmt: OutFormat = None,
    batch_size: BatchSize = 1_000,
    partner: PartnerName = "",
    tlp: TlpLevel = DEFAULT_TLP.value,
    org_uuid: OrgUuid = None,
    voprf: VoprfOptions,
) -> None:
    """Screen rows; each result holds exactly what the policy let you learn.

    ``--format stix|misp-feed|xlsx`` writes the results for MISP, OpenCTI or analysts; the
    raw identifier is joined back from your own file when it is hashed on the fly.
    """
    console = Console(stderr=True)
    with (
        voprf.session(epoch=epoch, console=console, salt_file=salt_file) as v2,
        Connection(gateway, client_id, keystore, passphrase).client() as client,
        voprf.overlap(
            None if looks_hashed(file) else v2,  # hash output carries its own epochs
            epoch=epoch,
            console=console,
            listing=lambda: ClientApi(client).call("GET", "/v1/keys/epochs")["epochs"],
        ) as v2_also,
    ):
        rows = input_rows(
            file,
            salt_file=salt_file,
            epoch=epoch,
            region=region,
            console=console,
            typekeys=typekeys,
            passphrase=passphrase,
            overlap=True,
            v2=v2,
            v2_also=v2_also,
            v2_chunk=voprf.chunk_rows,
        )
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
            interop=Interop(partner, tlp, org_uuid, region),
        )


@watch_app.command("add")
@with_voprf_options()
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
    epoch: Epoch = None,
    typekeys: TypekeysPath = DEFAULT_TYPEKEYS,
    region: Region = DEFAULT_REGION,
    out: Annotated[
        Path, typer.Option(help="Watch map: row -> watch_id (keep it for alerts).")
    ] = Path("watchlist.jsonl"),
    batch_size: BatchSize = 5_000,
    voprf: VoprfOptions,
) -> None:
    """Watch your own customers' identifiers; alerts come when others report them."""
    console = Console(stderr=True)
    with (
        voprf.session(epoch=epoch, console=console, salt_file=salt_file) as v2,
        Connection(gateway, client_id, keystore, passphrase).client() as client,
    ):
        rows = input_rows(
            file,
            salt_file=salt_file,
            epoch=epoch,
            region=region,
            console=console,
            typekeys=typekeys,
            passphrase=passphrase,
            v2=v2,
            v2_chunk=voprf.chunk_rows,
        )
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
    partner: PartnerName = "",
    tlp: TlpLevel = DEFAULT_TLP.value,
    org_uuid: OrgUuid = None,
    region: Region = DEFAULT_REGION,
) -> None:
    """Read alerts in order (at-least-once), joined to your watch map, and acknowledge them.

    ``--format misp-feed`` appends each page to a MISP feed directory (``--follow`` keeps it
    growing); ``stix`` and ``xlsx`` write what is there now as one file.
    """
    console = Console(stderr=True)
    joined = _load_watch_map(watch_map) if watch_map else {}
    chosen = output_format(out, fmt)
    interop = Interop(partner, tlp, org_uuid, region)
    if chosen in {"stix", "xlsx"} and follow:
        raise InputFileError(f"--follow writes as alerts arrive; {chosen} is one file per run")
    total = 0
    collected: list[dict[str, Any]] = []
    with (
        Connection(gateway, client_id, keystore, passphrase).client() as client,
        open_output(None if chosen in INTEROP_FORMATS else out, sys.stdout) as handle,
    ):
        api = ClientApi(client)
        writer = ResultWriter(handle, chosen, ("cursor", "type", "watch_id"))
        cursor = after
        while True:
            records, cursor_next = operations.fetch_alerts(api, after=cursor, watch_map=joined)
            if chosen == "misp-feed":
                if records:
                    interop.write(records, ExportFormat.MISP_FEED, out)
            elif chosen in INTEROP_FORMATS:
                collected.extend(records)
            else:
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
    if chosen in {"stix", "xlsx"}:
        interop.write(collected, ExportFormat(chosen), out)
    console.print(f"{total} alerts written; cursor {cursor}")


@with_voprf_options()
def rehash_command(
    *,
    indicators: Annotated[
        Path | None,
        typer.Option(help="Source file of your active indicators (raw CSV/JSONL, as submitted)."),
    ] = None,
    watchlist: Annotated[
        Path | None, typer.Option(help="Source file of your watch list (raw CSV/JSONL).")
    ] = None,
    submit_legal_basis: Annotated[
        str | None, typer.Option(help="Legal basis of your indicator submissions.")
    ] = None,
    watch_legal_basis: Annotated[
        str | None, typer.Option(help="Legal basis of your watch list.")
    ] = None,
    submit_purpose: Annotated[str, typer.Option(help="Purpose of the submissions.")] = (
        "indicator_submission"
    ),
    watch_purpose: Annotated[str, typer.Option(help="Purpose of the watch list.")] = (
        "watchlist_alerts"
    ),
    gateway: GatewayUrl = "http://127.0.0.1:8000",
    client_id: ClientId = "",
    keystore: KeystorePath = Path("connector-keystore.json"),
    passphrase: Passphrase = None,
    typekeys: TypekeysPath = DEFAULT_TYPEKEYS,
    epoch: Epoch = None,
    region: Region = DEFAULT_REGION,
    category: Annotated[str | None, typer.Option(help="Default category (column wins).")] = None,
    role: Annotated[str, typer.Option(help=ROLE_HELP)] = "suspect",
    out: OutPath = None,
    watch_map: Annotated[
        Path, typer.Option(help="New watch map (row -> watch_id) under the new epoch.")
    ] = Path("watchlist.jsonl"),
    batch_size: BatchSize = 5_000,
    voprf: VoprfOptions,
) -> None:
    """After a rotation: re-submit your indicators and watch list under the new epoch.

    Run it during the overlap window, after `keys fetch` (v1) or once the re-published pins
    document names the new epoch (`--mode voprf`, spec v2: the newest pinned epoch unless
    `--epoch`); the old epoch's copies are purged by the gateway when the window ends.
    """
    console = Console(stderr=True)
    if indicators is None and watchlist is None:
        raise UsageError("give --indicators, --watchlist or both", field="indicators")
    for given, basis, name in (
        (indicators, submit_legal_basis, "submit-legal-basis"),
        (watchlist, watch_legal_basis, "watch-legal-basis"),
    ):
        if given is not None and not basis:
            raise UsageError("is needed for this file", field=name)
    with (
        voprf.session(epoch=epoch, console=console) as v2,
        Connection(gateway, client_id, keystore, passphrase).client() as client,
    ):
        tokeniser: Tokeniser
        if v2 is None:
            tokeniser = HmacTokeniserV1(
                load_typekeys(typekeys, passphrase=passphrase).pick(epoch).type_keys()
            )
        else:
            tokeniser = v2
        console.print(f"re-hashing under epoch {tokeniser.epoch}")
        chunk = voprf.chunk_rows if v2 is not None else 2_000
        api = ClientApi(client)
        if indicators is not None:
            rows = hash_on_the_fly(
                indicators, tokeniser, region=region or DEFAULT_REGION, chunk=chunk
            )
            _run(
                "rehash: indicators",
                out,
                fmt=None,
                leading=("row", "type", "status"),
                action=lambda emit: operations.submit(
                    api,
                    rows,
                    purpose=submit_purpose,
                    legal_basis=str(submit_legal_basis),
                    defaults={"category": category, "role": role},
                    batch_size=batch_size,
                    emit=emit,
                ),
            )
        if watchlist is not None:
            watched = hash_on_the_fly(
                watchlist, tokeniser, region=region or DEFAULT_REGION, chunk=chunk
            )
            _run(
                "rehash: watch list",
                watch_map,
                fmt="jsonl",
                leading=("row",),
                action=lambda emit: operations.watch_add(
                    api,
                    watched,
                    purpose=watch_purpose,
                    legal_basis=str(watch_legal_basis),
                    batch_size=batch_size,
                    emit=emit,
                ),
            )
