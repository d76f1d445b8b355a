"""The policy data documents are consistent and carry what the scenarios need."""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.policy.bundle import load_bundle
from gateway.policy.decision import Action, Disclosure

DATA = load_bundle().data
PARTNERS = DATA["partners"]
PURPOSES = DATA["purposes"]
KINDS = {"iban", "phone", "email", "domain", "url", "crypto_address", "social_account"}
LEVELS = {level.value for level in Disclosure}


def test_demo_partners_and_their_sectors() -> None:
    expected = {
        "bank-a": "bank",
        "bank-b": "bank",
        "telecom-a": "telecom",
        "marketplace-a": "marketplace",
        "psp-a": "psp",
        "registry-nl": "registry",
        "police-nl": "police",
        "helpdesk-pps": "helpdesk",
        "dpo-pps": "partnership_dpo",
    }
    for partner_id, sector in expected.items():
        assert PARTNERS[partner_id]["sector"] == sector
    assert PARTNERS["psp-b"]["status"] == "suspended"


def test_required_sectors_exist() -> None:
    assert {
        "bank",
        "telecom",
        "marketplace",
        "psp",
        "registry",
        "police",
        "helpdesk",
        "partnership_dpo",
    } <= set(DATA["sectors"])


@pytest.mark.parametrize("partner_id", sorted(PARTNERS))
def test_registrations_refer_to_known_things(partner_id: str) -> None:
    partner = PARTNERS[partner_id]
    assert partner["sector"] in DATA["sectors"]
    assert partner["status"] in {"active", "suspended"}
    for purpose_id, registration in partner["registrations"].items():
        purpose = PURPOSES[purpose_id]
        assert registration["legal_basis"] in DATA["legal_bases"]
        assert set(registration["instruments"]) <= set(DATA["instruments"])
        assert set(registration.get("extra_kinds", [])) <= KINDS
        if purpose["criminal_data"]:
            assert registration["art10"] in DATA["art10_conditions"], purpose_id


@pytest.mark.parametrize("purpose_id", sorted(PURPOSES))
def test_purposes_are_complete(purpose_id: str) -> None:
    purpose = PURPOSES[purpose_id]
    assert set(purpose["actions"]) <= {action.value for action in Action}
    assert set(purpose["sectors"]) <= set(DATA["sectors"])
    assert set(purpose["kinds"]) <= KINDS
    categories = purpose["categories"]
    assert categories == "all" or set(categories) <= set(DATA["taxonomy"]["categories"])
    for sector, levels in purpose["disclosure"].items():
        assert sector in purpose["sectors"]
        assert set(levels) <= LEVELS
        assert "hit" in levels
    corroboration = purpose["corroboration"]
    if corroboration is not None:
        assert 1 <= corroboration["min_reporters"] <= corroboration["min_reports"]
    assert set(purpose["obligations"]) <= set(DATA["obligations"])
    assert set(purpose["retention_days"]["by_category"]) <= set(DATA["taxonomy"]["categories"])
    for key in (
        "label_en",
        "label_nl",
        "description_en",
        "description_nl",
        "data_subjects_en",
        "data_categories_en",
    ):
        assert purpose[key], key


def test_purposes_the_issue_names() -> None:
    assert {
        "indicator_submission",
        "payment_screening",
        "batch_screening",
        "watchlist_alerts",
        "police_referral",
        "civil_recovery",
        "takedown",
        "spoofing_prevention",
    } <= set(PURPOSES)


def test_alert_default_is_the_marketplace_practice() -> None:
    assert PURPOSES["watchlist_alerts"]["corroboration"] == {"min_reports": 3, "min_reporters": 1}
    assert PURPOSES["batch_screening"]["corroboration"]["min_reporters"] > 1


def test_reporter_identity_only_for_police_and_civil_recovery() -> None:
    granting = {
        purpose_id
        for purpose_id, purpose in PURPOSES.items()
        if any("reporter" in levels for levels in purpose["disclosure"].values())
    }
    assert granting == {"police_referral", "civil_recovery"}


def test_telecom_learns_only_the_protected_role_when_screening_caller_ids() -> None:
    assert PURPOSES["spoofing_prevention"]["disclosure"] == {"telecom": ["hit", "role"]}


def test_taxonomy_is_the_joint_one() -> None:
    taxonomy = DATA["taxonomy"]
    assert taxonomy["version"]
    assert set(taxonomy["categories"]) == {
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
    }
    assert set(taxonomy["roles"]) == {
        "suspect",
        "mule",
        "mule_witting",
        "mule_unwitting",
        "mule_recruited",
        "takeover_victim",
        "victim",
    }
    for role in taxonomy["roles"].values():
        assert role["label_en"]
        assert role["label_nl"]


def test_evidence_levels_are_ranked_and_bilingual() -> None:
    levels = DATA["evidence"]["levels"]
    assert list(levels) == [
        "victim_statement",
        "police_report",
        "investigation_confirmed",
        "court_ruling",
    ]
    assert [level["rank"] for level in levels.values()] == [1, 2, 3, 4]
    for level in levels.values():
        assert level["label_en"]
        assert level["label_nl"]
    assert DATA["evidence"]["retention_extension_reasons"]


def test_role_retention_is_never_longer_than_the_category_maximum() -> None:
    """A role shortens a report's default retention; it never lengthens the maximum."""
    retention = PURPOSES["indicator_submission"]["retention_days"]
    longest = max([retention["default"], *retention["by_category"].values()])
    for role, days in retention["by_role"].items():
        assert role in DATA["taxonomy"]["roles"]
        assert 0 < days <= longest
    assert retention["by_role"]["mule_unwitting"] < retention["by_role"]["mule_witting"]


def test_psr_profile_shares_payee_identifiers_between_providers_only() -> None:
    psr = PURPOSES["psr_fraud_sharing"]
    assert psr["profile"] == "psr"
    assert "psr" in DATA["profiles"]["profiles"]
    assert psr["kinds"] == ["iban"]
    assert set(psr["sectors"]) == {"bank", "psp"}
    assert psr["corroboration"]["min_victims_one_reporter"] == 2
    assert set(psr["corroboration"]["reporter_sectors"]) == {"bank", "psp"}
    assert "no-termination-on-flag-alone" in psr["obligations"]
    for partner in PARTNERS.values():
        if "psr_fraud_sharing" in partner.get("registrations", {}):
            assert partner["sector"] in psr["sectors"]


def test_legal_bases_cover_article_6_and_law_enforcement() -> None:
    bases = DATA["legal_bases"]
    assert {f"art6_1_{x}" for x in "abcdef"} | {"law_enforcement"} == set(bases)
    assert bases["law_enforcement"]["sectors"] == ["police"]
    assert DATA["art10_conditions"]["uavg_33_4_c"]["requires_instrument"] == "permit"


def test_instrument_dates_are_rfc3339_utc() -> None:
    for instrument_id, instrument in DATA["instruments"].items():
        for key in ("valid_from", "valid_until"):
            value = instrument[key]
            if value is None:
                continue
            assert value.endswith("Z"), instrument_id
            assert datetime.fromisoformat(value).tzinfo is not None


def test_suppression_list_exists_and_is_empty() -> None:
    assert DATA["suppression"]["tokens"] == []
