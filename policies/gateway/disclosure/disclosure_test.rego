package gateway.disclosure_test

base := {
	"action": "match:query",
	"partner_id": "bank-a",
	"purpose": "payment_screening",
	"legal_basis": "art6_1_c",
	"kinds": ["iban"],
	"categories": [],
	"batch_size": 1,
	"disclosure_requested": [],
	"context": {},
}

req(overrides) := object.union(base, overrides)

police := req({"partner_id": "police-nl", "purpose": "police_referral", "legal_basis": "law_enforcement"})

bailiff := req({"partner_id": "bailiff-nl", "purpose": "civil_recovery", "legal_basis": "art6_1_f"})

spoofing := req({"partner_id": "telecom-a", "purpose": "spoofing_prevention", "legal_basis": "art6_1_f", "kinds": ["phone"]})

test_bank_payment_screening_levels if {
	data.gateway.disclosure.granted == {"hit", "count", "category"} with input as base
}

test_telecom_learns_only_protected_role if {
	data.gateway.disclosure.granted == {"hit", "role"} with input as spoofing
}

test_police_learn_reporter if {
	"reporter" in data.gateway.disclosure.granted with input as police
}

test_bailiff_learns_reporter_for_civil_recovery if {
	"reporter" in data.gateway.disclosure.granted with input as bailiff
}

test_reporter_needs_the_registered_basis if {
	not "reporter" in data.gateway.disclosure.granted with input as bailiff
		with data.ppsgate.purposes.civil_recovery.reporter_legal_bases as ["law_enforcement"]
}

test_registration_narrows_levels if {
	data.gateway.disclosure.granted == {"hit"} with input as base
		with data.ppsgate.partners["bank-a"].registrations.payment_screening.disclosure as ["hit"]
}

test_submission_discloses_nothing if {
	count(data.gateway.disclosure.granted) == 0 with input as req({"action": "indicators:submit", "purpose": "indicator_submission", "legal_basis": "art6_1_f"})
}

# The help desk's question (scenario 8): may a telecom operator learn which bank reported?
test_telecom_asking_reporter_denied if {
	"reporter-identity-not-permitted" in data.gateway.disclosure.deny with input as object.union(spoofing, {"disclosure_requested": ["reporter"]})
}

test_police_asking_reporter_not_denied if {
	not "reporter-identity-not-permitted" in data.gateway.disclosure.deny with input as object.union(police, {"disclosure_requested": ["reporter"]})
}

test_level_beyond_purpose_denied if {
	"disclosure-level-not-permitted" in data.gateway.disclosure.deny with input as req({"disclosure_requested": ["sectors"]})
}

test_level_within_purpose_not_denied if {
	not "disclosure-level-not-permitted" in data.gateway.disclosure.deny with input as req({"disclosure_requested": ["category", "count"]})
}

test_sector_without_levels_denied if {
	"disclosure-undefined" in data.gateway.disclosure.deny with input as base
		with data.ppsgate.purposes.payment_screening.disclosure as {"psp": ["hit"]}
}

test_sector_with_levels_not_undefined if {
	not "disclosure-undefined" in data.gateway.disclosure.deny with input as base
}

test_disclosure_granted_ground if {
	"disclosure-granted" in data.gateway.disclosure.grounds with input as base
}

test_no_disclosure_ground_for_submission if {
	not "disclosure-granted" in data.gateway.disclosure.grounds with input as req({"action": "indicators:submit", "purpose": "indicator_submission", "legal_basis": "art6_1_f"})
}

test_reporter_only_where_a_basis_is_named if {
	every id, purpose in data.ppsgate.purposes {
		every sector, levels in purpose.disclosure {
			reporter_has_basis(purpose, levels)
		}
	}
}

reporter_has_basis(purpose, levels) if not "reporter" in levels

reporter_has_basis(purpose, levels) if count(purpose.reporter_legal_bases) > 0
