# METADATA
# title: Generated decisions
# description: >-
#   Evaluated when a bundle is loaded, never per request: for every registered (partner,
#   purpose) pair, each action of the purpose and the registered legal basis, the decision
#   of the areas for a request that carries nothing of its own (no kinds, categories,
#   context or disclosure asked for, one item). When that decision allows, the parts of it
#   that depend only on partner, purpose, action and basis are written to
#   data.ppsgate.generated, with what gateway.fast needs to check a request's own inputs.
#   Instrument dates are left out here (checked against the clock per request), so the
#   generated data depends only on the bundle and is regenerated with every bundle digest.
# scope: package
package gateway.generate

# Dispute filings (standing depends on the caller's context) and requests to reporters (the
# request type is part of the context) are always evaluated in full.
full_only_actions := {"dispute:file", "requests:send"}

# The inputs whose decisions are generated, one per key.
neutral_inputs := [request |
	some partner_id, partner in data.ppsgate.partners
	some purpose_id, registration in partner.registrations
	is_string(registration.legal_basis)
	some action in data.ppsgate.purposes[purpose_id].actions
	not action in full_only_actions
	request := {
		"action": action,
		"partner_id": partner_id,
		"purpose": purpose_id,
		"legal_basis": registration.legal_basis,
		"kinds": [],
		"specs": {},
		"categories": [],
		"batch_size": 1,
		"disclosure_requested": [],
		"context": {},
	}
]

# The instruments without their validity dates: the clock is not consulted here.
undated[id] := object.remove(recorded, ["valid_from", "valid_until"]) if {
	some id, recorded in data.ppsgate.instruments
	is_object(recorded)
}

undated[id] := recorded if {
	some id, recorded in data.ppsgate.instruments
	not is_object(recorded)
}

# One generated entry, for the key named by the (neutral) input; undefined unless allowed.
entry := generated if {
	document := data.gateway.decision.decision with data.ppsgate.instruments as undated
	document.allow == true
	purpose := data.ppsgate.purposes[input.purpose]
	generated := {
		# Without the obligations' texts, which gateway.fast adds from data.ppsgate.obligations:
		# every engine (one per worker thread) holds this data, and the texts were two thirds
		# of it, repeated in every entry.
		"document": object.remove(document, ["obligation_texts"]),
		"sector": data.gateway.partners.sector,
		"sector_kinds": data.gateway.minimisation.sector.kinds,
		"allowed_kinds": sort([kind | some kind in data.gateway.minimisation.allowed_kinds]),
		"categories": object.get(purpose, "categories", []),
		"max_batch": purpose.max_batch,
		"retention": purpose.retention_days,
		# The registration's instruments are all in force from the latest start to the
		# earliest end (nanoseconds; parsed here, compared with the clock per request).
		"not_before": max(array.concat([0], [time.parse_rfc3339_ns(from) |
			some dates in instrument_dates
			from := dates[0]
			is_string(from)
		])),
		"not_after": min(array.concat([no_end], [time.parse_rfc3339_ns(until) |
			some dates in instrument_dates
			until := dates[1]
			is_string(until)
		])),
		"own_entries_only": own_entries_only,
		"request_types": object.get(purpose, "request_types", []),
		"spec_gated": spec_gated,
		# No audit scope or hashing spec to check: the request may take gateway.fast's
		# one-body path.
		"plain": plain,
	}
}

# The valid_from and valid_until of each instrument of the registration.
instrument_dates := [[object.get(found, "valid_from", null), object.get(found, "valid_until", null)] |
	some id in data.gateway.partners.registration.instruments
	found := data.ppsgate.instruments[id]
]

# An end far beyond any agreement (9 Mar 2255) for registrations whose instruments never end.
no_end := 9000000000000000000

# Boolean rules with defaults (rather than `in` inside the entry's literal), so that OPA
# compiles the package as the embedded engine does.
default own_entries_only := false

own_entries_only if "own-entries-only" in data.ppsgate.purposes[input.purpose].obligations

default spec_gated := false

spec_gated if input.action in data.gateway.specs.gated_actions

default plain := false

plain if {
	input.action != "audit:read"
	not spec_checked
}

spec_checked if {
	spec_gated
	count(data.ppsgate.specs.minimum) > 0
}

# What every generated decision shares: suppressed tokens as an object (looked up by key),
# the hashing specs' minimum and ranks, and the document of a denied decision without its
# reasons (evaluated for an empty request, which every policy denies).
shared := {
	"suppressed": {token: true | some token in data.ppsgate.suppression.tokens},
	"spec_minimum": data.ppsgate.specs.minimum,
	"spec_ranks": data.ppsgate.specs.ranks,
	"denied": object.remove(denied_document, ["reasons"]),
}

denied_document := document if {
	document := data.gateway.decision.decision with input as {}
}
