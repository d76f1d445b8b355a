package gateway.retention_test

base := {
	"action": "indicators:submit",
	"partner_id": "bank-a",
	"purpose": "indicator_submission",
	"legal_basis": "art6_1_f",
	"kinds": ["iban"],
	"categories": ["purchase_fraud"],
	"batch_size": 1,
	"context": {},
}

req(overrides) := object.union(base, overrides)

test_default_retention if {
	data.gateway.retention.retention_days == 180 with input as base
}

test_category_retention if {
	data.gateway.retention.retention_days == 365 with input as req({"categories": ["money_mule"]})
}

test_shortest_of_several_categories if {
	data.gateway.retention.retention_days == 90 with input as req({"categories": ["money_mule", "identity_fraud"]})
}

test_retention_per_category if {
	data.gateway.retention.by_category == {"money_mule": 365, "purchase_fraud": 180} with input as req({"categories": ["money_mule", "purchase_fraud"]})
}

test_no_categories_uses_default if {
	data.gateway.retention.retention_days == 180 with input as req({"categories": []})
}

test_missing_retention_denied if {
	"retention-undefined" in data.gateway.retention.deny with input as base
		with data.ppsgate.purposes.indicator_submission.retention_days as {"by_category": {}}
}

test_defined_retention_not_denied if {
	not "retention-undefined" in data.gateway.retention.deny with input as base
}

test_retention_limited_ground if {
	"retention-limited" in data.gateway.retention.grounds with input as base
}

test_no_retention_ground_without_period if {
	not "retention-limited" in data.gateway.retention.grounds with input as base
		with data.ppsgate.purposes.indicator_submission.retention_days as {"by_category": {}}
}
