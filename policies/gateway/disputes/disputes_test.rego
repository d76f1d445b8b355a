package gateway.disputes_test

base := {
	"action": "dispute:file",
	"partner_id": "bank-a",
	"purpose": "dispute_handling",
	"legal_basis": "art6_1_c",
	"kinds": ["iban"],
	"categories": [],
	"batch_size": 1,
	"context": {"watching": true},
}

# object.union merges nested objects; each overridden field replaces the base's one whole.
req(overrides) := object.union(object.remove(base, [key | some key, _ in overrides]), overrides)

without_context := object.remove(base, ["context"])

test_watching_partner_has_standing if {
	"own-customer" in data.gateway.disputes.standing with input as base
	"dispute-standing" in data.gateway.disputes.grounds with input as base
	not "dispute-standing-missing" in data.gateway.disputes.deny with input as base
}

test_partner_not_watching_has_no_standing if {
	"dispute-standing-missing" in data.gateway.disputes.deny with input as req({"context": {"watching": false}})
	not "dispute-standing" in data.gateway.disputes.grounds with input as req({"context": {"watching": false}})
}

test_missing_fact_is_no_standing if {
	"dispute-standing-missing" in data.gateway.disputes.deny with input as req({"context": {}})
	"dispute-standing-missing" in data.gateway.disputes.deny with input as without_context
}

test_only_a_boolean_true_counts if {
	"dispute-standing-missing" in data.gateway.disputes.deny with input as req({"context": {"watching": "yes"}})
}

test_sector_outside_the_standing_list_has_none if {
	"dispute-standing-missing" in data.gateway.disputes.deny with input as base
		with data.ppsgate.disputes.own_customer_sectors as ["telecom"]
}

test_help_desk_acts_for_the_subject_without_a_watch_list if {
	"acting-for-subject" in data.gateway.disputes.standing with input as req({"partner_id": "helpdesk-pps", "context": {}})
}

test_other_actions_are_not_concerned if {
	count(data.gateway.disputes.deny) == 0 with input as req({"action": "match:query", "context": {}})
	count(data.gateway.disputes.grounds) == 0 with input as req({"action": "match:query"})
}

test_decision_allows_a_watching_bank if {
	d := data.gateway.decision.decision with input as base with time.now_ns as 1798761600000000000
	d.allow == true
	"dispute-standing" in d.reasons
}

test_decision_refuses_a_bank_without_standing if {
	d := data.gateway.decision.decision with input as req({"context": {}}) with time.now_ns as 1798761600000000000
	d.allow == false
	d.reasons == ["dispute-standing-missing"]
}

test_registered_help_desk_may_file_for_the_subject if {
	registrations := {"dispute_handling": {"legal_basis": "art6_1_c", "art10": "uavg_33_4_c", "instruments": ["gdpr-rights", "ap-permit-2025"]}}
	helpdesk := object.union(data.ppsgate.partners["helpdesk-pps"], {"registrations": registrations})
	d := data.gateway.decision.decision with input as req({"partner_id": "helpdesk-pps", "context": {}})
		with data.ppsgate.partners["helpdesk-pps"] as helpdesk
		with data.ppsgate.purposes.dispute_handling.sectors as ["bank", "helpdesk"]
		with data.ppsgate.sectors.helpdesk.kinds as ["iban"]
		with time.now_ns as 1798761600000000000
	d.allow == true
}
