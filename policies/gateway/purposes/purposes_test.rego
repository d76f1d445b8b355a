package gateway.purposes_test

base := {
	"action": "match:query",
	"partner_id": "telecom-a",
	"purpose": "spoofing_prevention",
	"legal_basis": "art6_1_f",
	"kinds": ["phone"],
	"categories": [],
	"batch_size": 1,
	"context": {},
}

req(overrides) := object.union(base, overrides)

test_unknown_purpose_denied if {
	"purpose-unknown" in data.gateway.purposes.deny with input as req({"purpose": "marketing"})
}

test_known_purpose_not_unknown if {
	not "purpose-unknown" in data.gateway.purposes.deny with input as base
}

test_action_outside_purpose_denied if {
	"action-not-allowed-for-purpose" in data.gateway.purposes.deny with input as req({"action": "indicators:submit"})
}

test_action_inside_purpose_not_denied if {
	not "action-not-allowed-for-purpose" in data.gateway.purposes.deny with input as base
}

test_sector_outside_purpose_denied if {
	"sector-not-permitted-for-purpose" in data.gateway.purposes.deny with input as req({"partner_id": "bank-a"})
}

test_sector_inside_purpose_not_denied if {
	not "sector-not-permitted-for-purpose" in data.gateway.purposes.deny with input as base
}

test_purpose_limited_ground if {
	"purpose-limited" in data.gateway.purposes.grounds with input as base
}

test_no_purpose_ground_for_wrong_sector if {
	not "purpose-limited" in data.gateway.purposes.grounds with input as req({"partner_id": "bank-a"})
}

test_every_purpose_has_label_and_retention if {
	every id, purpose in data.ppsgate.purposes {
		purpose.label_en != ""
		purpose.label_nl != ""
		is_number(purpose.retention_days["default"])
		count(purpose.actions) > 0
	}
}

audit_read := {
	"action": "audit:read",
	"partner_id": "bank-a",
	"purpose": "accountability",
	"legal_basis": "art6_1_c",
	"kinds": [],
	"categories": [],
	"batch_size": 1,
	"context": {},
}

test_officer_may_not_read_other_partners_entries if {
	"audit-scope-exceeded" in data.gateway.purposes.deny with input as object.union(audit_read, {"context": {"target_partner": "bank-b"}})
}

test_officer_reads_own_entries if {
	not "audit-scope-exceeded" in data.gateway.purposes.deny with input as object.union(audit_read, {"context": {"target_partner": "bank-a"}})
}

test_officer_without_target_is_not_refused if {
	not "audit-scope-exceeded" in data.gateway.purposes.deny with input as audit_read
}

test_partnership_dpo_reads_any_partner if {
	not "audit-scope-exceeded" in data.gateway.purposes.deny with input as object.union(audit_read, {"partner_id": "dpo-pps", "purpose": "oversight", "context": {"target_partner": "bank-b"}})
}

request := req({
	"action": "requests:send",
	"partner_id": "bank-b",
	"purpose": "payment_screening",
	"legal_basis": "art6_1_c",
	"kinds": ["iban"],
	"context": {"request_type": "recall_funds"},
})

test_request_type_listed_by_purpose_not_denied if {
	not "request-type-not-allowed-for-purpose" in data.gateway.purposes.deny with input as request
}

test_request_type_not_listed_by_purpose_denied if {
	"request-type-not-allowed-for-purpose" in data.gateway.purposes.deny with input as object.union(request, {"context": {"request_type": "share_details"}})
}

test_request_without_type_denied if {
	"request-type-not-allowed-for-purpose" in data.gateway.purposes.deny with input as object.remove(request, ["context"])
}

psr_match := req({
	"partner_id": "psp-a",
	"purpose": "psr_fraud_sharing",
	"legal_basis": "art6_1_f",
	"kinds": ["iban"],
})

test_profile_switched_off_denied if {
	"profile-not-enabled" in data.gateway.purposes.deny with input as psr_match
		with data.ppsgate.profiles.enabled as ["base"]
}

test_enabled_profile_not_denied if {
	not "profile-not-enabled" in data.gateway.purposes.deny with input as psr_match
}

test_purpose_without_profile_is_base if {
	not "profile-not-enabled" in data.gateway.purposes.deny with input as base
		with data.ppsgate.profiles.enabled as ["base"]
}
