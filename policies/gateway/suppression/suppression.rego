# METADATA
# title: Suppression list
# description: >-
#   Peppered tokens that may not be processed at all, for example after an objection was
#   upheld or while processing is restricted. The list holds gateway-side HMAC values only,
#   never identifiers in the clear.
# scope: package
package gateway.suppression

suppressed contains token if some token in data.ppsgate.suppression.tokens

# METADATA
# title: Identifier suppressed
# description: One of the request's peppered tokens is on the suppression list.
# custom:
#   code: identifier-suppressed
#   gdpr: ["GDPR Art. 18", "GDPR Art. 21"]
#   text_en: Processing of this identifier is restricted or an objection against it was upheld, so it may not be processed.
#   text_nl: De verwerking van deze identificator is beperkt of een bezwaar ertegen is toegewezen; hij mag dus niet worden verwerkt.
deny contains "identifier-suppressed" if {
	some token in object.get(object.get(input, "context", {}), "tokens", [])
	token in suppressed
}
