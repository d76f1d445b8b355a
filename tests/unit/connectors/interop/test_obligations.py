"""Obligations, victims and evidence travel into the analysts' STIX and MISP exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connectors.interop.mapping import ppsgate_machinetag
from connectors.interop.misp import write_misp_feed
from connectors.interop.records import read_records
from connectors.interop.stix import build_stix_bundle
from connectors.workflows.operations import merge_disclosed
from tests.unit.connectors.interop import samples


def _alert() -> dict[str, Any]:
    record = samples.alert_records()[0]
    record["disclosed"] = {**record["disclosed"], "victims": 2, "evidence": ["police_report"]}
    record["obligations"] = [
        {"code": "no-termination-on-flag-alone", "text_en": "...", "text_nl": "...", "basis": []}
    ]
    return record


def test_an_alert_keeps_its_obligations_victims_and_evidence() -> None:
    (finding,) = read_records([_alert()])
    disclosed = finding.disclosed
    assert disclosed.obligations == ("no-termination-on-flag-alone",)
    assert disclosed.victims == 2
    assert disclosed.evidence == ("police_report",)
    assert "obligations" not in disclosed.levels()  # a duty, not something disclosed


def test_stix_and_misp_carry_them(tmp_path: Path) -> None:
    built, _summary = build_stix_bundle([_alert()], partner=samples.PARTNER)
    bundle = json.loads(built.serialize())
    (indicator,) = [o for o in bundle["objects"] if o["type"] == "indicator"]
    assert indicator["x_ppsgate_obligations"] == ["no-termination-on-flag-alone"]
    assert indicator["x_ppsgate_victims"] == 2
    write_misp_feed([_alert()], tmp_path, partner=samples.PARTNER)
    feed = " ".join(p.read_text() for p in tmp_path.glob("*.json"))
    assert 'ppsgate:obligation=\\"no-termination-on-flag-alone\\"' in feed
    assert 'ppsgate:evidence=\\"police_report\\"' in feed
    predicates = {p["value"] for p in ppsgate_machinetag()["predicates"]}
    assert {"evidence", "obligation"} <= predicates


def test_answers_under_two_epochs_unite_their_obligations() -> None:
    merged = merge_disclosed(
        [
            {"hit": True, "obligations": ["disputed-do-not-act"], "victims": 1},
            {"hit": True, "obligations": ["no-termination-on-flag-alone"], "victims": 2},
        ]
    )
    assert merged["obligations"] == ["disputed-do-not-act", "no-termination-on-flag-alone"]
    assert merged["victims"] == 2
