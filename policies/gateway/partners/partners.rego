# METADATA
# title: Partners and their registrations
# description: >-
#   Who is asking, from which sector, whether the partner is active, and whether it has
#   registered the purpose it claims, with instruments (agreements, permits, laws, DPIAs)
#   that are in force at the time of the decision.
# scope: package
package gateway.partners

partner := data.ppsgate.partners[input.partner_id]

sector := partner.sector

registration := partner.registrations[input.purpose]

# The live status the gateway's partner registry reports; absent means "not reported".
live_status := object.get(object.get(input, "context", {}), "partner_status", "active")

# The sector the gateway's partner registry holds for the partner; absent means "not reported".
registered_sector := object.get(object.get(input, "context", {}), "partner_sector", sector)

suspended if partner.status != "active"

suspended if live_status != "active"

# The registration's instruments with their entries in data/instruments.json (null for an
# instrument that is not recorded), looked up once: every `data.` reference costs the
# embedded engine about a microsecond, so the rules below read this object instead.
instruments := found if {
	catalog := data.ppsgate.instruments
	found := {id: object.get(catalog, id, null) | some id in registration.instruments}
}

registered_instruments contains id if some id, _ in instruments

registered_types contains entry.type if some entry in instruments

now := time.now_ns()

# Each instrument is checked once per decision; the rules below only test set sizes.
unknown_instruments contains id if {
	some id, entry in instruments
	entry == null
}

expired_instruments contains id if {
	some id, entry in instruments
	until := entry.valid_until
	is_string(until)
	time.parse_rfc3339_ns(until) < now
}

pending_instruments contains id if {
	some id, entry in instruments
	from := entry.valid_from
	is_string(from)
	time.parse_rfc3339_ns(from) > now
}

# METADATA
# title: Unknown partner
# description: Requests from a partner that is not in the policy data are refused.
# custom:
#   code: partner-unknown
#   gdpr: ["GDPR Art. 5(1)(b)", "GDPR Art. 26"]
#   text_en: The partner is not a member of the partnership, so it may not exchange data through the gateway.
#   text_nl: De partner is geen lid van het samenwerkingsverband en mag geen gegevens via de gateway uitwisselen.
deny contains "partner-unknown" if not data.ppsgate.partners[input.partner_id]

# METADATA
# title: Partner suspended
# description: A suspended partner, in the policy data or in the gateway's live registry, is refused.
# custom:
#   code: partner-suspended
#   gdpr: ["GDPR Art. 5(1)(b)", "GDPR Art. 26"]
#   text_en: The partner's membership is suspended or has ended; it may not exchange data until it is reinstated.
#   text_nl: Het lidmaatschap van de partner is geschorst of beëindigd; de partner mag geen gegevens uitwisselen tot hij weer is toegelaten.
deny contains "partner-suspended" if {
	partner
	suspended
}

# METADATA
# title: Registered sector contradicts the policy
# description: >-
#   The gateway's partner registry holds another sector for the partner than the policy data,
#   so the policy would decide for one sector while the gateway acts for another.
# custom:
#   code: partner-sector-mismatch
#   gdpr: ["GDPR Art. 5(1)(b)", "GDPR Art. 5(2)", "GDPR Art. 26"]
#   text_en: The sector the gateway registered for this partner differs from its sector in the policy data; nothing is decided for it until the two agree.
#   text_nl: De sector waarmee de gateway deze partner registreerde verschilt van de sector in de beleidsgegevens; er wordt niets voor de partner besloten tot beide overeenkomen.
deny contains "partner-sector-mismatch" if {
	partner
	registered_sector != sector
}

# METADATA
# title: Purpose not registered
# description: The partner has no registration (legal basis and instruments) for the purpose it claims.
# custom:
#   code: purpose-not-registered
#   gdpr: ["GDPR Art. 5(1)(b)", "GDPR Art. 6(1)", "GDPR Art. 30(1)(b)"]
#   text_en: The partner has not registered this purpose with a legal basis, so it may not process data for it.
#   text_nl: De partner heeft dit doel niet met een grondslag geregistreerd en mag er dus geen gegevens voor verwerken.
deny contains "purpose-not-registered" if {
	partner
	data.ppsgate.purposes[input.purpose]
	not partner.registrations[input.purpose]
}

# METADATA
# title: Unknown instrument
# description: A registration refers to an agreement, permit, law or DPIA that is not in the policy data.
# custom:
#   code: instrument-unknown
#   gdpr: ["GDPR Art. 5(2)", "GDPR Art. 24"]
#   text_en: The registration refers to an agreement, permit, law or DPIA that the partnership has not recorded, so its legal footing cannot be shown.
#   text_nl: De registratie verwijst naar een overeenkomst, vergunning, wet of DPIA die het samenwerkingsverband niet heeft vastgelegd; de juridische basis kan dus niet worden aangetoond.
deny contains "instrument-unknown" if count(unknown_instruments) > 0

# METADATA
# title: Instrument expired
# description: An agreement, permit or DPIA behind the registration has passed its end date.
# custom:
#   code: instrument-expired
#   gdpr: ["GDPR Art. 5(1)(a)", "GDPR Art. 6(1)"]
#   text_en: An agreement, permit or DPIA that this registration relies on has expired, so the processing has no valid footing.
#   text_nl: Een overeenkomst, vergunning of DPIA waarop deze registratie steunt is verlopen; de verwerking heeft dus geen geldige basis.
deny contains "instrument-expired" if count(expired_instruments) > 0

# METADATA
# title: Instrument not yet in force
# description: An agreement, permit or DPIA behind the registration has not started yet.
# custom:
#   code: instrument-not-yet-valid
#   gdpr: ["GDPR Art. 5(1)(a)", "GDPR Art. 6(1)"]
#   text_en: An agreement, permit or DPIA that this registration relies on is not yet in force.
#   text_nl: Een overeenkomst, vergunning of DPIA waarop deze registratie steunt is nog niet van kracht.
deny contains "instrument-not-yet-valid" if count(pending_instruments) > 0

# METADATA
# title: Purpose registered
# description: The partner is active and has registered this purpose with instruments in force.
# custom:
#   code: purpose-registered
#   gdpr: ["GDPR Art. 5(1)(b)", "GDPR Art. 30(1)(b)"]
#   text_en: The partner is an active member and has registered this purpose, with agreements, permits or laws that are in force.
#   text_nl: De partner is actief lid en heeft dit doel geregistreerd, met overeenkomsten, vergunningen of wetten die van kracht zijn.
grounds contains "purpose-registered" if {
	registration
	not suspended
	count(registered_instruments) > 0
	count(unknown_instruments) == 0
	count(expired_instruments) == 0
	count(pending_instruments) == 0
}

refs["purpose-registered"] := [sprintf("%s: %s", [id, entry.reference]) |
	some id in registration.instruments
	entry := instruments[id]
	entry != null
]
