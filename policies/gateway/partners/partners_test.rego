package gateway.partners_test

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

# 2027-01-01T00:00:00Z, when every demo instrument except Bank B's 2024 addendum is in force.
in_force := 1798761600000000000

test_unknown_partner_denied if {
	"partner-unknown" in data.gateway.partners.deny with input as req({"partner_id": "nobody"})
}

test_known_partner_not_unknown if {
	not "partner-unknown" in data.gateway.partners.deny with input as base
}

test_suspended_in_data_denied if {
	"partner-suspended" in data.gateway.partners.deny with input as req({"partner_id": "psp-b"})
}

test_suspended_live_status_denied if {
	"partner-suspended" in data.gateway.partners.deny with input as req({"context": {"partner_status": "suspended"}})
}

test_active_partner_not_suspended if {
	not "partner-suspended" in data.gateway.partners.deny with input as req({"context": {"partner_status": "active"}})
}

test_sector_contradicting_the_registry_denied if {
	"partner-sector-mismatch" in data.gateway.partners.deny with input as req({"context": {"partner_sector": "operator"}})
}

test_sector_agreeing_with_the_registry_not_denied if {
	not "partner-sector-mismatch" in data.gateway.partners.deny with input as req({"context": {"partner_sector": "bank"}})
}

test_unreported_sector_not_denied if {
	not "partner-sector-mismatch" in data.gateway.partners.deny with input as base
}

test_unregistered_purpose_denied if {
	"purpose-not-registered" in data.gateway.partners.deny with input as req({"partner_id": "telecom-a"})
}

test_registered_purpose_not_denied if {
	not "purpose-not-registered" in data.gateway.partners.deny with input as base
}

test_unknown_instrument_denied if {
	"instrument-unknown" in data.gateway.partners.deny with input as base
		with data.ppsgate.instruments as object.remove(data.ppsgate.instruments, ["wwft"])
}

test_known_instruments_not_unknown if {
	not "instrument-unknown" in data.gateway.partners.deny with input as base
}

# Regression for the regopy trap: timestamps ending in "Z" must parse, so an expired
# agreement is denied rather than silently treated as valid.
test_expired_agreement_denied if {
	"instrument-expired" in data.gateway.partners.deny with input as req({"partner_id": "bank-b", "purpose": "batch_screening", "legal_basis": "art6_1_f"})
}

test_expired_when_clock_passes_end_date if {
	"instrument-expired" in data.gateway.partners.deny with input as base
		with time.now_ns as 2095891200000000000
}

test_instruments_in_force_not_expired if {
	not "instrument-expired" in data.gateway.partners.deny with input as base
		with time.now_ns as in_force
}

test_instrument_not_yet_valid_denied if {
	"instrument-not-yet-valid" in data.gateway.partners.deny with input as base
		with time.now_ns as 1746057600000000000
}

test_instrument_started_not_pending if {
	not "instrument-not-yet-valid" in data.gateway.partners.deny with input as base
		with time.now_ns as in_force
}

test_purpose_registered_ground if {
	"purpose-registered" in data.gateway.partners.grounds with input as base
		with time.now_ns as in_force
}

test_no_ground_for_suspended_partner if {
	not "purpose-registered" in data.gateway.partners.grounds with input as req({"partner_id": "psp-b"})
}

test_no_ground_with_expired_instrument if {
	not "purpose-registered" in data.gateway.partners.grounds with input as req({"partner_id": "bank-b", "purpose": "batch_screening"})
}

test_refs_name_the_instruments if {
	refs := data.gateway.partners.refs["purpose-registered"] with input as base
	some ref in refs
	startswith(ref, "wwft: ")
}
