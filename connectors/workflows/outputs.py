"""Result files that join back to the partner's rows, in JSON Lines or CSV.

CSV cells that a spreadsheet would read as a formula (starting with ``= + - @``) are
prefixed with a quote, so a value a fraudster chose cannot run in an analyst's spreadsheet.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        text = ";".join(str(item) for item in value)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class ResultWriter:
    """Writes records as JSONL, or as CSV with the union of the first batch's columns."""

    def __init__(self, handle: TextIO, fmt: str, leading: tuple[str, ...]) -> None:
        self._handle = handle
        self._format = fmt
        self._leading = leading
        self._columns: list[str] | None = None
        self._csv: Any = None

    def write_many(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.write(record)

    def write(self, record: dict[str, Any]) -> None:
        if self._format == "jsonl":
            self._handle.write(json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n")
            return
        if self._columns is None:
            rest = [name for name in record if name not in self._leading]
            self._columns = [*self._leading, *rest]
            self._csv = csv.writer(self._handle)
            self._csv.writerow(self._columns)
        self._csv.writerow([safe_cell(record.get(name)) for name in self._columns])


@contextmanager
def open_output(path: Path | None, default: TextIO) -> Iterator[TextIO]:
    """Write to a temporary file and rename it into place, so a crash leaves no half file."""
    if path is None:
        yield default
        return
    temporary = path.with_name(path.name + ".part")
    try:
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            yield handle
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)  # a failed run leaves no partial file behind
        raise


def output_format(path: Path | None, requested: str | None) -> str:
    if requested:
        return requested
    if path is not None and path.suffix.lower() == ".csv":
        return "csv"
    return "jsonl"
