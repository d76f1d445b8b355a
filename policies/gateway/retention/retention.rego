# METADATA
# title: Retention
# description: >-
#   How long data processed for a purpose may be kept, per fraud category where the
#   purpose sets one. With several categories in one request the shortest period applies.
# scope: package
package gateway.retention

purpose := data.ppsgate.purposes[input.purpose]

categories := object.get(input, "categories", [])

category_days(category) := days if {
	days := purpose.retention_days.by_category[category]
} else := purpose.retention_days["default"]

by_category[category] := category_days(category) if some category in categories

# Default retention per role (shorter for unwitting mules and taken-over accounts): a
# report's expiry is the shorter of its category's period and its role's; the category's
# period is the maximum a reporter may extend to, with a reason.
by_role := object.get(purpose.retention_days, "by_role", {})

retention_days := shortest if {
	count(categories) > 0
	shortest := min({days | some category in categories; days := category_days(category)})
} else := purpose.retention_days["default"]

# METADATA
# title: No retention period
# description: The purpose defines no retention period; data without a deletion date are refused.
# custom:
#   code: retention-undefined
#   gdpr: ["GDPR Art. 5(1)(e)", "GDPR Art. 30(1)(f)"]
#   text_en: The policy sets no retention period for this purpose, and data may not be kept without one.
#   text_nl: Het beleid stelt voor dit doel geen bewaartermijn vast, en gegevens mogen niet zonder bewaartermijn worden bewaard.
deny contains "retention-undefined" if {
	purpose
	not valid_retention
}

valid_retention if {
	is_number(retention_days)
	retention_days >= 0
}

# METADATA
# title: Retention limited
# description: The purpose's retention period applies.
# custom:
#   code: retention-limited
#   gdpr: ["GDPR Art. 5(1)(e)"]
#   text_en: Data processed for this purpose are deleted when the purpose's retention period for the fraud category ends.
#   text_nl: Gegevens die voor dit doel worden verwerkt, worden verwijderd zodra de bewaartermijn van het doel voor de fraudecategorie verstrijkt.
grounds contains "retention-limited" if valid_retention
