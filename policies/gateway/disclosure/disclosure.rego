# METADATA
# title: Disclosure levels
# description: >-
#   What a match may reveal to the asking partner: per purpose and sector a set of levels
#   (hit, count, category, role, sectors, dates, reporter). The reporter's identity only
#   where the purpose names the legal basis that allows it (the police; civil recovery).
#   A registration may narrow the levels further, never widen them.
# scope: package
package gateway.disclosure

# Packages are referenced in full (data.gateway.<area>.<rule>), not through `import`: both
# regorus builds evaluate a whole imported module when one of its rules is used via the alias.

purpose := data.ppsgate.purposes[input.purpose]

disclosing_actions := {"match:query", "alerts:read"}

offered contains level if some level in purpose.disclosure[data.gateway.partners.sector]

within_registration(level) if not data.gateway.partners.registration.disclosure

within_registration(level) if level in data.gateway.partners.registration.disclosure

reporter_permitted if data.gateway.partners.registration.legal_basis in purpose.reporter_legal_bases

granted contains level if {
	input.action in disclosing_actions
	some level in offered
	level != "reporter"
	within_registration(level)
}

granted contains "reporter" if {
	input.action in disclosing_actions
	"reporter" in offered
	reporter_permitted
	within_registration("reporter")
}

requested contains level if some level in object.get(input, "disclosure_requested", [])

# METADATA
# title: Reporter identity not permitted
# description: The request asks for the reporting partner's identity where no legal basis allows it.
# custom:
#   code: reporter-identity-not-permitted
#   gdpr: ["GDPR Art. 5(1)(c)", "GDPR Art. 6(1)", "Directive (EU) 2016/680", "UAVG art. 32"]
#   text_en: The identity of the reporting partner is disclosed only to the police (law enforcement) and, for civil recovery, to a victim's bailiff under the registered legal basis; not for this purpose and sector.
#   text_nl: De identiteit van de meldende partner wordt alleen verstrekt aan de politie (opsporing) en, voor civiel verhaal, aan de gerechtsdeurwaarder van een slachtoffer op de geregistreerde grondslag; niet voor dit doel en deze sector.
deny contains "reporter-identity-not-permitted" if {
	"reporter" in requested
	not "reporter" in granted
}

# METADATA
# title: Disclosure level not permitted
# description: The request asks for a level the purpose does not grant to this sector.
# custom:
#   code: disclosure-level-not-permitted
#   gdpr: ["GDPR Art. 5(1)(c)", "GDPR Art. 25(2)"]
#   text_en: The requested detail is more than this purpose allows partners of this sector to learn.
#   text_nl: Het gevraagde detail is meer dan partners uit deze sector voor dit doel mogen weten.
deny contains "disclosure-level-not-permitted" if {
	some level in requested
	level != "reporter"
	not level in granted
}

# METADATA
# title: No disclosure defined
# description: The purpose lets the sector ask but defines nothing it may learn; refused rather than guessed.
# custom:
#   code: disclosure-undefined
#   gdpr: ["GDPR Art. 5(1)(c)", "GDPR Art. 25(2)"]
#   text_en: The policy does not define what partners of this sector may learn for this purpose, so nothing is disclosed.
#   text_nl: Het beleid legt niet vast wat partners uit deze sector voor dit doel mogen weten; er wordt dus niets verstrekt.
deny contains "disclosure-undefined" if {
	input.action in disclosing_actions
	data.gateway.partners.sector in purpose.sectors
	count(granted) == 0
}

# METADATA
# title: Disclosure granted
# description: The levels the partner may learn per match, subject to corroboration.
# custom:
#   code: disclosure-granted
#   gdpr: ["GDPR Art. 5(1)(c)", "GDPR Art. 25(2)"]
#   text_en: The partner may learn only the listed details about a match, and more than a yes/no hit only once reports are corroborated.
#   text_nl: De partner mag alleen de genoemde gegevens over een treffer weten, en meer dan een ja/nee-treffer pas als meldingen zijn bevestigd.
grounds contains "disclosure-granted" if {
	input.action in disclosing_actions
	count(granted) > 0
}
