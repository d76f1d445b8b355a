"""The taxonomy mapping: complete, made of real vocabulary, and documented as it is."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.interop.errors import ExportError
from connectors.interop.mapping import (
    build_mapping,
    load_mapping,
    mapping_table,
    ppsgate_machinetag,
)

ROOT = Path(__file__).resolve().parents[4]
DATA = ROOT / "policies" / "data"

#: Values of the MISP taxonomies the mapping uses (MISP/misp-taxonomies machinetag.json),
#: so a typo in a tag fails here rather than as a stray free tag in a partner's MISP.
MISP_VOCABULARY = {
    "rsit:fraud": {"unauthorized-use-of-resources", "copyright", "masquerade", "phishing"},
    "rsit:information-gathering": {"scanner", "sniffing", "social-engineering"},
    "circl:incident-classification": {
        "spam", "system-compromise", "scan", "denial-of-service", "copyright-issue", "phishing",
        "malware", "XSS", "vulnerability", "fastflux", "sql-injection", "information-leak",
        "scam", "cryptojacking", "locker", "screenlocker", "wiper",
    },
}  # fmt: skip
DIAMOND_MODEL = {"Adversary", "Capability", "Infrastructure", "Victim"}
#: STIX 2.1 indicator-type-ov.
INDICATOR_TYPES = {
    "anomalous-activity",
    "anonymization",
    "benign",
    "compromised",
    "malicious-activity",
    "attribution",
    "unknown",
}
_MACHINE_TAG = re.compile(r'^(?P<predicate>[a-z-]+:[a-z-]+)="(?P<value>[^"]+)"$')


def _json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _build(document: Any) -> Any:
    return build_mapping(document, _json("taxonomy.json"), _json("sectors.json"))


def _check_tag(tag: str) -> None:
    if tag.startswith("diamond-model:"):
        assert tag.removeprefix("diamond-model:") in DIAMOND_MODEL, tag
        return
    match = _MACHINE_TAG.match(tag)
    assert match, tag
    assert match["value"] in MISP_VOCABULARY[match["predicate"]], tag


def test_every_taxonomy_category_and_role_is_mapped() -> None:
    mapping = load_mapping()
    assert set(mapping.categories) == set(_json("taxonomy.json")["categories"])
    assert set(mapping.roles) == set(_json("taxonomy.json")["roles"])
    assert {
        "phishing",
        "purchase_fraud",
        "sales_fraud",
        "fake_webshop",
        "spoofing",
        "bank_helpdesk_fraud",
        "friend_in_need_fraud",
        "money_mule",
        "cash_out",
        "identity_fraud",
        "investment_fraud",
    } <= set(mapping.categories)


def test_mapping_uses_real_misp_and_stix_vocabulary() -> None:
    mapping = load_mapping()
    for category in mapping.categories.values():
        for tag in category.misp_tags:
            _check_tag(tag)
        if category.capec is not None:
            assert re.fullmatch(r"CAPEC-\d+", category.capec)
            assert category.capec_url == (
                f"https://capec.mitre.org/data/definitions/{category.capec[6:]}.html"
            )
    for role in [*mapping.roles.values(), mapping.undisclosed_role]:
        assert set(role.stix_indicator_types) <= INDICATOR_TYPES
        for tag in role.misp_tags:
            _check_tag(tag)
    assert {ident.misp_type for ident in mapping.identifiers.values()} == {
        "iban",
        "phone-number",
        "email",
        "domain",
        "url",
        "text",
    }


def test_confidence_follows_the_stix_admiralty_table() -> None:
    # STIX 2.1 Appendix A, "Admiralty Credibility" to STIX confidence.
    mapping = load_mapping()
    assert {grade: mapping.confidence(grade) for grade in "123456"} == {
        "1": 90,
        "2": 70,
        "3": 50,
        "4": 30,
        "5": 10,
        "6": None,
    }


def test_credibility_of_hits() -> None:
    mapping = load_mapping()
    assert mapping.credibility(corroboration=5, disputed=False) == "1"
    assert mapping.credibility(corroboration=3, disputed=False) == "1"
    assert mapping.credibility(corroboration=2, disputed=False) == "2"
    assert mapping.credibility(corroboration=1, disputed=False) == "3"
    assert mapping.credibility(corroboration=0, disputed=False) == "6"
    assert mapping.credibility(corroboration=None, disputed=False) == "6"
    assert mapping.credibility(corroboration=9, disputed=True) == "4"


@given(st.integers(min_value=0, max_value=50))
def test_more_corroboration_never_lowers_credibility(reporters: int) -> None:
    mapping = load_mapping()
    fewer = mapping.credibility(corroboration=reporters, disputed=False)
    more = mapping.credibility(corroboration=reporters + 1, disputed=False)
    rank = {"1": 0, "2": 1, "3": 2, "6": 3}
    assert rank[more] <= rank[fewer]


def test_roles_combine_and_a_victim_is_never_for_blocking() -> None:
    mapping = load_mapping()
    both = mapping.role_mapping(["suspect", "mule"])
    assert both.stix_indicator_types == ("malicious-activity",)
    assert both.to_ids is True
    with_victim = mapping.role_mapping(["suspect", "victim"])
    assert with_victim.to_ids is False
    assert set(with_victim.stix_indicator_types) == {"malicious-activity", "compromised"}
    assert mapping.role_mapping(None) == mapping.undisclosed_role
    assert mapping.role_mapping(["unheard-of"]) == mapping.undisclosed_role


def test_a_category_newer_than_the_mapping_maps_to_itself() -> None:
    category = load_mapping().category("qr_code_fraud")
    assert (category.attack_pattern, category.capec, category.misp_tags) == (
        "qr_code_fraud",
        None,
        (),
    )
    assert category.ppsgate_tag == 'ppsgate:category="qr_code_fraud"'


def _broken(change: Any) -> ExportError:
    document = copy.deepcopy(_json("interop_mapping.json"))
    change(document)
    with pytest.raises(ExportError) as caught:
        _build(document)
    return caught.value


def test_a_mapping_missing_a_category_is_refused() -> None:
    error = _broken(lambda doc: doc["categories"].pop("cash_out"))
    assert "cash_out" in error.reason


def test_a_mapping_with_an_unknown_category_is_refused() -> None:
    error = _broken(lambda doc: doc["categories"].update(lottery=doc["categories"]["phishing"]))
    assert error.field == "mapping.categories"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda doc: doc["credibility"]["by_reporters"].reverse(), "credibility.by_reporters"),
        (lambda doc: doc["credibility"].update(disputed="7"), "credibility"),
        (
            lambda doc: doc["admiralty_to_stix_confidence"].update({"1": 101}),
            "admiralty_to_stix_confidence",
        ),
        (lambda doc: doc["categories"]["phishing"].update(capec="98"), "categories.phishing.capec"),
        (
            lambda doc: doc["categories"]["phishing"].update(misp_tags="x"),
            "categories.phishing.misp_tags",
        ),
        (lambda doc: doc.update(published="2025-01-01"), "mapping.published"),
        (lambda doc: doc["identifier_types"].pop("phone"), "identifier_types.phone"),
        (lambda doc: doc["roles"].pop("victim"), "mapping.roles"),
        (lambda doc: doc["roles"]["mule"].update(to_ids="yes"), "roles.mule.to_ids"),
    ],
)  # fmt: skip
def test_malformed_mappings_name_the_field(change: Any, field: str) -> None:
    assert _broken(change).field == field


def test_docs_table_is_generated_from_the_data() -> None:
    text = (ROOT / "docs" / "interop.md").read_text(encoding="utf-8")
    start, end = "<!-- interop-mapping:start -->\n", "\n<!-- interop-mapping:end -->"
    assert start in text, "docs/interop.md lacks the interop-mapping block"
    block = text.split(start, 1)[1].split(end, 1)[0]
    assert block == mapping_table(), (
        "docs/interop.md mapping tables are stale; regenerate with `python -c "
        "'from connectors.interop.mapping import mapping_table; print(mapping_table())'`"
    )


def test_ppsgate_machinetag_covers_every_tag_the_feed_uses() -> None:
    mapping = load_mapping()
    taxonomy = ppsgate_machinetag(mapping)
    assert taxonomy["namespace"] == "ppsgate"
    values = {
        block["predicate"]: {entry["value"] for entry in block["entry"]}
        for block in taxonomy["values"]
    }
    assert {p["value"] for p in taxonomy["predicates"]} == set(values)
    assert values["category"] == set(mapping.categories)
    assert values["role"] == set(mapping.roles)
    assert values["sector"] == set(_json("sectors.json"))
    assert values["status"] == {"disputed", "retracted"}
    assert values["source"] == {"match", "alerts"}
