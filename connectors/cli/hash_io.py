"""Streaming readers for the ``hash`` command's input files (CSV and JSON Lines).

Files are read line by line from a binary handle with a length cap, so memory stays flat
whatever the file size and a runaway line (a binary file, a missing newline) is refused
instead of read whole. Readers yield :class:`Record` tuples and count the bytes consumed
for the progress bar. The identifier itself (``value``) is never part of ``carried``.
"""

from __future__ import annotations

import csv
import json
import operator
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from connectors.errors import InputFileError

#: Longest physical line accepted (bytes, newline included); also the CSV field size limit.
MAX_LINE_BYTES = 64 * 1024

#: Output fields a carried column must not shadow.
RESERVED_NAMES = frozenset({"row", "type", "epoch", "spec", "token", "reason"})

_BOM = b"\xef\xbb\xbf"
_DELIMITERS = (",", ";", "\t")
_JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})
_CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})


class Record(NamedTuple):
    """One input row: 1-based data row number, the raw value, its type column, carried data.

    ``problem`` is set when the row itself is unusable (bad JSON, wrong column count); it is
    then rejected with that reason and ``value`` is empty.
    """

    row: int
    value: str
    type_name: str | None
    carried: tuple[Any, ...] | dict[str, Any]
    problem: str | None = None


#: A :class:`Record` as a plain tuple.
RowTuple = tuple[int, str, str | None, tuple[Any, ...] | dict[str, Any], str | None]


class LineSource:
    """Decoded lines of a binary file with a per-line cap and a byte counter."""

    def __init__(self, handle: BinaryIO, path: Path) -> None:
        self._handle = handle
        self._path = path
        self.bytes_read = 0
        self.line_number = 0

    def __iter__(self) -> Iterator[str]:
        readline = self._handle.readline
        limit = MAX_LINE_BYTES + 1
        while True:
            try:
                raw = readline(limit)
            except OSError as exc:
                raise InputFileError(f"cannot read {self._path}: {exc.strerror}") from None
            if not raw:
                return
            self.line_number += 1
            self.bytes_read += len(raw)
            if len(raw) > MAX_LINE_BYTES:
                raise InputFileError(
                    f"line {self.line_number} is longer than {MAX_LINE_BYTES} bytes "
                    "(is this a text file with one row per line?)"
                )
            if self.line_number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputFileError(
                    f"line {self.line_number} is not UTF-8 text (save the file as UTF-8)"
                ) from None


def detect_format(path: Path, first_line: str) -> str:
    """``"csv"`` or ``"jsonl"``, by file name and else by the first line's first character."""
    suffix = path.suffix.lower()
    if suffix in _JSONL_SUFFIXES:
        return "jsonl"
    if suffix in _CSV_SUFFIXES:
        return "csv"
    return "jsonl" if first_line.lstrip().startswith("{") else "csv"


class CsvReader:
    """CSV with a header naming a ``value`` column; ``type`` optional; the rest carried.

    The delimiter is whichever of comma, semicolon (Dutch spreadsheet exports) or tab makes
    a ``value`` column appear in the header.
    """

    def __init__(self, lines: LineSource, header_line: str) -> None:
        self._lines = lines
        self.delimiter, names = _read_header(header_line)
        lowered = [name.lower() for name in names]
        self._value_index = lowered.index("value")
        self._type_index = lowered.index("type") if "type" in lowered else None
        self._carried_indexes = tuple(
            index for index, name in enumerate(lowered) if name not in ("value", "type")
        )
        self.carried_names = tuple(names[index] for index in self._carried_indexes)
        self._width = len(names)
        for name in self.carried_names:
            if name.lower() in RESERVED_NAMES:
                raise InputFileError(
                    f"column {name!r} clashes with an output field; rename it", field="header"
                )

    def __iter__(self) -> Iterator[Record]:
        for fields in self.rows():
            yield Record._make(fields)

    def rows(self) -> Iterator[RowTuple]:
        """Plain tuples in :class:`Record` field order: the hot path skips the named tuple."""
        csv.field_size_limit(MAX_LINE_BYTES)
        reader = csv.reader(self._lines, delimiter=self.delimiter, strict=True)
        value_index, type_index = self._value_index, self._type_index
        carried_indexes, width = self._carried_indexes, self._width
        pick_carried = _picker(carried_indexes)
        row = 0
        try:
            for fields in reader:
                if not fields:
                    continue
                row += 1
                if len(fields) != width:
                    yield (
                        row,
                        "",
                        None,
                        tuple(fields[i] if i < len(fields) else "" for i in carried_indexes),
                        f"row has {len(fields)} columns, the header has {width}",
                    )
                    continue
                yield (
                    row,
                    fields[value_index],
                    fields[type_index] if type_index is not None else None,
                    pick_carried(fields),
                    None,
                )
        except csv.Error as exc:
            what = "a field is too long" if "larger than" in str(exc) else "broken CSV quoting"
            raise InputFileError(f"{what} near line {self._lines.line_number}") from None


def _picker(indexes: tuple[int, ...]) -> Callable[[list[str]], tuple[str, ...]]:
    """A function taking the carried fields out of a CSV row as a tuple (itemgetter is C)."""
    if not indexes:
        return lambda _fields: ()
    if len(indexes) == 1:
        index = indexes[0]
        return lambda fields: (fields[index],)
    # With two or more indexes itemgetter returns a tuple.
    getter: Callable[[list[str]], tuple[str, ...]] = operator.itemgetter(*indexes)
    return getter


def _read_header(header_line: str) -> tuple[str, list[str]]:
    for delimiter in _DELIMITERS:
        try:
            names = next(csv.reader([header_line], delimiter=delimiter, strict=True), [])
        except csv.Error:
            continue
        names = [name.strip() for name in names]
        lowered = [name.lower() for name in names]
        if "value" not in lowered:
            continue
        duplicates = sorted({name for name in lowered if lowered.count(name) > 1})
        if duplicates:
            raise InputFileError(
                f"duplicate column names in the header: {', '.join(duplicates)}", field="header"
            )
        return delimiter, names
    raise InputFileError(
        "the header has no 'value' column (CSV separated by comma, semicolon or tab)",
        field="header",
    )


class JsonlReader:
    """One JSON object per line with a ``value`` string; ``type`` optional; other keys carried."""

    carried_names: tuple[str, ...] | None = None

    def __init__(self, lines: LineSource, first_line: str) -> None:
        self._lines = lines
        self._first_line = first_line

    def __iter__(self) -> Iterator[Record]:
        row = 0
        for line in _chain_first(self._first_line, self._lines):
            if not line.strip():
                continue
            row += 1
            yield _jsonl_record(row, line)

    def rows(self) -> Iterator[RowTuple]:
        """Same as iterating, as plain tuples (for symmetry with :meth:`CsvReader.rows`)."""
        return iter(self)


def _chain_first(first: str, rest: LineSource) -> Iterator[str]:
    yield first
    yield from rest


def _jsonl_record(row: int, line: str) -> Record:
    try:
        obj = json.loads(line)
    except ValueError:
        return Record(row, "", None, {}, "line is not valid JSON")
    if not isinstance(obj, dict):
        return Record(row, "", None, {}, "line is not a JSON object")
    value = obj.pop("value", None)
    type_name = obj.pop("type", None)
    for key in obj:
        if key.lower() in RESERVED_NAMES:
            return Record(row, "", None, {}, f"field {key!r} clashes with an output field")
    if value is None:
        return Record(row, "", None, obj, "no 'value' field")
    if not isinstance(value, str):
        return Record(row, "", None, obj, "'value' is not a JSON string")
    if type_name is not None and not isinstance(type_name, str):
        return Record(row, "", None, obj, "'type' is not a JSON string")
    return Record(row, value, type_name, obj)


def open_reader(handle: BinaryIO, path: Path) -> tuple[LineSource, CsvReader | JsonlReader]:
    """The right reader for ``path``; raises :class:`InputFileError` for an unusable file."""
    lines = LineSource(handle, path)
    first = next(iter(lines), None)
    if first is None or not first.strip():
        raise InputFileError(f"{path} is empty or starts with a blank line")
    if detect_format(path, first) == "jsonl":
        return lines, JsonlReader(lines, first)
    return lines, CsvReader(lines, first)
