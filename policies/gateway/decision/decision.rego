# METADATA
# title: Decision
# description: >-
#   Composes the areas into one decision document: allow only when no area denies and the
#   positive grounds are all present; otherwise deny with every reason that applies. Rules
#   emit stable reason codes; their texts and legal references are the METADATA of the rule
#   that emits them, shipped in the bundle's data as data.ppsgate.reasons.
# scope: package
package gateway.decision

# Packages are referenced in full (data.gateway.<area>.<rule>), not through `import`: both
# regorus builds evaluate a whole imported module when one of its rules is used via the alias.

# METADATA
# title: Fail closed
# description: >-
#   Nothing is allowed unless this policy explicitly says so. The same code is used by the
#   gateway when the engine errs, times out or returns an undefined or malformed decision.
# custom:
#   code: engine-unavailable
#   gdpr: ["GDPR Art. 5(1)(f)", "GDPR Art. 25", "GDPR Art. 32"]
#   text_en: The policy engine could not reach a valid decision, so the request is refused (fail closed).
#   text_nl: De beleidsengine kon geen geldig besluit nemen; het verzoek wordt daarom geweigerd (fail closed).
default allow := false

area_deny := (((((((((data.gateway.partners.deny | data.gateway.purposes.deny) | data.gateway.legal.deny) | data.gateway.minimisation.deny) | data.gateway.disclosure.deny) | data.gateway.retention.deny) | data.gateway.suppression.deny) | data.gateway.quotas.deny) | data.gateway.specs.deny) | data.gateway.disputes.deny)

area_grounds := ((((((data.gateway.partners.grounds | data.gateway.purposes.grounds) | data.gateway.legal.grounds) | data.gateway.minimisation.grounds) | data.gateway.disclosure.grounds) | data.gateway.retention.grounds) | data.gateway.disputes.grounds)

required_grounds contains "purpose-registered"

required_grounds contains "purpose-limited"

required_grounds contains "legal-basis-valid"

required_grounds contains "data-minimised"

required_grounds contains "retention-limited"

required_grounds contains "art10-condition-met" if data.ppsgate.purposes[input.purpose].criminal_data

required_grounds contains "disclosure-granted" if input.action in data.gateway.disclosure.disclosing_actions

required_grounds contains "dispute-standing" if data.gateway.disputes.filing

grounds_complete if {
	every ground in required_grounds {
		ground in area_grounds
	}
}

# METADATA
# title: Grounds incomplete
# description: >-
#   No area objected, yet a positive ground is missing (for example inconsistent policy data).
#   Refused rather than allowed by omission.
# custom:
#   code: grounds-incomplete
#   gdpr: ["GDPR Art. 5(2)", "GDPR Art. 25"]
#   text_en: The policy could not establish every ground the request needs (purpose, legal basis, minimisation, retention), so it is refused.
#   text_nl: Het beleid kon niet alle gronden vaststellen die het verzoek nodig heeft (doel, grondslag, minimalisatie, bewaartermijn); het wordt daarom geweigerd.
deny contains "grounds-incomplete" if {
	count(area_deny) == 0
	not grounds_complete
}

deny contains code if some code in area_deny

allow if {
	count(deny) == 0
	grounds_complete
}

# (Comprehensions are bound in rule bodies, not heads: celine-regorus 0.9.1 cannot schedule
# a comprehension in the head of a conditional rule.)
reasons := codes if {
	count(deny) > 0
	codes := sort([code | some code in deny])
}

reasons := codes if {
	count(deny) == 0
	codes := sort([code | some code in area_grounds])
}

# What an allowed decision carries, built in one rule body: every reference to `data.`
# costs the embedded engine about a microsecond, so each document is looked up once and
# bound to a local variable (see docs/policies.md, "Evaluation cost").
granted_fields := fields if {
	allow
	purpose := data.ppsgate.purposes[input.purpose]
	evidence := data.ppsgate.evidence
	obligation_codes := purpose.obligations
	obligations := data.ppsgate.obligations
	fields := {
		"disclosure": sort([level | some level in data.gateway.disclosure.granted]),
		"corroboration": purpose.corroboration,
		"retention_days": data.gateway.retention.retention_days,
		"retention_by_category": data.gateway.retention.by_category,
		"retention_by_role": data.gateway.retention.by_role,
		# Reasons a reporter may give to keep a report longer than its default, up to the
		# maximum.
		"retention_extensions": sort([code | some code, _ in evidence.retention_extension_reasons]),
		# Evidence levels and their ranks (data/evidence.json): reports name a level,
		# thresholds a minimum.
		"evidence_levels": {level: info.rank | some level, info in evidence.levels},
		"obligations": sort(obligation_codes),
		# The texts of the obligations, so every answer can carry them (data/obligations.json).
		"obligation_texts": {code: obligations[code] | some code in obligation_codes},
		"refs": object.union(data.gateway.partners.refs, data.gateway.legal.refs),
		# The quota the gateway enforces for a metered action (see gateway.quotas), null
		# otherwise.
		"quota": quota,
	}
}

# A denied decision grants nothing.
granted_fields := {
	"disclosure": [],
	"corroboration": null,
	"retention_days": null,
	"retention_by_category": {},
	"retention_by_role": {},
	"retention_extensions": [],
	"evidence_levels": {},
	"obligations": [],
	"obligation_texts": {},
	"refs": {},
	"quota": null,
} if not allow

quota := data.gateway.quotas.quota

default quota := null

# METADATA
# title: The decision document
# description: >-
#   The decision composed from every area: the reference. The gateway evaluates
#   data.gateway.fast.decision, which equals this document for every request and evaluates
#   it in full for requests without a generated decision.
# entrypoint: true
decision := {
	"allow": allow,
	"reasons": reasons,
	"disclosure": fields.disclosure,
	"corroboration": fields.corroboration,
	"retention_days": fields.retention_days,
	"retention_by_category": fields.retention_by_category,
	"retention_by_role": fields.retention_by_role,
	"retention_extensions": fields.retention_extensions,
	"evidence_levels": fields.evidence_levels,
	"obligations": fields.obligations,
	"obligation_texts": fields.obligation_texts,
	"refs": fields.refs,
	"quota": fields.quota,
	"policy_digest": data.ppsgate.bundle.digest,
	"taxonomy_version": data.ppsgate.taxonomy.version,
} if {
	fields := granted_fields
}
