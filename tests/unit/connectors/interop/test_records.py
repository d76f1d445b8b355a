"""Reading the connector's result records: typed, and refused with the record and field named."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.canonical.kinds import Kind
from connectors.interop.errors import ExportError
from connectors.interop.records import Event, Source, detect_source, read_records
from tests.unit.connectors.interop import samples


def test_match_records_are_typed_and_carry_the_partner_columns() -> None:
    findings = read_records(samples.match_records())
    assert [finding.event for finding in findings] == [Event.HIT, Event.HIT, Event.MISS, Event.HIT]
    first = findings[0]
    assert (first.source, first.position, first.kind, first.epoch) == (
        Source.MATCH,
        1,
        Kind.IBAN,
        3,
    )
    assert first.carried == {
        "case_id": "CASE-17",
        "customer": samples.match_records()[0]["customer"],
    }
    assert first.disclosed.categories == ("phishing", "money_mule")
    assert first.disclosed.first_seen is not None
    assert first.disclosed.first_seen.utcoffset() is not None
    assert first.disclosed.corroboration == 3
    assert first.canonical() == samples.IBAN
    assert findings[1].disclosed.levels() == ("hit",)
    assert findings[1].disclosed.corroboration is None


def test_alert_records_are_typed() -> None:
    findings = read_records(samples.alert_records())
    assert [finding.event for finding in findings] == [Event.ALERT, Event.ALERT, Event.UPDATE]
    assert findings[0].source is Source.ALERTS
    assert findings[0].watch_id == 5
    assert findings[0].carried == {"customer": "K-100"}
    assert findings[2].disclosed.levels() == ("hit", "count", "category", "role", "sectors")
    retraction = read_records([samples.retraction_record(9, "", "", 1)])[0]
    assert (retraction.event, retraction.kind) == (Event.RETRACTION, None)
    assert retraction.disclosed.reason == "retracted by the reporting partner"


def test_rejected_match_rows_are_read() -> None:
    rejected = {"row": 5, "status": "rejected", "reason": "bad IBAN", "case_id": "C-5"}
    [finding] = read_records([rejected])
    assert (finding.event, finding.kind, finding.source) == (Event.REJECTED, None, Source.MATCH)
    assert finding.context == {"reason": "bad IBAN"}
    assert finding.carried == {"case_id": "C-5"}
    assert finding.is_answer_without_finding


def test_source_is_detected_from_the_first_record() -> None:
    assert detect_source(samples.match_records()[0]) is Source.MATCH
    assert detect_source(samples.alert_records()[0]) is Source.ALERTS
    with pytest.raises(ExportError, match="neither"):
        detect_source({"value": "x"})


def _error(records: list[Any], source: str | None = None) -> ExportError:
    with pytest.raises(ExportError) as caught:
        read_records(records, source)
    return caught.value


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"type": "bic"}, "record 2: type", "must be iban, phone, email or domain"),
        ({"hit": "yes"}, "record 2: hit", "must be true or false"),
        ({"row": "2"}, "record 2: row", "must be an integer"),
        ({"reports": -1}, "record 2: reports", "must be a non-negative integer"),
        ({"categories": "phishing"}, "record 2: categories", "must be a list of strings"),
        ({"first_seen": "yesterday"}, "record 2: first_seen", "must be an ISO 8601 timestamp"),
        ({"last_seen": "2025-01-01T00:00:00"}, "record 2: last_seen", "needs a time zone (e.g. Z)"),
        ({"disputed": "no"}, "record 2: disputed", "must be true or false"),
        ({"value": 31612345678}, "record 2: value", "must be a string"),
    ],
)
def test_bad_match_records_name_the_record_and_field(
    change: dict[str, Any], field: str, reason: str
) -> None:
    records = samples.match_records()[:2]
    records[1] = dict(records[1], **change)
    error = _error(records)
    assert (error.field, error.reason) == (field, reason)
    assert samples.PHONE_RAW not in error.diagnostics()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "ping"}, "record 1: type"),
        ({"disclosed": []}, "record 1: disclosed"),
        ({"created_at": None}, "record 1: created_at"),
        ({"kind": "bank"}, "record 1: kind"),
        ({"cursor": None}, "record 1: cursor"),
        ({"disclosed": {"reporters": 1.5}}, "record 1: disclosed.reporters"),
    ],
)
def test_bad_alert_records_name_the_record_and_field(change: dict[str, Any], field: str) -> None:
    error = _error([dict(samples.alert_records()[0], **change)], "alerts")
    assert error.field == field
    assert samples.IBAN_RAW not in error.diagnostics()


def test_non_object_and_unknown_source_are_refused() -> None:
    assert _error([["row", 1]]).field == "record 1: record"
    assert _error(samples.match_records(), "csv").field == "source"


def test_an_identifier_that_does_not_canonicalise_is_refused_without_echoing_it() -> None:
    record = dict(samples.match_records()[0], value="NL00 FAKE 0000 0000 00")
    finding = read_records([record])[0]
    with pytest.raises(ExportError) as caught:
        finding.canonical()
    assert caught.value.field == "record 1: value"
    assert "FAKE" not in caught.value.diagnostics()
