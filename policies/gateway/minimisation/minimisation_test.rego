package gateway.minimisation_test

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

test_email_not_for_payment_screening if {
	"kind-not-allowed-for-purpose" in data.gateway.minimisation.deny with input as req({"kinds": ["email"]})
}

test_email_for_payment_screening_when_registered if {
	not "kind-not-allowed-for-purpose" in data.gateway.minimisation.deny with input as req({"partner_id": "psp-a", "kinds": ["email"]})
}

test_iban_for_payment_screening if {
	not "kind-not-allowed-for-purpose" in data.gateway.minimisation.deny with input as base
}

test_telecom_holds_no_ibans if {
	"kind-not-allowed-for-sector" in data.gateway.minimisation.deny with input as req({"partner_id": "telecom-a", "purpose": "batch_screening", "kinds": ["iban"]})
}

test_telecom_holds_phone_numbers if {
	not "kind-not-allowed-for-sector" in data.gateway.minimisation.deny with input as req({"partner_id": "telecom-a", "purpose": "batch_screening", "kinds": ["phone"]})
}

test_category_outside_taxonomy_denied if {
	"category-unknown" in data.gateway.minimisation.deny with input as req({"categories": ["tax_evasion"]})
}

test_taxonomy_category_known if {
	not "category-unknown" in data.gateway.minimisation.deny with input as req({"categories": ["purchase_fraud"]})
}

test_category_outside_purpose_denied if {
	"category-not-allowed-for-purpose" in data.gateway.minimisation.deny with input as req({"partner_id": "telecom-a", "purpose": "spoofing_prevention", "kinds": ["phone"], "categories": ["money_mule"]})
}

test_category_inside_purpose_not_denied if {
	not "category-not-allowed-for-purpose" in data.gateway.minimisation.deny with input as req({"partner_id": "telecom-a", "purpose": "spoofing_prevention", "kinds": ["phone"], "categories": ["spoofing"]})
}

test_batch_over_limit_denied if {
	"batch-size-exceeded" in data.gateway.minimisation.deny with input as req({"batch_size": 11})
}

test_batch_at_limit_not_denied if {
	not "batch-size-exceeded" in data.gateway.minimisation.deny with input as req({"batch_size": 10})
}

test_zero_batch_invalid if {
	"batch-size-invalid" in data.gateway.minimisation.deny with input as req({"batch_size": 0})
}

test_text_batch_invalid if {
	"batch-size-invalid" in data.gateway.minimisation.deny with input as req({"batch_size": "10"})
}

test_positive_batch_valid if {
	not "batch-size-invalid" in data.gateway.minimisation.deny with input as base
}

test_data_minimised_ground if {
	"data-minimised" in data.gateway.minimisation.grounds with input as base
}

test_no_minimised_ground_with_extra_kind if {
	not "data-minimised" in data.gateway.minimisation.grounds with input as req({"kinds": ["iban", "email"]})
}

test_taxonomy_is_versioned_and_bilingual if {
	data.ppsgate.taxonomy.version != ""
	every id, category in data.ppsgate.taxonomy.categories {
		category.label_en != ""
		category.label_nl != ""
	}
}
