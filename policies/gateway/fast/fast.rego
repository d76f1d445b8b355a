# METADATA
# title: The decision of one request
# description: >-
#   What the gateway evaluates per request. The parts of a decision that depend only on
#   partner, purpose, action and legal basis were evaluated when the bundle was loaded
#   (gateway.generate, into data.ppsgate.generated); this rule looks the request's key up
#   once and checks only the request's own inputs: live partner status and sector, the
#   instruments' dates against the clock, kinds, categories, batch size, hashing specs,
#   suppressed tokens, requested disclosure and audit scope. The codes are those of the
#   area rules (their METADATA carries the texts); the decision is the one gateway.decision
#   composes, which is evaluated in full for any request without a generated key (another
#   basis, a denied pair, dispute filings, requests to reporters) or when the generated data
#   belongs to another bundle digest (tests/unit/gateway/policy/test_fast_decision.py
#   compares the two entry points).
# scope: package
package gateway.fast

generated := data.ppsgate.generated

entry := generated.decisions[input.partner_id][input.purpose][input.action][input.legal_basis] if {
	generated.digest == data.ppsgate.bundle.digest
}

# The entry's allowed document (entries name one of the shared documents by its number).
entry_document := generated.documents[entry.document]

context := object.get(input, "context", {})

kinds := object.get(input, "kinds", [])

categories := object.get(input, "categories", [])

requested := object.get(input, "disclosure_requested", [])

refused contains "partner-suspended" if object.get(context, "partner_status", "active") != "active"

# The area rules each code comes from: gateway.partners (status, sector, instruments),
# gateway.purposes (audit scope), gateway.minimisation (kinds, categories, batch size),
# gateway.retention, gateway.suppression, gateway.specs and gateway.disclosure.
refused contains "partner-sector-mismatch" if {
	object.get(context, "partner_sector", entry.sector) != entry.sector
}

refused contains "instrument-expired" if time.now_ns() > entry.not_after

refused contains "instrument-not-yet-valid" if time.now_ns() < entry.not_before

refused contains "audit-scope-exceeded" if {
	entry.own_entries_only
	input.action == "audit:read"
	object.get(context, "target_partner", input.partner_id) != input.partner_id
}

refused contains "kind-not-allowed-for-purpose" if {
	some kind in kinds
	not kind in entry.allowed_kinds
}

refused contains "kind-not-allowed-for-sector" if {
	some kind in kinds
	not kind in entry.sector_kinds
}

refused contains "category-unknown" if {
	some category in categories
	not data.ppsgate.taxonomy.categories[category]
}

refused contains "category-not-allowed-for-purpose" if {
	some category in categories
	data.ppsgate.taxonomy.categories[category]
	entry.categories != "all"
	not category in entry.categories
}

refused contains "batch-size-exceeded" if input.batch_size > entry.max_batch

refused contains "batch-size-invalid" if not valid_batch_size

valid_batch_size if {
	is_number(input.batch_size)
	input.batch_size >= 1
}

refused contains "retention-undefined" if {
	count(categories) > 0
	not valid_retention
}

valid_retention if {
	is_number(retention_days)
	retention_days >= 0
}

refused contains "identifier-suppressed" if {
	some token in object.get(context, "tokens", [])
	generated.suppressed[token]
}

refused contains "spec-too-weak" if {
	entry.spec_gated
	some pair in specs_used
	minimum := generated.spec_minimum[pair[0]]
	not spec_strong_enough(pair[1], minimum)
}

declared_specs := object.get(input, "specs", {})

specs_used contains [kind, "v1"] if {
	some kind in kinds
	not declared_specs[kind]
}

specs_used contains [kind, spec] if {
	some kind, specs in declared_specs
	some spec in specs
}

spec_strong_enough(spec, minimum) if generated.spec_ranks[spec] >= generated.spec_ranks[minimum]

refused contains "reporter-identity-not-permitted" if {
	"reporter" in requested
	not "reporter" in entry_document.disclosure
}

refused contains "disclosure-level-not-permitted" if {
	some level in requested
	level != "reporter"
	not level in entry_document.disclosure
}

# Retention per requested category, as gateway.retention computes it.
category_days(category) := days if {
	days := entry.retention.by_category[category]
} else := entry.retention["default"]

retention_days := shortest if {
	count(categories) > 0
	shortest := min({days | some category in categories; days := category_days(category)})
} else := entry.retention["default"]

allowed_document := with_texts(entry_document) if count(categories) == 0

allowed_document := document if {
	count(categories) > 0
	by_category := {category: days | some category in categories; days := category_days(category)}
	document := object.union(with_texts(entry_document), {
		"retention_days": retention_days,
		"retention_by_category": by_category,
	})
}

# A generated document with its obligations' texts (gateway.generate leaves them out: they
# are the same for every key and would be held once per entry by every engine).
with_texts(document) := object.union(document, {"obligation_texts": texts}) if {
	obligations := data.ppsgate.obligations
	texts := {code: obligations[code] | some code in document.obligations}
}

# METADATA
# title: The decision document
# description: The one entry point the gateway evaluates (data.gateway.fast.decision).
# entrypoint: true
decision := plain_decision if {
	plain_decision
} else := document if {
	entry
	count(refused) == 0
	document := allowed_document
} else := document if {
	entry
	count(refused) > 0
	document := object.union(generated.denied, {"reasons": sort([code | some code in refused])})
} else := data.gateway.decision.decision

# The common request, checked in one rule body (each rule costs the embedded engine about a
# microsecond): a generated key whose action has no audit scope or hashing spec to check,
# and nothing in the request that any refusal above objects to. Anything else takes the
# rules above; both give the same decision.
plain_decision := document if {
	found := data.ppsgate.generated.decisions[input.partner_id][input.purpose][input.action][input.legal_basis]
	data.ppsgate.generated.digest == data.ppsgate.bundle.digest
	found.plain
	request_context := object.get(input, "context", {})
	object.get(request_context, "partner_status", "active") == "active"
	object.get(request_context, "partner_sector", found.sector) == found.sector
	now := time.now_ns()
	now >= found.not_before
	now <= found.not_after
	is_number(input.batch_size)
	input.batch_size >= 1
	input.batch_size <= found.max_batch
	every kind in object.get(input, "kinds", []) {
		kind in found.allowed_kinds
		kind in found.sector_kinds
	}
	found_document := data.ppsgate.generated.documents[found.document]
	every level in object.get(input, "disclosure_requested", []) {
		level in found_document.disclosure
	}
	every token in object.get(request_context, "tokens", []) {
		not data.ppsgate.generated.suppressed[token]
	}
	document := plain_document(found, found_document, object.get(input, "categories", []))
}

# Without categories the generated document is the answer; with them, each must be known and
# allowed, and the retention per category (computed as above) valid.
plain_document(_, found_document, requested_categories) := with_texts(found_document) if {
	count(requested_categories) == 0
}

plain_document(found, _, requested_categories) := document if {
	count(requested_categories) > 0
	every category in requested_categories {
		data.ppsgate.taxonomy.categories[category]
		category_allowed(found.categories, category)
	}
	valid_retention
	document := allowed_document
}

category_allowed(allowed, _) if allowed == "all"

category_allowed(allowed, category) if category in allowed
