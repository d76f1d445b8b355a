package gateway.suppression_test

token := "6f1c0a6e2f3b4d5e8a9b0c1d2e3f40516273849a5b6c7d8e9f00112233445566"

base := {
	"action": "match:query",
	"partner_id": "bank-a",
	"purpose": "payment_screening",
	"legal_basis": "art6_1_c",
	"kinds": ["iban"],
	"categories": [],
	"batch_size": 1,
	"context": {"tokens": [token]},
}

test_suppressed_token_denied if {
	"identifier-suppressed" in data.gateway.suppression.deny with input as base
		with data.ppsgate.suppression.tokens as [token]
}

test_other_token_not_suppressed if {
	not "identifier-suppressed" in data.gateway.suppression.deny with input as base
}

test_no_tokens_not_suppressed if {
	not "identifier-suppressed" in data.gateway.suppression.deny with input as object.remove(base, ["context"])
}

test_shipped_list_is_empty if {
	count(data.ppsgate.suppression.tokens) == 0
}
