package gateway.generate_test

neutral := {
	"action": "match:query",
	"partner_id": "bank-a",
	"purpose": "payment_screening",
	"legal_basis": "art6_1_c",
	"kinds": [],
	"specs": {},
	"categories": [],
	"batch_size": 1,
	"disclosure_requested": [],
	"context": {},
}

test_every_registered_action_is_generated_except_the_contextual_ones if {
	inputs := data.gateway.generate.neutral_inputs
	neutral in inputs
	every request in inputs {
		not request.action in {"dispute:file", "requests:send"}
		data.ppsgate.partners[request.partner_id].registrations[request.purpose].legal_basis == request.legal_basis
	}
}

test_entry_holds_the_allowed_document_and_the_checks if {
	e := data.gateway.generate.entry with input as neutral
	e.document.allow == true
	full := data.gateway.decision.decision with input as neutral with time.now_ns as 1798761600000000000
	e.document == object.remove(full, ["obligation_texts"])
	# The texts are added per request by gateway.fast, not held once per entry.
	not e.document.obligation_texts
	count(full.obligation_texts) > 0
	e.sector == "bank"
	"iban" in e.allowed_kinds
	e.plain == true
	# ap-permit-2025 starts last and ends first of wwft, the permit and the DPIA.
	e.not_before == time.parse_rfc3339_ns("2025-06-01T00:00:00Z")
	e.not_after == time.parse_rfc3339_ns("2035-02-28T23:59:59Z")
}

test_entry_ignores_the_clock if {
	e := data.gateway.generate.entry with input as neutral with time.now_ns as 0
	e.document.allow == true
}

test_no_entry_for_a_denied_pair if {
	not data.gateway.generate.entry with input as object.union(neutral, {"partner_id": "psp-b"})
	not data.gateway.generate.entry with input as object.union(neutral, {"legal_basis": "art6_1_f"})
}

test_audit_reads_are_not_plain if {
	request := object.union(neutral, {"action": "audit:read", "purpose": "accountability"})
	e := data.gateway.generate.entry with input as request
	e.plain == false
	e.own_entries_only == true
}

test_denied_document_grants_nothing if {
	denied := data.gateway.generate.shared.denied
	denied.allow == false
	not denied.reasons
	denied.disclosure == []
	denied.policy_digest == data.ppsgate.bundle.digest
}
