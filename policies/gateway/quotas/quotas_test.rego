package gateway.quotas_test

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

test_metered_action_has_the_purpose_quota if {
	q := data.gateway.quotas.quota with input as base
	q == data.ppsgate.quotas.purposes.payment_screening
}

test_unmetered_action_has_no_quota if {
	not data.gateway.quotas.quota with input as req({"action": "feedback:submit"})
}

test_partner_override_replaces_only_its_fields if {
	q := data.gateway.quotas.quota with input as base
		with data.ppsgate.quotas.partners as {"bank-a": {"payment_screening": {"partner": 7}}}
	q.partner == 7
	q.client == data.ppsgate.quotas.purposes.payment_screening.client
}

test_override_of_another_partner_does_not_apply if {
	q := data.gateway.quotas.quota with input as base
		with data.ppsgate.quotas.partners as {"bank-b": {"payment_screening": {"partner": 7}}}
	q.partner == data.ppsgate.quotas.purposes.payment_screening.partner
}

test_missing_quota_denied if {
	"quota-undefined" in data.gateway.quotas.deny with input as base
		with data.ppsgate.quotas.purposes as {}
}

test_client_above_partner_denied if {
	"quota-undefined" in data.gateway.quotas.deny with input as base
		with data.ppsgate.quotas.partners as {"bank-a": {"payment_screening": {"client": 1000000}}}
}

test_malformed_enumeration_denied if {
	"quota-undefined" in data.gateway.quotas.deny with input as base
		with data.ppsgate.quotas.partners as {"bank-a": {"payment_screening": {"enumeration": {"min_distinct": 10, "max_hit_ratio": 2}}}}
}

test_shipped_quota_not_denied if {
	not "quota-undefined" in data.gateway.quotas.deny with input as base
}

test_detection_off_is_a_valid_quota if {
	not "quota-undefined" in data.gateway.quotas.deny with input as req({"action": "indicators:submit", "purpose": "indicator_submission"})
}

test_action_outside_the_purpose_not_denied_here if {
	not "quota-undefined" in data.gateway.quotas.deny with input as req({"purpose": "watchlist_alerts"})
		with data.ppsgate.quotas.purposes as {}
}

test_every_metered_purpose_has_a_valid_quota if {
	every id, purpose in data.ppsgate.purposes {
		every action in purpose.actions {
			not "quota-undefined" in data.gateway.quotas.deny with input as req({"action": action, "purpose": id})
		}
	}
}

test_allowed_decision_carries_the_quota if {
	d := data.gateway.decision.decision with input as base with time.now_ns as 1798761600000000000
	d.allow == true
	d.quota == data.ppsgate.quotas.purposes.payment_screening
}

test_denied_decision_carries_no_quota if {
	d := data.gateway.decision.decision with input as req({"legal_basis": "art6_1_f"})
	d.allow == false
	d.quota == null
}

test_missing_quota_denies_the_decision if {
	d := data.gateway.decision.decision with input as base
		with data.ppsgate.quotas.purposes as {}
	d.allow == false
	"quota-undefined" in d.reasons
}
