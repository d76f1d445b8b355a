"""CSV and XLSX exports: the partner's rows joined back, what was disclosed, and no formula."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from connectors.interop.tabular import (
    ALERT_COLUMNS,
    FORMULA_TRIGGERS,
    MATCH_COLUMNS,
    REJECTED_LEVELS,
    RETRACTION_LEVELS,
    neutralise_formula,
    write_csv,
    write_xlsx,
)
from tests.unit.connectors.interop import samples


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _sheet(path: Path) -> tuple[list[str], list[list[Any]], list[Any]]:
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    values = [[cell.value for cell in row] for row in rows[1:]]
    cells = [cell for row in rows for cell in row]
    return header, values, cells


def test_csv_of_match_results_joins_back_every_row() -> None:
    out = io.StringIO()
    summary = write_csv(samples.match_records(), out)
    rows = _csv_rows(out.getvalue())

    assert summary.rows == 4
    assert summary.columns == (*MATCH_COLUMNS, "case_id", "customer")
    assert [row["row"] for row in rows] == ["1", "2", "3", "4"]
    first = rows[0]
    assert first["value"] == samples.IBAN_RAW  # as the partner wrote it
    assert first["case_id"] == "CASE-17"
    assert first["hit"] == "true"
    assert first["disclosed_levels"] == "hit; count; category; role; sectors; dates; reporter"
    assert first["categories"] == "phishing; money_mule"
    assert first["reporting_partners"] == "bank-b; telco-c; bank-d"
    assert first["first_seen"] == "2024-11-02T09:00:00+00:00"
    assert rows[1]["disclosed_levels"] == "hit"
    assert rows[1]["sectors"] == ""  # not disclosed
    assert rows[2]["hit"] == "false"


def test_csv_hits_only_leaves_out_misses() -> None:
    out = io.StringIO()
    summary = write_csv(samples.match_records(), out, hits_only=True)
    assert summary.rows == 3
    assert [row["row"] for row in _csv_rows(out.getvalue())] == ["1", "2", "4"]


def test_csv_of_alerts_marks_retractions() -> None:
    records = [*samples.alert_records(), samples.retraction_record(14, "email", "x@y.nl", 6)]
    out = io.StringIO()
    summary = write_csv(records, out)
    rows = _csv_rows(out.getvalue())
    assert summary.columns == (*ALERT_COLUMNS, "customer")
    assert [row["alert_type"] for row in rows] == ["alert", "alert", "update", "retraction"]
    assert rows[2]["disclosed_levels"] == "hit; count; category; role; sectors"
    assert rows[3]["disclosed_levels"] == RETRACTION_LEVELS
    assert rows[3]["retraction_reason"] == "retracted by the reporting partner"
    assert rows[0]["customer"] == "K-100"


def test_csv_neutralises_formulas_from_partner_data() -> None:
    out = io.StringIO()
    write_csv(samples.match_records(), out)
    rows = _csv_rows(out.getvalue())
    assert rows[0]["customer"] == '\'=HYPERLINK("http://evil.example","click")'
    assert rows[3]["case_id"] == "'@SUM(1+1)"
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(FORMULA_TRIGGERS), cell


def test_csv_file_has_a_bom_for_excel(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_csv(samples.match_records(), path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert _csv_rows(raw.decode("utf-8-sig"))[0]["case_id"] == "CASE-17"


def test_carried_column_named_like_a_fixed_one_is_kept_apart() -> None:
    record = dict(samples.match_records()[1], rejection_reason="mine")
    out = io.StringIO()
    summary = write_csv([record], out)
    assert "rejection_reason (partner)" in summary.columns
    [row] = _csv_rows(out.getvalue())
    assert (row["rejection_reason"], row["rejection_reason (partner)"]) == ("", "mine")


def test_connector_extras_and_rejected_rows() -> None:
    """Fields the match command adds beside the answer, and rows it never sent."""
    answered = dict(
        samples.match_records()[0],
        disclosed_levels=["categories", "reports"],  # field names: recomputed as levels
        request_id="req-1",
    )
    rejected = {"row": 5, "status": "rejected", "reason": "IBAN check digits do not match"}
    out = io.StringIO()
    write_csv([answered, rejected], out)
    first, second = _csv_rows(out.getvalue())
    assert first["disclosed_levels"].startswith("hit; count; category")
    assert first["request_id"] == "req-1"
    assert (second["row"], second["hit"], second["type"]) == ("5", "", "")
    assert second["disclosed_levels"] == REJECTED_LEVELS
    assert second["rejection_reason"] == "IBAN check digits do not match"
    hits = io.StringIO()
    assert write_csv([answered, rejected], hits, hits_only=True).rows == 1


def test_alert_rows_show_the_watch_list_row() -> None:
    record = dict(samples.alert_records()[0], row=42)
    out = io.StringIO()
    write_csv([record], out)
    [row] = _csv_rows(out.getvalue())
    assert (row["cursor"], row["alert_type"], row["row"]) == ("11", "alert", "42")


def test_xlsx_keeps_exact_text_and_never_writes_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "matches.xlsx"
    records = samples.match_records()
    records[1]["case_id"] = "+31 6 evil\x07bell"
    summary = write_xlsx(records, path)

    header, values, cells = _sheet(path)
    assert tuple(header) == summary.columns
    by_name = [dict(zip(header, row, strict=True)) for row in values]
    assert by_name[0]["customer"] == samples.match_records()[0]["customer"]  # unchanged text
    assert by_name[3]["case_id"] == "@SUM(1+1)"
    assert by_name[1]["case_id"] == "+31 6 evil\ufffdbell"  # XML cannot hold control chars
    assert by_name[0]["hit"] is True
    assert by_name[0]["reports"] == 4
    # Excel has no time zones: the sheet holds UTC wall-clock time.
    assert by_name[0]["first_seen"] == datetime(2024, 11, 2, 9, 0, tzinfo=UTC).replace(tzinfo=None)
    for cell in cells:
        assert cell.data_type != "f"
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_TRIGGERS):
            assert cell.quotePrefix, cell.coordinate
    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml


def test_xlsx_of_alerts_to_a_stream() -> None:
    out = io.BytesIO()
    summary = write_xlsx(samples.alert_records(), out)
    assert summary.rows == 3
    workbook = load_workbook(io.BytesIO(out.getvalue()))
    sheet = workbook.worksheets[0]
    assert sheet.title == "alerts"
    assert sheet.freeze_panes == "A2"
    assert sheet["B2"].value == "alert"


@given(st.text(max_size=30))
def test_neutralised_text_never_starts_a_formula(text: str) -> None:
    safe = neutralise_formula(text)
    assert not safe.startswith(FORMULA_TRIGGERS)
    assert safe in {text, f"'{text}"}
    assert (safe != text) == text.startswith(FORMULA_TRIGGERS)
