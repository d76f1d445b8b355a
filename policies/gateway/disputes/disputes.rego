# METADATA
# title: Disputes
# description: >-
#   Who may file a dispute about a token. Filing marks every live report of the token
#   disputed, whoever reported it, so other partners see only a disputed hit until the
#   reporters confirm or retract: a right of the data subject (GDPR Art. 16, 18(1), 21), not a
#   way for one partner to silence another's reports. Only a party with its own standing for
#   the identifier may file: the partner that holds the token on its own watch list (its own
#   customer's identifier), or a party the policy data name as acting for data subjects. The
#   gateway states the watch-list fact as input.context.watching; a missing fact is no
#   standing (fail closed).
# scope: package
package gateway.disputes

filing if input.action == "dispute:file"

sector := data.ppsgate.partners[input.partner_id].sector

watching if object.get(object.get(input, "context", {}), "watching", false) == true

standing contains "own-customer" if {
	watching
	sector in data.ppsgate.disputes.own_customer_sectors
}

standing contains "acting-for-subject" if sector in data.ppsgate.disputes.acting_for_subject_sectors

# METADATA
# title: No standing to dispute
# description: >-
#   The filer neither holds the token on its own watch list as its customer's identifier nor
#   acts for data subjects. A dispute from anyone else would hide other partners' accurate
#   reports and tell the filer about them.
# custom:
#   code: dispute-standing-missing
#   gdpr: ["GDPR Art. 5(1)(d)", "GDPR Art. 12(2)", "GDPR Art. 18(1)"]
#   text_en: Only a party with its own standing for this identifier may dispute it for the data subject — the partner that holds it on its own watch list as its customer's identifier, or the help desk or data protection officer acting for the data subject; watch the identifier first or refer the data subject.
#   text_nl: Alleen een partij met een eigen positie voor deze identificator mag die namens de betrokkene betwisten — de partner die haar als identificator van een eigen klant op de eigen volglijst heeft, of het vragenloket of de functionaris gegevensbescherming namens de betrokkene; plaats de identificator eerst op de volglijst of verwijs de betrokkene door.
deny contains "dispute-standing-missing" if {
	filing
	count(standing) == 0
}

# METADATA
# title: Standing to dispute
# description: The filer has its own standing for the identifier it disputes.
# custom:
#   code: dispute-standing
#   gdpr: ["GDPR Art. 12(2)", "GDPR Art. 16", "GDPR Art. 18(1)", "GDPR Art. 21"]
#   text_en: The filer has its own standing for this identifier (its own customer's identifier on its watch list, or acting for the data subject), so it may dispute it on the data subject's behalf.
#   text_nl: De indiener heeft een eigen positie voor deze identificator (identificator van een eigen klant op de eigen volglijst, of optredend namens de betrokkene) en mag die dus namens de betrokkene betwisten.
grounds contains "dispute-standing" if {
	filing
	count(standing) > 0
}
