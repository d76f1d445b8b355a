# METADATA
# title: Data minimisation
# description: >-
#   Only the identifier kinds a purpose needs (and the partner's sector may hold), only fraud
#   categories from the joint taxonomy that fit the purpose, and no more identifiers per
#   request than the purpose's batch limit.
# scope: package
package gateway.minimisation

# Packages are referenced in full (data.gateway.<area>.<rule>), not through `import`: both
# regorus builds evaluate a whole imported module when one of its rules is used via the alias.

purpose := data.ppsgate.purposes[input.purpose]

sector := data.ppsgate.sectors[data.gateway.partners.sector]

kinds := object.get(input, "kinds", [])

categories := object.get(input, "categories", [])

# Kinds of the purpose plus any the partner registered for it explicitly (e.g. e-mail
# addresses for payment screening, when the partner's DPIA covers them).
allowed_kinds contains kind if some kind in purpose.kinds

allowed_kinds contains kind if some kind in data.gateway.partners.registration.extra_kinds

category_allowed(category) if purpose.categories == "all"

category_allowed(category) if category in purpose.categories

# METADATA
# title: Identifier kind not needed for the purpose
# description: The request uses an identifier kind that the purpose does not need and the partner has not registered.
# custom:
#   code: kind-not-allowed-for-purpose
#   gdpr: ["GDPR Art. 5(1)(c)", "GDPR Art. 25"]
#   text_en: This kind of identifier is not needed for the purpose (for example e-mail addresses for payment screening), unless the partner registered it.
#   text_nl: Deze soort identificator is voor het doel niet nodig (bijvoorbeeld e-mailadressen bij betalingsscreening), tenzij de partner hem heeft geregistreerd.
deny contains "kind-not-allowed-for-purpose" if {
	purpose
	some kind in kinds
	not kind in allowed_kinds
}

# METADATA
# title: Identifier kind not held by the sector
# description: The partner's sector does not hold this kind of identifier (a telecom operator has no IBANs).
# custom:
#   code: kind-not-allowed-for-sector
#   gdpr: ["GDPR Art. 5(1)(c)"]
#   text_en: Partners of this sector do not hold this kind of identifier, so they may not submit or query it.
#   text_nl: Partners uit deze sector hebben deze soort identificator niet en mogen hem dus niet melden of bevragen.
deny contains "kind-not-allowed-for-sector" if {
	sector
	some kind in kinds
	not kind in sector.kinds
}

# METADATA
# title: Category outside the taxonomy
# description: The fraud category is not in the joint taxonomy.
# custom:
#   code: category-unknown
#   gdpr: ["GDPR Art. 5(1)(d)"]
#   text_en: The fraud category is not part of the joint fraud taxonomy of the partnership.
#   text_nl: De fraudecategorie hoort niet bij de gezamenlijke fraudetaxonomie van het samenwerkingsverband.
deny contains "category-unknown" if {
	some category in categories
	not data.ppsgate.taxonomy.categories[category]
}

# METADATA
# title: Category outside the purpose
# description: The fraud category is in the taxonomy but not among those the purpose covers.
# custom:
#   code: category-not-allowed-for-purpose
#   gdpr: ["GDPR Art. 5(1)(b)", "GDPR Art. 5(1)(c)"]
#   text_en: This fraud category is not covered by the purpose (for example only spoofing cases for spoofing prevention).
#   text_nl: Deze fraudecategorie valt niet onder het doel (bijvoorbeeld alleen spoofingzaken bij het voorkomen van spoofing).
deny contains "category-not-allowed-for-purpose" if {
	purpose
	some category in categories
	data.ppsgate.taxonomy.categories[category]
	not category_allowed(category)
}

# METADATA
# title: Batch too large
# description: More identifiers in one request than the purpose allows.
# custom:
#   code: batch-size-exceeded
#   gdpr: ["GDPR Art. 5(1)(c)"]
#   text_en: The request contains more identifiers than the purpose allows at once (real-time screening is per payment; bulk is for batch screening).
#   text_nl: Het verzoek bevat meer identificatoren dan het doel in één keer toestaat (realtime screening gaat per betaling; bulk is voor batchscreening).
deny contains "batch-size-exceeded" if {
	purpose
	input.batch_size > purpose.max_batch
}

# METADATA
# title: Invalid batch size
# description: The batch size is missing, not a number or below one.
# custom:
#   code: batch-size-invalid
#   gdpr: ["GDPR Art. 5(2)"]
#   text_en: The request does not state a valid number of identifiers (at least one).
#   text_nl: Het verzoek vermeldt geen geldig aantal identificatoren (minimaal één).
deny contains "batch-size-invalid" if not valid_batch_size

valid_batch_size if {
	is_number(input.batch_size)
	input.batch_size >= 1
}

# METADATA
# title: Data minimised
# description: Identifier kinds, categories and batch size all fit the purpose.
# custom:
#   code: data-minimised
#   gdpr: ["GDPR Art. 5(1)(c)", "GDPR Art. 25"]
#   text_en: Only identifier kinds and fraud categories the purpose needs are used, within its batch limit.
#   text_nl: Alleen soorten identificatoren en fraudecategorieën die het doel nodig heeft worden gebruikt, binnen de batchlimiet.
grounds contains "data-minimised" if {
	purpose
	every kind in kinds {
		kind in allowed_kinds
		kind in sector.kinds
	}
	every category in categories {
		category_allowed(category)
	}
	valid_batch_size
	input.batch_size <= purpose.max_batch
}
