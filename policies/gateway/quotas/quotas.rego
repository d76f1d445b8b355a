# METADATA
# title: Quotas
# description: >-
#   Metered actions (queries, submissions, watch-list writes, disputes) are bounded per partner and
#   per connector client in fixed time windows, per purpose. Under hashing spec v1 a partner
#   holding a type key can compute the token of any identifier it guesses; the quota bounds
#   how many guesses it can test, and the enumeration thresholds tell the gateway when to
#   alert the partnership's DPO about dictionary-style querying. The decision carries the
#   applicable quota; the gateway counts usage in its database, across workers.
# scope: package
package gateway.quotas

metered if input.action in data.ppsgate.quotas.actions

purpose_quota := data.ppsgate.quotas.purposes[input.purpose]

overrides := object.get(object.get(data.ppsgate.quotas.partners, input.partner_id, {}), input.purpose, {})

quota := object.union(purpose_quota, overrides) if metered

positive(value) if {
	is_number(value)
	value > 0
}

valid_enumeration if object.get(quota, "enumeration", "missing") == null

valid_enumeration if {
	positive(quota.enumeration.min_distinct)
	is_number(quota.enumeration.max_hit_ratio)
	quota.enumeration.max_hit_ratio >= 0
	quota.enumeration.max_hit_ratio <= 1
}

valid_quota if {
	positive(quota.window_seconds)
	positive(quota.partner)
	positive(quota.client)
	quota.client <= quota.partner
	valid_enumeration
}

# METADATA
# title: No quota for a metered action
# description: >-
#   The purpose allows a metered action but the policy data give it no well-formed quota.
#   Refused rather than unbounded: an unmetered query interface lets a key holder test
#   guesses without limit.
# custom:
#   code: quota-undefined
#   gdpr: ["GDPR Art. 5(1)(c)", "GDPR Art. 25(2)", "GDPR Art. 32(1)(b)"]
#   text_en: The policy sets no quota for this action and purpose, and queries or submissions may not be processed without one.
#   text_nl: Het beleid stelt voor deze handeling en dit doel geen quotum vast, en zonder quotum mogen bevragingen of meldingen niet worden verwerkt.
deny contains "quota-undefined" if {
	metered
	input.action in data.ppsgate.purposes[input.purpose].actions
	not valid_quota
}
