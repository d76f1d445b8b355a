# METADATA
# title: Hashing specs
# description: >-
#   Each token names the hashing spec it was made under (v1 HMAC type keys, v2 RFC 9497
#   VOPRF). A deployment may require the stronger spec for the identifier kinds that are
#   cheapest to enumerate, such as phone numbers (data.ppsgate.specs.minimum).
# scope: package
package gateway.specs

# Actions that add to or query the shared data. Retraction, feedback and disputes act on
# tokens the gateway already holds and stay possible for any spec (for example retracting
# v1 reports after a kind has moved to v2).
gated_actions := {"indicators:submit", "match:query", "watchlist:write"}

declared := object.get(input, "specs", {})

# Each (kind, spec) pair of the request; a kind without declared specs is v1 (the default).
used contains [kind, "v1"] if {
	some kind in object.get(input, "kinds", [])
	not declared[kind]
}

used contains [kind, spec] if {
	some kind, specs in declared
	some spec in specs
}

# An unknown spec or an unknown minimum has no rank, so the comparison fails and the
# request is denied (fail closed).
strong_enough(spec, minimum) if {
	data.ppsgate.specs.ranks[spec] >= data.ppsgate.specs.ranks[minimum]
}

# METADATA
# title: Hashing spec too weak
# description: A token of this kind was made under a weaker hashing spec than the deployment requires for the kind.
# custom:
#   code: spec-too-weak
#   gdpr: ["GDPR Art. 25", "GDPR Art. 32"]
#   text_en: This deployment requires hashing spec v2 (RFC 9497 VOPRF) for this kind of identifier, such as phone numbers, the cheapest to enumerate; tokens made under v1 are refused, hash the identifiers again under v2.
#   text_nl: Dit samenwerkingsverband vereist hashspecificatie v2 (RFC 9497 VOPRF) voor deze soort identificator, zoals telefoonnummers, die het makkelijkst op te sommen zijn; tokens volgens v1 worden geweigerd, hash de identificatoren opnieuw volgens v2.
deny contains "spec-too-weak" if {
	input.action in gated_actions
	some pair in used
	minimum := data.ppsgate.specs.minimum[pair[0]]
	not strong_enough(pair[1], minimum)
}
