package gateway.specs_test

base := {
	"action": "match:query",
	"partner_id": "telecom-a",
	"purpose": "spoofing_prevention",
	"legal_basis": "art6_1_f",
	"kinds": ["phone"],
	"specs": {"phone": ["v1"]},
	"categories": [],
	"batch_size": 1,
	"context": {},
}

# (object.union merges nested objects: a test replacing "specs" removes it first.)
req(overrides) := object.union(base, overrides)

phone_v2 := {"phone": "v2"}

test_v1_phone_denied_when_v2_required if {
	"spec-too-weak" in data.gateway.specs.deny with input as base
		with data.ppsgate.specs.minimum as phone_v2
}

test_v2_phone_allowed_when_v2_required if {
	not "spec-too-weak" in data.gateway.specs.deny with input as req({"specs": {"phone": ["v2"]}})
		with data.ppsgate.specs.minimum as phone_v2
}

test_kind_without_declared_spec_is_v1 if {
	"spec-too-weak" in data.gateway.specs.deny with input as object.remove(base, ["specs"])
		with data.ppsgate.specs.minimum as phone_v2
}

test_one_weak_spec_among_several_denies if {
	"spec-too-weak" in data.gateway.specs.deny with input as req({"specs": {"phone": ["v1", "v2"]}})
		with data.ppsgate.specs.minimum as phone_v2
}

test_other_kind_unaffected if {
	not "spec-too-weak" in data.gateway.specs.deny with input as object.union(object.remove(base, ["specs"]), {"kinds": ["iban"], "specs": {"iban": ["v1"]}})
		with data.ppsgate.specs.minimum as phone_v2
}

test_unknown_spec_fails_closed if {
	"spec-too-weak" in data.gateway.specs.deny with input as req({"specs": {"phone": ["v3"]}})
		with data.ppsgate.specs.minimum as phone_v2
}

test_unknown_minimum_fails_closed if {
	"spec-too-weak" in data.gateway.specs.deny with input as req({"specs": {"phone": ["v2"]}})
		with data.ppsgate.specs.minimum as {"phone": "v9"}
}

test_submissions_and_watch_lists_are_gated if {
	"spec-too-weak" in data.gateway.specs.deny with input as req({"action": "indicators:submit"})
		with data.ppsgate.specs.minimum as phone_v2
	"spec-too-weak" in data.gateway.specs.deny with input as req({"action": "watchlist:write"})
		with data.ppsgate.specs.minimum as phone_v2
}

test_retraction_feedback_and_disputes_are_not_gated if {
	every action in ["indicators:retract", "feedback:submit", "dispute:file"] {
		not "spec-too-weak" in data.gateway.specs.deny with input as req({"action": action})
			with data.ppsgate.specs.minimum as phone_v2
	}
}

test_shipped_minimum_is_empty if {
	count(data.ppsgate.specs.minimum) == 0
	not "spec-too-weak" in data.gateway.specs.deny with input as base
}

test_ranks_order_the_specs if {
	data.ppsgate.specs.ranks.v2 > data.ppsgate.specs.ranks.v1
}
