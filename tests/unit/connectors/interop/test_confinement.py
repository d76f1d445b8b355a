"""The raw identifiers appear only in the files the exporters are asked to write.

Covers the whole package (``connectors.interop``): with the network disabled, logging at
DEBUG captured, temporary files redirected and the working directory watched, running
every exporter on match results and on alerts leaves the identifiers in their output files
and nowhere else. (The connector commands' own test inspects what is sent to the gateway.)
"""

from __future__ import annotations

import io
import logging
import socket
import tempfile
from pathlib import Path
from typing import Any, NoReturn

import pytest
from openpyxl import load_workbook

from connectors.interop import write_csv, write_misp_feed, write_stix_bundle, write_xlsx
from tests.unit.connectors.interop import samples

RAW = (samples.IBAN_RAW, samples.PHONE_RAW, samples.EMAIL_RAW, samples.DOMAIN_RAW)
CANONICAL = (samples.IBAN, samples.PHONE, samples.EMAIL, samples.DOMAIN)


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise AssertionError("an exporter tried to use the network")


def _xlsx_text(path: Path) -> str:
    sheet = load_workbook(path).worksheets[0]
    return "\n".join(str(cell.value) for row in sheet.iter_rows() for cell in row)


def _tree(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


@pytest.mark.parametrize("records", [samples.match_records(), samples.alert_records()])
def test_identifiers_end_up_only_in_the_written_files(
    records: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "out"
    out.mkdir()

    write_stix_bundle(records, out / "bundle.json", partner=samples.PARTNER, now=samples.NOW)
    write_misp_feed(records, out / "feed", partner=samples.PARTNER, now=samples.NOW)
    write_csv(records, out / "rows.csv")
    write_xlsx(records, out / "rows.xlsx")
    stream = io.StringIO()
    write_csv(records, stream)

    written = {
        name: _xlsx_text(out / name) if name.endswith(".xlsx") else (out / name).read_text("utf-8")
        for name in _tree(out)
    }
    present = {record["value"] for record in records if record.get("value")}
    hits = {
        record["value"] for record in records if record.get("hit", True) and record.get("value")
    }
    for raw in present:
        assert raw in written["rows.csv"]
        assert raw in written["rows.xlsx"]
        assert raw in stream.getvalue()
    for raw, canonical in zip(RAW, CANONICAL, strict=True):
        if raw in hits:
            assert canonical in written["bundle.json"]
            assert any(canonical in text for name, text in written.items() if "feed/" in name)

    # Nothing anywhere else: no log record, no output, no stray file.
    captured = capsys.readouterr()
    elsewhere = "\n".join([caplog.text, captured.out, captured.err])
    for value in (*RAW, *CANONICAL):
        assert value not in elsewhere
        assert value.lower() not in elsewhere.lower()
    assert _tree(scratch) == set()
    assert _tree(workdir) == set()
    assert {path.name for path in tmp_path.iterdir()} == {"tmp", "cwd", "out"}
    assert not [name for name in _tree(out) if name.rsplit("/", 1)[-1].startswith(".")]
