package gateway.legal_test

base := {
	"action": "match:query",
	"partner_id": "bank-a",
	"purpose": "payment_screening",
	"legal_basis": "art6_1_c",
	"kinds": ["iban"],
	"categories": [],
	"batch_size": 1,
	"context": {},
}

req(overrides) := object.union(base, overrides)

test_missing_basis_denied if {
	"legal-basis-missing" in data.gateway.legal.deny with input as req({"legal_basis": null})
}

test_empty_basis_denied if {
	"legal-basis-missing" in data.gateway.legal.deny with input as req({"legal_basis": ""})
}

test_given_basis_not_missing if {
	not "legal-basis-missing" in data.gateway.legal.deny with input as base
}

test_unknown_basis_denied if {
	"legal-basis-unknown" in data.gateway.legal.deny with input as req({"legal_basis": "art6_1_z"})
}

test_known_basis_not_unknown if {
	not "legal-basis-unknown" in data.gateway.legal.deny with input as base
}

test_switching_basis_denied if {
	"legal-basis-mismatch" in data.gateway.legal.deny with input as req({"legal_basis": "art6_1_f"})
}

test_registered_basis_matches if {
	not "legal-basis-mismatch" in data.gateway.legal.deny with input as base
}

test_law_enforcement_reserved_for_police if {
	"legal-basis-not-available-to-sector" in data.gateway.legal.deny with input as req({"legal_basis": "law_enforcement"})
		with data.ppsgate.partners["bank-a"].registrations.payment_screening.legal_basis as "law_enforcement"
}

test_law_enforcement_available_to_police if {
	not "legal-basis-not-available-to-sector" in data.gateway.legal.deny with input as req({"partner_id": "police-nl", "purpose": "police_referral", "legal_basis": "law_enforcement"})
}

test_legal_obligation_without_law_denied if {
	"legal-basis-instrument-missing" in data.gateway.legal.deny with input as base
		with data.ppsgate.partners["bank-a"].registrations.payment_screening.instruments as ["ap-permit-2025", "dpia-pps-2025"]
}

test_legitimate_interest_without_dpia_denied if {
	"legal-basis-instrument-missing" in data.gateway.legal.deny with input as req({"purpose": "watchlist_alerts", "legal_basis": "art6_1_f"})
		with data.ppsgate.partners["bank-a"].registrations.watchlist_alerts.instruments as ["pps-covenant-2025", "ap-permit-2025"]
}

test_basis_with_instruments_not_denied if {
	not "legal-basis-instrument-missing" in data.gateway.legal.deny with input as base
}

test_criminal_data_without_art10_condition_denied if {
	"art10-condition-missing" in data.gateway.legal.deny with input as base
		with data.ppsgate.partners["bank-a"].registrations.payment_screening as {"legal_basis": "art6_1_c", "instruments": ["wwft", "ap-permit-2025", "dpia-pps-2025"]}
}

test_non_criminal_purpose_needs_no_art10 if {
	not "art10-condition-missing" in data.gateway.legal.deny with input as req({"action": "audit:read", "purpose": "accountability", "kinds": []})
}

test_art10_without_permit_denied if {
	"art10-permit-missing" in data.gateway.legal.deny with input as req({"partner_id": "psp-a", "purpose": "takedown", "legal_basis": "art6_1_f", "kinds": ["domain"]})
}

test_art10_with_permit_not_denied if {
	not "art10-permit-missing" in data.gateway.legal.deny with input as base
}

test_art10_condition_without_its_instrument_denied if {
	"art10-instrument-missing" in data.gateway.legal.deny with input as req({"partner_id": "bailiff-nl", "purpose": "civil_recovery", "legal_basis": "art6_1_f"})
		with data.ppsgate.partners["bailiff-nl"].registrations.civil_recovery.instruments as ["dpia-pps-2025"]
}

test_art10_condition_with_its_instrument_not_denied if {
	not "art10-instrument-missing" in data.gateway.legal.deny with input as req({"partner_id": "bailiff-nl", "purpose": "civil_recovery", "legal_basis": "art6_1_f"})
}

test_criminal_law_condition_reserved_for_police if {
	"art10-condition-not-available-to-sector" in data.gateway.legal.deny with input as base
		with data.ppsgate.partners["bank-a"].registrations.payment_screening.art10 as "uavg_33_1_a"
}

test_criminal_law_condition_available_to_police if {
	not "art10-condition-not-available-to-sector" in data.gateway.legal.deny with input as req({"partner_id": "police-nl", "purpose": "police_referral", "legal_basis": "law_enforcement"})
}

test_legal_basis_valid_ground if {
	"legal-basis-valid" in data.gateway.legal.grounds with input as base
}

test_no_basis_ground_on_mismatch if {
	not "legal-basis-valid" in data.gateway.legal.grounds with input as req({"legal_basis": "art6_1_f"})
}

test_art10_condition_met_ground if {
	"art10-condition-met" in data.gateway.legal.grounds with input as base
}

test_no_art10_ground_without_permit if {
	not "art10-condition-met" in data.gateway.legal.grounds with input as req({"partner_id": "psp-a", "purpose": "takedown", "legal_basis": "art6_1_f", "kinds": ["domain"]})
}

test_refs_cite_the_article if {
	data.gateway.legal.refs["legal-basis-valid"] == ["GDPR Art. 6(1)(c)"] with input as base
}

test_every_basis_has_article_and_texts if {
	every id, basis in data.ppsgate.legal_bases {
		basis.article != ""
		basis.text_en != ""
		basis.text_nl != ""
	}
}
