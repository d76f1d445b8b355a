package gateway.decision_test

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

in_force := 1798761600000000000

test_allowed_decision if {
	d := data.gateway.decision.decision with input as base with time.now_ns as in_force
	d.allow == true
	"legal-basis-valid" in d.reasons
	d.disclosure == ["category", "count", "hit"]
	d.corroboration == {"min_reports": 3, "min_reporters": 1}
	d.retention_days == 30
}

test_denied_decision_discloses_nothing if {
	d := data.gateway.decision.decision with input as req({"legal_basis": "art6_1_f"})
	d.allow == false
	d.reasons == ["legal-basis-mismatch"]
	d.disclosure == []
	d.corroboration == null
	d.retention_days == null
}

test_all_reasons_of_a_deny_are_listed if {
	d := data.gateway.decision.decision with input as req({"legal_basis": null, "kinds": ["email"]})
	d.reasons == ["kind-not-allowed-for-purpose", "legal-basis-missing"]
}

test_default_is_deny if {
	not data.gateway.decision.allow with input as {}
}

test_missing_ground_denies if {
	d := data.gateway.decision.decision with input as base
		with data.gateway.minimisation.grounds as set()
	d.allow == false
	d.reasons == ["grounds-incomplete"]
}

test_complete_grounds_not_incomplete if {
	not "grounds-incomplete" in data.gateway.decision.deny with input as base
}

test_decision_names_bundle_and_taxonomy if {
	d := data.gateway.decision.decision with input as base
	d.policy_digest == data.ppsgate.bundle.digest
	d.taxonomy_version == data.ppsgate.taxonomy.version
}

test_obligations_follow_the_purpose if {
	d := data.gateway.decision.decision with input as req({"partner_id": "police-nl", "purpose": "police_referral", "legal_basis": "law_enforcement"})
	"record-reporter-disclosure" in d.obligations
}

test_obligations_are_defined if {
	every id, purpose in data.ppsgate.purposes {
		every obligation in purpose.obligations {
			data.ppsgate.obligations[obligation]
		}
	}
}

test_missing_ground_is_a_deny_reason if {
	"grounds-incomplete" in data.gateway.decision.deny with input as base
		with data.gateway.purposes.grounds as {"purpose-limited"}
		with data.gateway.retention.grounds as set()
}
