"""STIX 2.1 bundles: written, parsed back by ``stix2``, and holding the expected objects."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import stix2
from hypothesis import given
from hypothesis import strategies as st
from stix2patterns.v21.pattern import Pattern
from stix2patterns.validator import run_validator

from connectors.canonical.kinds import Kind
from connectors.interop.errors import ExportError
from connectors.interop.ids import stable_id
from connectors.interop.mapping import load_mapping
from connectors.interop.stix import build_stix_bundle, pattern_for, write_stix_bundle
from connectors.interop.tlp import Tlp
from tests.unit.connectors.interop import samples

#: STIX 2.1 §2.9: deterministic SCO ids are UUIDv5 in this namespace over the canonical JSON
#: of the id-contributing properties. OpenCTI computes Bank-Account and Phone-Number ids so.
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")


def _sco_id(stix_type: str, contributing: dict[str, str]) -> str:
    text = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{stix_type}--{uuid.uuid5(SCO_NAMESPACE, text)}"


def _round_trip(records: list[dict[str, Any]], **options: Any) -> Any:
    out = io.StringIO()
    write_stix_bundle(records, out, partner=samples.PARTNER, now=samples.NOW, **options)
    return stix2.parse(out.getvalue(), allow_custom=True)


def _by_type(bundle: Any, stix_type: str) -> list[Any]:
    return [obj for obj in bundle.objects if obj["type"] == stix_type]


def _indicator_for(bundle: Any, pattern: str) -> Any:
    found = [obj for obj in _by_type(bundle, "indicator") if obj["pattern"] == pattern]
    assert len(found) == 1, pattern
    return found[0]


def test_match_hits_round_trip_with_expected_objects(tmp_path: Path) -> None:
    path = tmp_path / "hits.stix.json"
    summary = write_stix_bundle(
        samples.match_records(), path, partner=samples.PARTNER, now=samples.NOW
    )
    bundle = stix2.parse(path.read_text(encoding="utf-8"), allow_custom=True)

    assert summary.indicators == 3
    assert summary.skipped_misses == 1
    assert summary.objects == len(bundle.objects)
    indicators = _by_type(bundle, "indicator")
    assert sorted(obj["pattern"] for obj in indicators) == sorted(
        [
            f"[bank-account:iban = '{samples.IBAN}']",
            f"[phone-number:value = '{samples.PHONE}']",
            f"[domain-name:value = '{samples.DOMAIN}']",
        ]
    )
    assert samples.EMAIL not in path.read_text(encoding="utf-8")  # the miss is left out
    [bank_account] = _by_type(bundle, "bank-account")
    assert (bank_account["iban"], bank_account["value"]) == (samples.IBAN, samples.IBAN)
    assert bank_account["id"] == _sco_id("bank-account", {"iban": samples.IBAN})
    [phone] = _by_type(bundle, "phone-number")
    assert phone["id"] == _sco_id("phone-number", {"value": samples.PHONE})
    [domain] = _by_type(bundle, "domain-name")
    assert domain["id"] == _sco_id("domain-name", {"value": samples.DOMAIN})


def test_indicator_carries_mapping_confidence_expiry_and_author() -> None:
    bundle = _round_trip(samples.match_records())
    [identity] = _by_type(bundle, "identity")
    assert (identity["name"], identity["identity_class"]) == (samples.PARTNER, "organization")

    iban = _indicator_for(bundle, f"[bank-account:iban = '{samples.IBAN}']")
    assert iban["created_by_ref"] == identity["id"]
    assert iban["confidence"] == 90  # 3 reporting partners: Admiralty 1 -> 90
    assert iban["x_ppsgate_admiralty_credibility"] == "1"
    assert iban["indicator_types"] == ["malicious-activity"]
    assert sorted(iban["labels"]) == ["money_mule", "phishing"]
    assert iban["valid_from"].isoformat() == "2024-11-02T09:00:00+00:00"
    assert iban["valid_until"].isoformat() == "2026-02-20T16:30:00+00:00"
    assert iban["x_ppsgate_disclosed_levels"] == [
        "hit",
        "count",
        "category",
        "role",
        "sectors",
        "dates",
        "reporter",
    ]
    assert iban["x_opencti_main_observable_type"] == "Bank-Account"
    # Reporter identities and carried columns stay in the analyst exports.
    serialized = iban.serialize()
    assert "bank-b" not in serialized
    assert "CASE-17" not in serialized

    phone = _indicator_for(bundle, f"[phone-number:value = '{samples.PHONE}']")
    assert "confidence" not in phone  # count not disclosed: Admiralty 6, no STIX value
    assert phone["indicator_types"] == ["unknown"]

    domain = _indicator_for(bundle, f"[domain-name:value = '{samples.DOMAIN}']")
    assert domain["confidence"] == 30  # disputed: Admiralty 4
    assert domain["labels"] == ["disputed"]


def test_relationships_link_indicator_observable_and_attack_patterns() -> None:
    bundle = _round_trip(samples.match_records())
    iban = _indicator_for(bundle, f"[bank-account:iban = '{samples.IBAN}']")
    relations = {
        (rel["relationship_type"], rel["target_ref"])
        for rel in _by_type(bundle, "relationship")
        if rel["source_ref"] == iban["id"]
    }
    patterns = {obj["id"]: obj for obj in _by_type(bundle, "attack-pattern")}
    [bank_account] = _by_type(bundle, "bank-account")
    assert ("based-on", bank_account["id"]) in relations
    indicated = {patterns[target]["name"] for kind, target in relations if kind == "indicates"}
    assert indicated == {"Phishing", "Money mule"}
    phishing = next(obj for obj in patterns.values() if obj["name"] == "Phishing")
    references = {ref["source_name"]: ref["external_id"] for ref in phishing["external_references"]}
    assert references == {"ppsgate-fraud-taxonomy": "phishing", "capec": "CAPEC-98"}
    every_id = {obj["id"] for obj in bundle.objects}
    for rel in _by_type(bundle, "relationship"):
        assert {rel["source_ref"], rel["target_ref"]} <= every_id


@pytest.mark.parametrize("level", list(Tlp))
def test_every_object_is_marked_with_the_chosen_tlp(level: Tlp) -> None:
    bundle = _round_trip(samples.match_records(), tlp=level.label)
    [marking] = _by_type(bundle, "marking-definition")
    assert marking["id"] == level.stix_id
    assert marking["name"] == level.label
    extension = marking["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]
    assert extension["tlp_2_0"] == level.value
    for obj in bundle.objects:
        if obj["type"] not in {"marking-definition", "attack-pattern"}:
            assert obj["object_marking_refs"] == [level.stix_id], obj["type"]


def test_default_marking_is_amber_strict() -> None:
    bundle = _round_trip(samples.match_records())
    [marking] = _by_type(bundle, "marking-definition")
    assert marking["id"] == "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"


def test_alert_batch_keeps_the_latest_state_of_each_identifier() -> None:
    bundle = _round_trip(samples.alert_records())
    iban = _indicator_for(bundle, f"[bank-account:iban = '{samples.IBAN}']")
    # The update (cursor 13) replaced the first alert (cursor 11) under the same id.
    assert iban["x_ppsgate_reporters"] == 3
    assert iban["created"].isoformat() == "2025-03-01T11:00:00+00:00"
    assert iban["x_ppsgate_source"] == "alerts"
    email = _indicator_for(bundle, f"[email-addr:value = '{samples.EMAIL}']")
    assert email["confidence"] == 50  # one reporting partner: Admiralty 3
    assert [obj["value"] for obj in _by_type(bundle, "email-addr")] == [samples.EMAIL]


def test_retraction_revokes_the_same_indicator() -> None:
    first = _round_trip(samples.alert_records())
    retraction = samples.retraction_record(14, "email", samples.EMAIL_RAW, 6)
    second = _round_trip([retraction])
    pattern = f"[email-addr:value = '{samples.EMAIL}']"
    asserted = _indicator_for(first, pattern)
    revoked = _indicator_for(second, pattern)
    assert revoked["id"] == asserted["id"]
    assert revoked["revoked"] is True
    assert revoked["modified"] > asserted["modified"]
    assert "retracted by the reporting partner" in revoked["description"]


def test_ids_are_stable_and_output_is_deterministic() -> None:
    first, second = io.StringIO(), io.StringIO()
    for out in (first, second):
        write_stix_bundle(samples.match_records(), out, partner=samples.PARTNER, now=samples.NOW)
    assert first.getvalue() == second.getvalue()
    other = io.StringIO()
    write_stix_bundle(samples.match_records(), other, partner="bank-z", now=samples.NOW)
    ours = {
        obj["id"] for obj in _by_type(stix2.parse(first.getvalue(), allow_custom=True), "indicator")
    }
    theirs = {
        obj["id"] for obj in _by_type(stix2.parse(other.getvalue(), allow_custom=True), "indicator")
    }
    assert not ours & theirs  # each partner asserts its own indicators


def test_raw_spelling_and_canonical_spelling_give_one_indicator() -> None:
    records = samples.match_records()[:1]
    canonical = dict(records[0], row=9, value=samples.IBAN)
    bundle, summary = build_stix_bundle(
        [*records, canonical], partner=samples.PARTNER, now=samples.NOW
    )
    assert summary.indicators == 1
    assert len(_by_type(bundle, "indicator")) == 1


def test_unjoined_alerts_are_counted_not_guessed() -> None:
    record = dict(samples.alert_records()[0], value="")
    retraction = dict(samples.retraction_record(20, "", "", 5))
    _, summary = build_stix_bundle([record, retraction], partner=samples.PARTNER, now=samples.NOW)
    assert (summary.indicators, summary.revoked, summary.skipped_unjoined) == (0, 0, 2)


def test_rejected_rows_are_left_out() -> None:
    rejected = {"row": 5, "status": "rejected", "reason": "not a valid IBAN"}
    _, summary = build_stix_bundle(
        [rejected, samples.match_records()[0]], partner=samples.PARTNER, now=samples.NOW
    )
    assert (summary.indicators, summary.skipped_misses) == (1, 1)


def test_partner_is_required() -> None:
    with pytest.raises(ExportError, match="partner"):
        build_stix_bundle(samples.match_records(), partner=" ", now=samples.NOW)


def test_bundle_parses_without_our_custom_classes() -> None:
    """A consumer that never imported connectors.interop still parses the bundle."""
    out = io.StringIO()
    write_stix_bundle(samples.match_records(), out, partner=samples.PARTNER, now=samples.NOW)
    script = (
        "import json, sys, stix2\n"
        "bundle = stix2.parse(sys.stdin.read(), allow_custom=True)\n"
        "print(json.dumps(sorted(o['type'] for o in bundle.objects)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=out.getvalue(),
        capture_output=True,
        text=True,
        check=True,
    )
    types = json.loads(result.stdout)
    assert types.count("indicator") == 3
    assert "bank-account" in types
    assert "phone-number" in types


@given(
    local=st.text(
        alphabet=st.sampled_from("abcxyz019'\\.!#$%&*+/=?^_`{|}~-"), min_size=1, max_size=20
    )
)
def test_patterns_stay_valid_and_quote_the_value_exactly(local: str) -> None:
    value = f"{local}@example.nl"
    pattern = pattern_for(Kind.EMAIL, value, load_mapping())
    assert run_validator(pattern, stix_version="2.1") == [], pattern
    [(path, operator, literal)] = Pattern(pattern).inspect().comparisons["email-addr"]
    assert (path, operator) == (["value"], "=")
    assert re.sub(r"\\(.)", r"\1", literal[1:-1]) == value


def test_stable_id_shape() -> None:
    value = stable_id("indicator", "a", "b")
    assert value == stable_id("indicator", "a", "b")
    assert value != stable_id("indicator", "ab")
    prefix, _, suffix = value.partition("--")
    assert prefix == "indicator"
    assert uuid.UUID(suffix).version == 5
