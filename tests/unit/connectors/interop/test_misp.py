"""MISP feed directories: loaded back by PyMISP, appended without duplicates, retractions
as deletions, and ``manifest.json``/``hashes.csv`` as MISP and PyMISP's generator make them."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pymisp import MISPAttribute, MISPEvent
from pymisp.tools.feed import feed_meta_generator

from connectors.interop.errors import ExportError
from connectors.interop.misp import write_misp_feed
from tests.unit.connectors.interop import samples

LATER = samples.NOW + timedelta(hours=1)


def _write(records: list[dict[str, Any]], directory: Path, **options: Any) -> Any:
    options.setdefault("now", samples.NOW)
    return write_misp_feed(records, directory, partner=samples.PARTNER, **options)


def _events(directory: Path) -> dict[str, MISPEvent]:
    events = {}
    for path in sorted(directory.glob("*.json")):
        if path.name == "manifest.json":
            continue
        event = MISPEvent()
        event.load_file(str(path))
        assert path.name == f"{event.uuid}.json"
        events[event.uuid] = event
    return events


def _attributes(directory: Path) -> dict[str, MISPAttribute]:
    return {
        attribute.value: attribute
        for event in _events(directory).values()
        for attribute in event.attributes
    }


def _tags(attribute: MISPAttribute) -> set[str]:
    return {tag.name for tag in attribute.tags}


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_alert_batch_loads_back_with_expected_attributes_and_tags(tmp_path: Path) -> None:
    summary = _write(samples.alert_records(), tmp_path)

    events = _events(tmp_path)
    assert list(events) == [summary.new_event]
    [event] = events.values()
    assert event.Orgc.name == samples.PARTNER
    assert {tag.name for tag in event.tags} == {"tlp:amber+strict", 'ppsgate:source="alerts"'}
    assert event.published is True
    attributes = _attributes(tmp_path)
    assert set(attributes) == {samples.IBAN, samples.EMAIL}
    assert summary.added == 2  # the update of the IBAN revised the same attribute

    iban = attributes[samples.IBAN]
    assert (iban.type, iban.category, iban.to_ids) == ("iban", "Financial fraud", True)
    assert _tags(iban) == {
        'rsit:fraud="phishing"',
        'circl:incident-classification="phishing"',
        'ppsgate:category="phishing"',
        'ppsgate:category="money_mule"',
        "diamond-model:Adversary",
        "diamond-model:Infrastructure",
        'ppsgate:role="mule"',
        'ppsgate:role="suspect"',
        'ppsgate:sector="bank"',
        'ppsgate:sector="police"',
        'admiralty-scale:information-credibility="1"',
    }
    email = attributes[samples.EMAIL]
    assert (email.type, email.category) == ("email", "Social network")
    assert email.to_ids is False  # role not disclosed: not for automatic blocking
    assert 'admiralty-scale:information-credibility="3"' in _tags(email)
    assert 'rsit:fraud="masquerade"' in _tags(email)
    assert "K-100" not in (tmp_path / f"{event.uuid}.json").read_text(encoding="utf-8")


def test_match_hits_become_one_event_of_typed_attributes(tmp_path: Path) -> None:
    summary = _write(samples.match_records(), tmp_path, tlp="red")
    assert (summary.added, summary.skipped_misses) == (3, 1)
    attributes = _attributes(tmp_path)
    assert {value: attr.type for value, attr in attributes.items()} == {
        samples.IBAN: "iban",
        samples.PHONE: "phone-number",
        samples.DOMAIN: "domain",
    }
    domain = attributes[samples.DOMAIN]
    assert domain.to_ids is False  # disputed
    assert {'ppsgate:status="disputed"', 'admiralty-scale:information-credibility="4"'} <= _tags(
        domain
    )
    [event] = _events(tmp_path).values()
    assert "tlp:red" in {tag.name for tag in event.tags}
    assert attributes[samples.IBAN].first_seen.isoformat() == "2024-11-02T09:00:00+00:00"


def test_rerunning_the_same_records_changes_nothing(tmp_path: Path) -> None:
    _write(samples.alert_records(), tmp_path)
    before = _snapshot(tmp_path)
    summary = _write(samples.alert_records(), tmp_path, now=LATER)
    assert summary.new_event is None
    assert summary.revised_events == ()
    assert (summary.added, summary.updated, summary.unchanged) == (0, 0, 2)
    assert _snapshot(tmp_path) == before


def test_a_new_batch_appends_an_event_and_revises_known_identifiers(tmp_path: Path) -> None:
    first = _write(samples.alert_records()[:2], tmp_path)
    first_event = _events(tmp_path)[first.new_event]
    first_stamp = first_event.timestamp

    batch = [samples.alert_records()[2], *samples.match_records()[1:2]]
    batch[1] = {
        "cursor": 14,
        "type": "alert",
        "watch_id": 9,
        "kind": "phone",
        "value": samples.PHONE_RAW,
        "disclosed": {"reports": 2, "reporters": 2, "categories": ["spoofing"]},
        "created_at": "2025-03-01T12:30:00Z",
    }
    second = _write(batch, tmp_path, now=LATER)

    events = _events(tmp_path)
    assert set(events) == {first.new_event, second.new_event}
    assert second.revised_events == (first.new_event,)
    assert [attr.value for attr in events[second.new_event].attributes] == [samples.PHONE]
    revised = events[first.new_event]
    assert revised.timestamp > first_stamp
    iban = next(attr for attr in revised.attributes if attr.value == samples.IBAN)
    assert 'admiralty-scale:information-credibility="1"' in _tags(iban)
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest) == set(events)
    assert manifest[first.new_event]["timestamp"] == int(revised.timestamp.timestamp())


def test_retraction_deletes_the_attribute_in_the_next_revision(tmp_path: Path) -> None:
    first = _write(samples.alert_records(), tmp_path)
    retraction = samples.retraction_record(15, "email", samples.EMAIL_RAW, 6)
    summary = _write([retraction], tmp_path, now=LATER)

    assert summary.deleted == 1
    assert summary.new_event is None
    assert summary.revised_events == (first.new_event,)
    email = _attributes(tmp_path)[samples.EMAIL]
    assert email.deleted is True
    assert email.to_ids is False
    assert 'ppsgate:status="retracted"' in _tags(email)
    assert email.timestamp == LATER
    hashes = (tmp_path / "hashes.csv").read_text(encoding="utf-8")
    assert hashlib.md5(samples.EMAIL.encode()).hexdigest() not in hashes
    assert hashlib.md5(samples.IBAN.encode()).hexdigest() in hashes

    again = _write([retraction], tmp_path, now=LATER + timedelta(hours=1))
    assert (again.deleted, again.unchanged, again.revised_events) == (0, 1, ())


def test_an_alert_after_a_retraction_restores_the_attribute(tmp_path: Path) -> None:
    _write(samples.alert_records(), tmp_path)
    _write([samples.retraction_record(15, "email", samples.EMAIL_RAW, 6)], tmp_path, now=LATER)
    realert = dict(samples.alert_records()[1], cursor=16, created_at="2025-03-03T09:00:00Z")
    summary = _write([realert], tmp_path, now=LATER + timedelta(days=1))
    assert summary.updated == 1
    email = _attributes(tmp_path)[samples.EMAIL]
    assert email.deleted is False
    assert 'ppsgate:status="retracted"' not in _tags(email)


def test_manifest_and_hashes_match_pymisp_feed_generator(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    _write(samples.alert_records(), ours)
    _write(samples.match_records(), ours, now=LATER)
    reference = tmp_path / "reference"
    shutil.copytree(ours, reference)
    (reference / "manifest.json").unlink()
    (reference / "hashes.csv").unlink()
    feed_meta_generator(reference)

    assert json.loads((ours / "manifest.json").read_text(encoding="utf-8")) == json.loads(
        (reference / "manifest.json").read_text(encoding="utf-8")
    )
    ours_hashes = sorted((ours / "hashes.csv").read_text(encoding="utf-8").splitlines())
    reference_hashes = sorted((reference / "hashes.csv").read_text().splitlines())
    assert ours_hashes == reference_hashes
    for line in ours_hashes:
        digest, event_uuid = line.split(",")
        assert len(digest) == 32
        assert (ours / f"{event_uuid}.json").is_file()


def test_event_files_hold_a_single_event_in_feed_form(tmp_path: Path) -> None:
    summary = _write(samples.alert_records(), tmp_path)
    document = json.loads((tmp_path / f"{summary.new_event}.json").read_text(encoding="utf-8"))
    assert list(document) == ["Event"]
    event = document["Event"]
    assert {"uuid", "info", "date", "timestamp", "Orgc", "Tag", "Attribute"} <= set(event)
    assert "distribution" not in event  # the subscribing instance decides


def test_a_foreign_file_in_the_feed_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text('{"Event": {"uuid": "x"}}', encoding="utf-8")
    with pytest.raises(ExportError) as caught:
        _write(samples.alert_records(), tmp_path)
    assert caught.value.field == "notes.json"


def test_org_uuid_can_be_given(tmp_path: Path) -> None:
    org = "5f6e7d8c-1111-4222-8333-944455556666"
    _write(samples.alert_records(), tmp_path, org_uuid=org)
    [event] = _events(tmp_path).values()
    assert event.Orgc.uuid == org
