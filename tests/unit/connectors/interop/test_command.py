"""``ppsgate-connector export``: results files to STIX, MISP feed, CSV and XLSX."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import stix2
from openpyxl import load_workbook
from pymisp import MISPEvent

from connectors.cli import main
from tests.unit.connectors.interop import samples


def _run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: object
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.argv", ["ppsgate-connector", "export", *map(str, args)])
    with pytest.raises(SystemExit) as caught:
        main()
    captured = capsys.readouterr()
    return int(caught.value.code or 0), captured.out, captured.err


def _jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_export_to_every_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    alerts = _jsonl(tmp_path / "alerts.jsonl", samples.alert_records())
    monkeypatch.setenv("PPSGATE_CONNECTOR_PARTNER", samples.PARTNER)

    code, out, err = _run(monkeypatch, capsys, alerts, "--format", "stix", "--tlp", "red")
    assert code == 0, err
    bundle = stix2.parse(out, allow_custom=True)
    assert sum(obj["type"] == "indicator" for obj in bundle.objects) == 2
    assert "2 indicators" in err
    assert samples.IBAN not in err

    feed = tmp_path / "feed"
    code, _, err = _run(monkeypatch, capsys, alerts, "--format", "misp-feed", "--out", feed)
    assert code == 0, err
    [event_file] = [path for path in feed.glob("*.json") if path.name != "manifest.json"]
    event = MISPEvent()
    event.load_file(str(event_file))
    assert {attribute.value for attribute in event.attributes} == {samples.IBAN, samples.EMAIL}

    code, out, _ = _run(monkeypatch, capsys, alerts, "--format", "csv")
    assert code == 0
    assert out.splitlines()[0].startswith("cursor,alert_type,row,kind,value")

    sheet = tmp_path / "alerts.xlsx"
    code, _, _ = _run(monkeypatch, capsys, alerts, "--format", "xlsx", "--out", sheet)
    assert code == 0
    assert load_workbook(sheet).worksheets[0]["B2"].value == "alert"


def test_usage_errors_exit_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    matches = _jsonl(tmp_path / "matches.jsonl", samples.match_records())
    monkeypatch.delenv("PPSGATE_CONNECTOR_PARTNER", raising=False)
    code, _, err = _run(monkeypatch, capsys, matches, "--format", "stix")
    assert code == 1
    assert "--partner" in err

    code, _, err = _run(monkeypatch, capsys, matches, "--format", "xlsx")
    assert code == 1
    assert "--out is required for xlsx" in err

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"row": 1}\nnot json\n', encoding="utf-8")
    code, _, err = _run(monkeypatch, capsys, broken, "--format", "csv")
    assert code == 1
    assert "line 2 is not JSON" in err

    code, _, err = _run(
        monkeypatch, capsys, matches, "--format", "stix", "--partner", "x", "--tlp", "pink"
    )
    assert code == 1
    assert "tlp: unknown TLP level" in err
