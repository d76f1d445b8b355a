"""``ppsgate-connector export``: turn a ``match`` or ``alerts`` results file into STIX, a MISP
feed, CSV or XLSX, on the partner's machine, without contacting the gateway."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from connectors.canonical import DEFAULT_REGION
from connectors.errors import InputFileError, UsageError
from connectors.interop.misp import write_misp_feed
from connectors.interop.stix import write_stix_bundle
from connectors.interop.tabular import write_csv, write_xlsx
from connectors.interop.tlp import DEFAULT_TLP


class ExportFormat(StrEnum):
    STIX = "stix"
    MISP_FEED = "misp-feed"
    CSV = "csv"
    XLSX = "xlsx"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines results file (blank lines skipped)."""
    records: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputFileError(f"line {number} is not JSON ({exc.msg})") from None
                if not isinstance(record, dict):
                    raise InputFileError(f"line {number} is not a JSON object")
                records.append(record)
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{path} is not UTF-8 text") from None
    return records


def export_command(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="`match` or `alerts` results (.jsonl)."),
    ],
    *,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="stix, misp-feed, csv or xlsx.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Output (misp-feed: a directory); stix and csv: stdout if left out."),
    ] = None,
    partner: Annotated[
        str,
        typer.Option(
            envvar="PPSGATE_CONNECTOR_PARTNER",
            help="Your organisation's name: STIX author, MISP Orgc.",
        ),
    ] = "",
    tlp: Annotated[
        str,
        typer.Option(envvar="PPSGATE_CONNECTOR_TLP", help="TLP 2.0 level for STIX/MISP."),
    ] = DEFAULT_TLP.value,
    org_uuid: Annotated[
        str | None, typer.Option(help="Your organisation's uuid in MISP (misp-feed).")
    ] = None,
    region: Annotated[str, typer.Option(help="Default region for national phone numbers.")] = (
        DEFAULT_REGION
    ),
    hits_only: Annotated[bool, typer.Option(help="csv/xlsx: leave out misses.")] = False,
) -> None:
    """Export results for MISP, OpenCTI or analysts; raw identifiers stay on this machine."""
    records = read_jsonl(file)
    write_export(
        records,
        fmt,
        out=out,
        partner=partner,
        tlp=tlp,
        org_uuid=org_uuid,
        region=region,
        hits_only=hits_only,
    )


def write_export(
    records: list[dict[str, Any]],
    fmt: ExportFormat,
    *,
    out: Path | None,
    partner: str,
    tlp: str,
    org_uuid: str | None = None,
    region: str = DEFAULT_REGION,
    hits_only: bool = False,
) -> None:
    """Write ``match``/``alerts`` records in one of the interoperable formats."""
    console = Console(stderr=True)
    if fmt in {ExportFormat.STIX, ExportFormat.MISP_FEED} and not partner.strip():
        raise UsageError("--partner (or PPSGATE_CONNECTOR_PARTNER) names the author")
    if fmt in {ExportFormat.MISP_FEED, ExportFormat.XLSX} and out is None:
        raise UsageError(f"--out is required for {fmt.value}")
    if fmt is ExportFormat.STIX:
        stix = write_stix_bundle(
            records, out or sys.stdout, partner=partner, tlp=tlp, region=region
        )
        console.print(
            f"{stix.indicators} indicators, {stix.revoked} revoked, "
            f"{stix.skipped_misses} misses and {stix.skipped_unjoined} unjoined left out",
            highlight=False,
        )
    elif fmt is ExportFormat.MISP_FEED:
        assert out is not None
        feed = write_misp_feed(
            records, out, partner=partner, tlp=tlp, org_uuid=org_uuid, region=region
        )
        console.print(
            f"new event {feed.new_event or '-'}; {len(feed.revised_events)} events revised; "
            f"{feed.added} added, {feed.updated} updated, {feed.deleted} deleted, "
            f"{feed.unchanged} unchanged",
            highlight=False,
        )
    elif fmt is ExportFormat.CSV:
        table = write_csv(records, out or sys.stdout, hits_only=hits_only)
        console.print(f"{table.rows} rows written", highlight=False)
    else:
        assert out is not None
        table = write_xlsx(records, out, hits_only=hits_only)
        console.print(f"{table.rows} rows written", highlight=False)
