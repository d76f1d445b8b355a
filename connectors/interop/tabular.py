"""CSV and XLSX exports for analysts: the partner's own rows with what the gateway said.

One line per record, in order, with the partner's identifier as they wrote it and their
carried columns, so the sheet joins back to their case system. ``disclosed_levels`` says in
one cell what the policy let them learn (``hit; count; category`` …): an empty ``sectors``
cell then reads "not disclosed", not "no sectors".

Spreadsheet formula injection: partner data (and anything else) that starts with ``=``,
``+``, ``-``, ``@``, tab or carriage return would be evaluated by Excel or LibreOffice when
the file is opened (OWASP "CSV Injection"). In CSV such cells get a leading apostrophe,
the OWASP mitigation, so a phone number reads ``'+31612345678``; in XLSX the exact text is
stored as a string cell (never a formula) with Excel's "quote prefix" style, so it shows
unchanged and stays text even when edited.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from connectors.interop.errors import ExportError
from connectors.interop.output import atomic_binary, text_output
from connectors.interop.records import Event, Finding, Source, read_records

#: Leading characters that make a spreadsheet cell a formula (OWASP CSV Injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_DISCLOSURE_COLUMNS = (
    "disputed",
    "reports",
    "reporters",
    "categories",
    "roles",
    "sectors",
    "first_seen",
    "last_seen",
    "expires_at",
    "reporting_partners",
)
MATCH_COLUMNS = (
    "row",
    "type",
    "value",
    "hit",
    "disclosed_levels",
    *_DISCLOSURE_COLUMNS,
    "epoch",
    "request_id",
    "rejection_reason",
)
ALERT_COLUMNS = (
    "cursor",
    "alert_type",
    "row",
    "kind",
    "value",
    "watch_id",
    "created_at",
    "disclosed_levels",
    "retraction_reason",
    *_DISCLOSURE_COLUMNS,
    "about_request_id",
    "about_row",
    "purpose",
)
RETRACTION_LEVELS = "none (retraction notice)"
REJECTED_LEVELS = "none (row rejected, not sent)"
_SHEET_TITLES = {Source.MATCH: "match results", Source.ALERTS: "alerts"}


@dataclass(frozen=True, slots=True)
class TabularSummary:
    """Rows and columns written."""

    rows: int
    columns: tuple[str, ...]


def neutralise_formula(text: str) -> str:
    """``text`` made inert for a spreadsheet: an apostrophe before a formula trigger."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


@dataclass(frozen=True, slots=True)
class _Table:
    source: Source
    columns: tuple[str, ...]
    rows: list[list[Any]]


def _carried_columns(findings: list[Finding], fixed: tuple[str, ...]) -> list[tuple[str, str]]:
    """(record key, header) of every carried column, in first-seen order; a key that
    collides with a fixed column gets a `` (partner)`` suffix instead of overwriting it."""
    seen: dict[str, str] = {}
    for finding in findings:
        for key in finding.carried:
            if key not in seen:
                seen[key] = f"{key} (partner)" if key in fixed else key
    return list(seen.items())


def _levels(finding: Finding) -> str:
    if finding.event is Event.RETRACTION:
        return RETRACTION_LEVELS
    if finding.event is Event.REJECTED:
        return REJECTED_LEVELS
    return "; ".join(finding.disclosed.levels())


def _disclosure_cells(finding: Finding) -> list[Any]:
    disclosed = finding.disclosed
    return [getattr(disclosed, name) for name in _DISCLOSURE_COLUMNS]


def _table(
    records: Iterable[Mapping[str, Any]], source: Source | str | None, *, hits_only: bool
) -> _Table:
    findings = read_records(records, source)
    resolved = findings[0].source if findings else Source(source or Source.MATCH)
    if hits_only:
        findings = [finding for finding in findings if not finding.is_answer_without_finding]
    fixed = MATCH_COLUMNS if resolved is Source.MATCH else ALERT_COLUMNS
    carried = _carried_columns(findings, fixed)
    rows: list[list[Any]] = []
    for finding in findings:
        context = finding.context
        if resolved is Source.MATCH:
            rejected = finding.event is Event.REJECTED
            head: list[Any] = [
                finding.position,
                finding.kind.value if finding.kind else "",
                finding.value,
                None if rejected else finding.event is Event.HIT,
                _levels(finding),
                *_disclosure_cells(finding),
                finding.epoch,
                context.get("request_id"),
                context.get("reason") if rejected else None,
            ]
        else:
            head = [
                finding.position,
                finding.event.value,
                context.get("row"),
                finding.kind.value if finding.kind else "",
                finding.value,
                finding.watch_id,
                finding.created_at,
                _levels(finding),
                finding.disclosed.reason,
                *_disclosure_cells(finding),
                *(context.get(name) for name in ("about_request_id", "about_row", "purpose")),
            ]
        rows.append(head + [finding.carried.get(key) for key, _ in carried])
    return _Table(resolved, (*fixed, *(header for _, header in carried)), rows)


def _text(value: Any) -> str:
    """A cell's text in CSV: lists joined with ``; ``, booleans lower case, times ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(item) for item in value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def write_csv(
    records: Iterable[Mapping[str, Any]],
    out: Path | IO[str],
    *,
    source: Source | str | None = None,
    hits_only: bool = False,
) -> TabularSummary:
    """Write match results or alerts as CSV (UTF-8 with BOM when ``out`` is a path, so
    Excel reads accents right); every text cell is neutralised against formula injection."""
    table = _table(records, source, hits_only=hits_only)
    encoding = "utf-8-sig" if isinstance(out, Path) else "utf-8"
    with text_output(out, encoding=encoding) as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([neutralise_formula(name) for name in table.columns])
        for row in table.rows:
            writer.writerow([_csv_cell(value) for value in row])
    return TabularSummary(rows=len(table.rows), columns=table.columns)


def _csv_cell(value: Any) -> str | int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return neutralise_formula(_text(value))


def _xlsx_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, datetime):
        # Excel has no time zones: store UTC, as docs/interop.md says.
        return value.astimezone(UTC).replace(tzinfo=None)
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", _text(value))


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> Cell:
    shown = _xlsx_value(value)
    cell = WriteOnlyCell(sheet, value=shown)
    if isinstance(shown, str):
        cell.data_type = "s"  # text, even when it looks like a formula
        if is_formula_like(shown):
            cell.quotePrefix = True
    elif isinstance(shown, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    return cell


def write_xlsx(
    records: Iterable[Mapping[str, Any]],
    out: Path | IO[bytes],
    *,
    source: Source | str | None = None,
    hits_only: bool = False,
) -> TabularSummary:
    """Write match results or alerts as one XLSX sheet (header frozen, filter on), times in
    UTC; no cell is ever a formula."""
    table = _table(records, source, hits_only=hits_only)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_SHEET_TITLES[table.source])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in table.columns:
        cell = _xlsx_cell(sheet, name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in table.rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    if isinstance(out, Path):
        with atomic_binary(out) as handle:
            _save(workbook, handle)
    else:
        _save(workbook, out)
    return TabularSummary(rows=len(table.rows), columns=table.columns)


def _save(workbook: Workbook, handle: IO[bytes]) -> None:
    try:
        workbook.save(handle)
    except OSError as exc:
        raise ExportError(f"cannot write the workbook: {exc.strerror}", field="output") from None
