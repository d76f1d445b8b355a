# METADATA
# title: Legal bases and Art. 10 conditions
# description: >-
#   The legal basis the caller claims must be the one the partner registered for the purpose,
#   backed by the instruments that basis needs (a law for a legal obligation, an agreement
#   and a DPIA for legitimate interests). Fraud reports are data about criminal offences, so
#   purposes that process them also need a condition of GDPR Art. 10 with the Dutch UAVG,
#   usually a permit of the Autoriteit Persoonsgegevens.
# scope: package
package gateway.legal

# Packages are referenced in full (data.gateway.<area>.<rule>), not through `import`: both
# regorus builds evaluate a whole imported module when one of its rules is used via the alias.

purpose := data.ppsgate.purposes[input.purpose]

registration := data.gateway.partners.registration

claimed := input.legal_basis

registered_basis := data.ppsgate.legal_bases[registration.legal_basis]

art10_condition := data.ppsgate.art10_conditions[registration.art10]

claimed_given if {
	is_string(claimed)
	claimed != ""
}

# METADATA
# title: No legal basis given
# description: The request does not say on which legal basis it is made.
# custom:
#   code: legal-basis-missing
#   gdpr: ["GDPR Art. 6(1)", "GDPR Art. 5(2)"]
#   text_en: The request does not state its legal basis; every processing of personal data needs one, stated up front.
#   text_nl: Het verzoek vermeldt geen grondslag; iedere verwerking van persoonsgegevens heeft er een nodig, vooraf vermeld.
deny contains "legal-basis-missing" if not claimed_given

# METADATA
# title: Unknown legal basis
# description: The claimed legal basis is not one the policy knows.
# custom:
#   code: legal-basis-unknown
#   gdpr: ["GDPR Art. 6(1)"]
#   text_en: The stated legal basis is not one of the bases of GDPR Art. 6(1) or the law-enforcement regime.
#   text_nl: De opgegeven grondslag is geen grondslag uit artikel 6, lid 1, AVG of het opsporingsregime.
deny contains "legal-basis-unknown" if {
	claimed_given
	not data.ppsgate.legal_bases[claimed]
}

# METADATA
# title: Legal basis differs from the registration
# description: The claimed basis is valid in itself but not the one registered for this purpose.
# custom:
#   code: legal-basis-mismatch
#   gdpr: ["GDPR Art. 6(1)", "GDPR Art. 13(1)(c)", "GDPR Art. 30(1)(b)"]
#   text_en: The stated legal basis is not the one the partner registered for this purpose; a partner cannot switch bases per request.
#   text_nl: De opgegeven grondslag is niet de grondslag die de partner voor dit doel heeft geregistreerd; een partner kan niet per verzoek van grondslag wisselen.
deny contains "legal-basis-mismatch" if {
	claimed_given
	data.ppsgate.legal_bases[claimed]
	registration
	claimed != registration.legal_basis
}

# METADATA
# title: Legal basis not available to the sector
# description: Some bases are reserved (law-enforcement processing is for the police only).
# custom:
#   code: legal-basis-not-available-to-sector
#   gdpr: ["GDPR Art. 2(2)(d)", "Directive (EU) 2016/680 Art. 1"]
#   text_en: This legal basis is not available to partners of this sector; law-enforcement processing is reserved for the police.
#   text_nl: Deze grondslag staat niet open voor partners uit deze sector; verwerking voor opsporing is voorbehouden aan de politie.
deny contains "legal-basis-not-available-to-sector" if {
	registered_basis.sectors
	not data.gateway.partners.sector in registered_basis.sectors
}

# METADATA
# title: Instrument for the legal basis missing
# description: The registered basis needs an instrument (law, agreement, DPIA, ...) the registration lacks.
# custom:
#   code: legal-basis-instrument-missing
#   gdpr: ["GDPR Art. 6(3)", "GDPR Art. 5(2)", "GDPR Art. 35"]
#   text_en: The legal basis needs an instrument that the registration does not have (a law for a legal obligation; an agreement and a DPIA with a balancing test for legitimate interests).
#   text_nl: De grondslag vereist een instrument dat de registratie mist (een wet bij een wettelijke verplichting; een overeenkomst en een DPIA met belangenafweging bij gerechtvaardigd belang).
deny contains "legal-basis-instrument-missing" if {
	some required in registered_basis.requires_instruments
	not required in data.gateway.partners.registered_types
}

# METADATA
# title: No Art. 10 condition
# description: The purpose processes data about criminal offences and the registration names no Art. 10 / UAVG condition.
# custom:
#   code: art10-condition-missing
#   gdpr: ["GDPR Art. 10", "UAVG art. 31", "UAVG art. 33"]
#   text_en: Fraud reports are data about criminal offences; this registration names no condition of GDPR Art. 10 and the Dutch UAVG under which they may be processed.
#   text_nl: Fraudemeldingen zijn strafrechtelijke gegevens; deze registratie noemt geen voorwaarde uit artikel 10 AVG en de UAVG waaronder ze mogen worden verwerkt.
deny contains "art10-condition-missing" if {
	purpose.criminal_data
	registration
	not art10_condition
}

# METADATA
# title: Art. 10 permit missing
# description: The Art. 10 condition relied on needs a permit of the Dutch DPA and the registration has none in force.
# custom:
#   code: art10-permit-missing
#   gdpr: ["GDPR Art. 10", "UAVG art. 33(4)(c)"]
#   text_en: Processing criminal-offence data on behalf of other organisations needs a permit of the Autoriteit Persoonsgegevens, and this registration has none.
#   text_nl: Het verwerken van strafrechtelijke gegevens ten behoeve van andere organisaties vereist een vergunning van de Autoriteit Persoonsgegevens, en deze registratie heeft die niet.
deny contains "art10-permit-missing" if {
	purpose.criminal_data
	art10_condition.requires_instrument == "permit"
	not "permit" in data.gateway.partners.registered_types
}

# METADATA
# title: Instrument for the Art. 10 condition missing
# description: The Art. 10 condition relied on needs a law, agreement or DPIA the registration lacks.
# custom:
#   code: art10-instrument-missing
#   gdpr: ["GDPR Art. 10", "UAVG art. 32", "UAVG art. 33"]
#   text_en: The condition for processing criminal-offence data needs an instrument (a law, agreement or DPIA) that this registration does not have.
#   text_nl: De voorwaarde voor het verwerken van strafrechtelijke gegevens vereist een instrument (wet, overeenkomst of DPIA) dat deze registratie niet heeft.
deny contains "art10-instrument-missing" if {
	purpose.criminal_data
	required := art10_condition.requires_instrument
	required != "permit"
	not required in data.gateway.partners.registered_types
}

# METADATA
# title: Art. 10 condition not available to the sector
# description: Some Art. 10 conditions are reserved (UAVG art. 33(1)(a) is for bodies applying criminal law).
# custom:
#   code: art10-condition-not-available-to-sector
#   gdpr: ["GDPR Art. 10", "UAVG art. 33(1)(a)"]
#   text_en: This condition for processing criminal-offence data applies only to bodies charged with applying criminal law, such as the police.
#   text_nl: Deze voorwaarde voor het verwerken van strafrechtelijke gegevens geldt alleen voor organen die het strafrecht toepassen, zoals de politie.
deny contains "art10-condition-not-available-to-sector" if {
	purpose.criminal_data
	art10_condition.sectors
	not data.gateway.partners.sector in art10_condition.sectors
}

# METADATA
# title: Legal basis valid
# description: The claimed basis is the registered one and its instruments are in place.
# custom:
#   code: legal-basis-valid
#   gdpr: ["GDPR Art. 6(1)"]
#   text_en: The request relies on the legal basis the partner registered for this purpose, backed by the required instruments.
#   text_nl: Het verzoek steunt op de grondslag die de partner voor dit doel heeft geregistreerd, onderbouwd met de vereiste instrumenten.
grounds contains "legal-basis-valid" if {
	claimed_given
	claimed == registration.legal_basis
	every required in registered_basis.requires_instruments {
		required in data.gateway.partners.registered_types
	}
}

# METADATA
# title: Art. 10 condition met
# description: The purpose processes criminal-offence data and the registration meets an Art. 10 / UAVG condition.
# custom:
#   code: art10-condition-met
#   gdpr: ["GDPR Art. 10"]
#   text_en: Fraud reports are data about criminal offences; the registration meets a condition of GDPR Art. 10 and the Dutch UAVG for processing them.
#   text_nl: Fraudemeldingen zijn strafrechtelijke gegevens; de registratie voldoet aan een voorwaarde uit artikel 10 AVG en de UAVG om ze te verwerken.
grounds contains "art10-condition-met" if {
	purpose.criminal_data
	art10_condition.requires_instrument in data.gateway.partners.registered_types
	not art10_sector_excluded
}

art10_sector_excluded if {
	art10_condition.sectors
	not data.gateway.partners.sector in art10_condition.sectors
}

refs["legal-basis-valid"] := [registered_basis.article] if registered_basis

refs["art10-condition-met"] := [art10_condition.article] if art10_condition
