"""The streaming readers behind ``hash`` (also used by other commands through ``Record``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.cli.hash_io import (
    MAX_LINE_BYTES,
    CsvReader,
    JsonlReader,
    Record,
    detect_format,
    open_reader,
)
from connectors.errors import InputFileError


def _records(path: Path) -> list[Record]:
    with path.open("rb") as handle:
        _lines, reader = open_reader(handle, path)
        return list(reader)


def test_csv_records_carry_everything_but_value_and_type(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,Value,TYPE,note\n1,06-12345678,phone,x\n\n2,a@b.nl,,y\n", encoding="utf-8")
    with path.open("rb") as handle:
        _lines, reader = open_reader(handle, path)
        assert isinstance(reader, CsvReader)
        assert reader.carried_names == ("id", "note")
        records = list(reader)
    assert records == [
        Record(1, "06-12345678", "phone", ("1", "x")),
        Record(2, "a@b.nl", "", ("2", "y")),
    ]


def test_single_carried_column_is_still_a_tuple(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("value\tref\n06-12345678\tr1\n", encoding="utf-8")
    assert _records(path) == [Record(1, "06-12345678", None, ("r1",))]


def test_jsonl_records(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"value": "x", "type": "iban", "n": 1}\n{"type": 5, "value": "y"}\n')
    with path.open("rb") as handle:
        _lines, reader = open_reader(handle, path)
        assert isinstance(reader, JsonlReader)
        records = list(reader)
    assert records == [
        Record(1, "x", "iban", {"n": 1}),
        Record(2, "", None, {}, "'type' is not a JSON string"),
    ]


@pytest.mark.parametrize(
    ("name", "first_line", "expected"),
    [
        ("a.csv", "{", "csv"),
        ("a.JSONL", "value", "jsonl"),
        ("a.ndjson", "", "jsonl"),
        ("export", ' {"value": 1}', "jsonl"),
        ("export", "value,type", "csv"),
    ],
)
def test_format_detection(name: str, first_line: str, expected: str) -> None:
    assert detect_format(Path(name), first_line) == expected


def test_line_cap_applies_to_the_first_line_too(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"value," + b"x" * MAX_LINE_BYTES + b"\n")
    with pytest.raises(InputFileError, match="line 1 is longer"), path.open("rb") as handle:
        open_reader(handle, path)


def test_a_file_starting_with_a_blank_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("\nvalue\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="starts with a blank line"), path.open("rb") as handle:
        open_reader(handle, path)
