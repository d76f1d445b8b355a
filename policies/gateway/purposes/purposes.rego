# METADATA
# title: Purposes
# description: >-
#   Every request names one registered purpose. The purpose fixes which actions are part of
#   it and which sectors may use it (purpose limitation).
# scope: package
package gateway.purposes

purpose := data.ppsgate.purposes[input.purpose]

sector := data.ppsgate.partners[input.partner_id].sector

# METADATA
# title: Unknown purpose
# description: The purpose is not defined in the policy data.
# custom:
#   code: purpose-unknown
#   gdpr: ["GDPR Art. 5(1)(b)"]
#   text_en: This purpose is not one of the partnership's specified purposes, so no data may be processed for it.
#   text_nl: Dit doel hoort niet bij de welbepaalde doelen van het samenwerkingsverband; er mogen geen gegevens voor worden verwerkt.
deny contains "purpose-unknown" if not data.ppsgate.purposes[input.purpose]

profile := object.get(purpose, "profile", "base")

# METADATA
# title: Profile not enabled
# description: >-
#   The purpose belongs to a rule set (profile, e.g. the EU Payment Services Regulation's
#   fraud-data sharing) that the partnership has not switched on in data/profiles.json.
# custom:
#   code: profile-not-enabled
#   gdpr: ["GDPR Art. 5(1)(b)", "GDPR Art. 6(1)", "GDPR Art. 35"]
#   text_en: This purpose belongs to a set of sharing rules the partnership has not enabled (for example before its arrangement and joint DPIA are in place), so it may not be used.
#   text_nl: Dit doel hoort bij een stelsel van deelregels dat het samenwerkingsverband niet heeft ingeschakeld (bijvoorbeeld voordat de regeling en de gezamenlijke DPIA er zijn); het mag dus niet worden gebruikt.
deny contains "profile-not-enabled" if {
	purpose
	not profile in data.ppsgate.profiles.enabled
}

# METADATA
# title: Action outside the purpose
# description: The action (query, submission, alert, ...) is not part of the purpose.
# custom:
#   code: action-not-allowed-for-purpose
#   gdpr: ["GDPR Art. 5(1)(b)"]
#   text_en: This action is not part of the stated purpose; data collected for one purpose may not be used for another.
#   text_nl: Deze handeling hoort niet bij het opgegeven doel; gegevens die voor het ene doel zijn verzameld mogen niet voor een ander doel worden gebruikt.
deny contains "action-not-allowed-for-purpose" if {
	purpose
	not input.action in purpose.actions
}

# METADATA
# title: Sector outside the purpose
# description: The partner's sector is not among the sectors that may use the purpose.
# custom:
#   code: sector-not-permitted-for-purpose
#   gdpr: ["GDPR Art. 5(1)(b)", "GDPR Art. 6(1)"]
#   text_en: Partners of this sector may not use this purpose; it is reserved for the sectors named in the partnership agreement.
#   text_nl: Partners uit deze sector mogen dit doel niet gebruiken; het is voorbehouden aan de sectoren die in de samenwerkingsovereenkomst zijn genoemd.
deny contains "sector-not-permitted-for-purpose" if {
	purpose
	sector
	not sector in purpose.sectors
}

# METADATA
# title: Purpose and action fit
# description: The action is part of the purpose and the partner's sector may use it.
# custom:
#   code: purpose-limited
#   gdpr: ["GDPR Art. 5(1)(b)"]
#   text_en: The action is part of a specified purpose that partners of this sector may use.
#   text_nl: De handeling hoort bij een welbepaald doel dat partners uit deze sector mogen gebruiken.
grounds contains "purpose-limited" if {
	input.action in purpose.actions
	sector in purpose.sectors
}

# METADATA
# title: Audit entries of another partner
# description: >-
#   A purpose limited to the reader's own entries (obligation own-entries-only, e.g. a
#   partner's privacy officer under accountability) does not cover another partner's audit
#   entries; input.context.target_partner names whose entries are asked for.
# custom:
#   code: audit-scope-exceeded
#   gdpr: ["GDPR Art. 5(1)(b)", "GDPR Art. 5(1)(f)", "GDPR Art. 26"]
#   text_en: A partner's privacy officer may read only the audit entries of their own organisation; another partner's entries are for that partner and the partnership's data protection officer.
#   text_nl: De privacyfunctionaris van een partner mag alleen de auditregels van de eigen organisatie lezen; de regels van een andere partner zijn voor die partner en de functionaris gegevensbescherming van het samenwerkingsverband.
deny contains "audit-scope-exceeded" if {
	input.action == "audit:read"
	"own-entries-only" in purpose.obligations
	target := object.get(object.get(input, "context", {}), "target_partner", input.partner_id)
	target != input.partner_id
}

# METADATA
# title: Request type outside the purpose
# description: >-
#   A tracked request to the reporters of a hit (requests:send) names its type in
#   input.context.request_type (halt_payment, recall_funds, confirm, share_details); the
#   purpose lists the types it covers in request_types. Sharing details needs a purpose that
#   names them, so a payment-screening hit cannot turn into a request for the reporter's file.
# custom:
#   code: request-type-not-allowed-for-purpose
#   gdpr: ["GDPR Art. 5(1)(b)", "GDPR Art. 5(1)(c)"]
#   text_en: This kind of request to the reporters is not part of the stated purpose; only the requests the purpose lists may be sent under it.
#   text_nl: Dit soort verzoek aan de melders hoort niet bij het opgegeven doel; alleen de verzoeken die het doel noemt mogen eronder worden verstuurd.
deny contains "request-type-not-allowed-for-purpose" if {
	input.action == "requests:send"
	purpose
	request_type := object.get(object.get(input, "context", {}), "request_type", "")
	not request_type in object.get(purpose, "request_types", [])
}
