package gateway.fast_test

screening := {
	"action": "match:query",
	"partner_id": "bank-a",
	"purpose": "payment_screening",
	"legal_basis": "art6_1_c",
	"kinds": ["iban"],
	"specs": {},
	"categories": [],
	"batch_size": 1,
	"disclosure_requested": [],
	"context": {"partner_status": "active"},
}

req(overrides) := object.union(screening, overrides)

in_force := 1798761600000000000

same(request) := fast if {
	fast := data.gateway.fast.decision with input as request with time.now_ns as in_force
	full := data.gateway.decision.decision with input as request with time.now_ns as in_force
	fast == full
}

test_screening_is_the_composed_decision if {
	same(screening).allow == true
	data.gateway.fast.plain_decision with input as screening with time.now_ns as in_force
}

test_categories_set_the_retention if {
	d := same(req({"categories": ["phishing", "spoofing"]}))
	d.allow == true
}

test_request_refusals_are_the_area_codes if {
	same(req({"context": {"partner_status": "suspended"}})).reasons == ["partner-suspended"]
	same(req({"kinds": ["iban", "plate"], "batch_size": 0})).reasons == ["batch-size-invalid", "kind-not-allowed-for-purpose", "kind-not-allowed-for-sector"]
	same(req({"disclosure_requested": ["reporter"]})).reasons == ["reporter-identity-not-permitted"]
}

test_expired_instrument_refused_per_request if {
	d := data.gateway.fast.decision with input as screening with time.now_ns as 4102444800000000000
	d.reasons == ["instrument-expired"]
}

test_other_basis_is_decided_in_full if {
	same(req({"legal_basis": "art6_1_f"})).reasons == ["legal-basis-mismatch"]
}

test_stale_generated_data_is_not_read if {
	stale := object.union(data.ppsgate.generated, {"digest": "stale"})
	d := data.gateway.fast.decision with input as screening with time.now_ns as in_force with data.ppsgate.generated as stale
	not data.gateway.fast.entry with input as screening with data.ppsgate.generated as stale
	d == same(screening)
}
