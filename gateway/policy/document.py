"""The two documents crossing the engine boundary: the input and the decision.

Both engines (embedded and OPA) speak JSON, so a request is turned into the same input
document and the same decision document is read back. Reading is strict: only a literal
``true`` allows, and anything unexpected (undefined, wrong types, an unknown reason code,
a digest that is not the loaded bundle's) turns into a fail-closed deny.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from gateway.policy.catalog import ReasonCatalog
from gateway.policy.decision import (
    ENGINE_UNAVAILABLE,
    Corroboration,
    Decision,
    DecisionRequest,
    Disclosure,
    Enumeration,
    Obligation,
    Quota,
    Reason,
)

logger = logging.getLogger(__name__)

UNAVAILABLE_DIGEST = "unavailable"

# Used only when no catalog could be loaded at all (the bundle itself is unreadable); the
# policy's own METADATA text for this code is used whenever a catalog exists.
_FALLBACK_UNAVAILABLE = Reason(
    code=ENGINE_UNAVAILABLE,
    text_en="The policy engine could not reach a valid decision, so the request is refused "
    "(fail closed).",
    text_nl="De beleidsengine kon geen geldig besluit nemen; het verzoek wordt daarom "
    "geweigerd (fail closed).",
    basis=("GDPR Art. 5(1)(f)", "GDPR Art. 25", "GDPR Art. 32"),
)


class MalformedDecisionError(ValueError):
    """The engine answered, but not with a decision document we can trust."""


def _json_safe(value: object) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_json_safe(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def specs_input(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """``input.specs``: each kind's hashing specs, sorted (``{"phone": ["v2"]}``)."""
    specs: dict[str, set[str]] = {}
    for kind, spec in pairs:
        specs.setdefault(kind, set()).add(spec)
    return {kind: sorted(values) for kind, values in sorted(specs.items())}


def request_input(request: DecisionRequest) -> dict[str, Any]:
    """The input document the policies read (``input.*``); never an identifier."""
    return {
        "action": str(request.action),
        "partner_id": request.partner_id,
        "purpose": request.purpose,
        "legal_basis": request.legal_basis,
        "kinds": list(request.kinds),
        "specs": specs_input(request.specs),
        "categories": list(request.categories),
        "batch_size": request.batch_size,
        "disclosure_requested": sorted(str(level) for level in request.disclosure_requested),
        "context": _json_safe(request.context),
    }


def unavailable(
    digest: str, catalog: ReasonCatalog | None, *, detail: str, request: DecisionRequest
) -> Decision:
    """The fail-closed deny; ``detail`` goes to the log only (it may quote engine internals)."""
    logger.warning(
        "policy decision failed closed (%s) for action=%s partner=%s purpose=%s",
        detail,
        request.action,
        request.partner_id,
        request.purpose,
    )
    reason = (
        catalog.reason(ENGINE_UNAVAILABLE)
        if catalog is not None and ENGINE_UNAVAILABLE in catalog
        else _FALLBACK_UNAVAILABLE
    )
    return Decision(allow=False, reasons=(reason,), policy_digest=digest or UNAVAILABLE_DIGEST)


def _strings(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedDecisionError(f"{name} is not a list of strings")
    return tuple(value)


def _non_negative_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedDecisionError(f"{name} is not a non-negative integer")
    return value


def _corroboration(value: object) -> Corroboration | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MalformedDecisionError("corroboration is not an object")
    reports = _non_negative_int(value.get("min_reports"), "corroboration.min_reports")
    reporters = _non_negative_int(value.get("min_reporters"), "corroboration.min_reporters")
    if reports < 1 or reporters < 1 or reporters > reports:
        raise MalformedDecisionError("corroboration thresholds are inconsistent")
    evidence = value.get("min_evidence")
    if evidence is not None and not isinstance(evidence, str):
        raise MalformedDecisionError("corroboration.min_evidence is not a string")
    return Corroboration(
        min_reports=reports,
        min_reporters=reporters,
        min_victims=_non_negative_int(value.get("min_victims", 0), "corroboration.min_victims"),
        min_victims_one_reporter=_non_negative_int(
            value.get("min_victims_one_reporter", 0), "corroboration.min_victims_one_reporter"
        ),
        min_evidence=evidence,
        reporter_sectors=frozenset(
            _strings(value.get("reporter_sectors", []), "corroboration.reporter_sectors")
        ),
    )


def _day_map(value: object, name: str) -> tuple[tuple[str, int], ...]:
    if not isinstance(value, dict):
        raise MalformedDecisionError(f"{name} is not an object")
    return tuple(
        (str(key), _non_negative_int(days, f"{name}.{key}")) for key, days in sorted(value.items())
    )


def _obligation_texts(value: object, codes: tuple[str, ...]) -> tuple[Obligation, ...]:
    """Each obligation's texts; an obligation without texts is a malformed decision."""
    if not isinstance(value, dict):
        raise MalformedDecisionError("obligation_texts is not an object")
    texts = []
    for code in codes:
        entry = value.get(code)
        if not isinstance(entry, dict):
            raise MalformedDecisionError(f"obligation {code!r} has no texts")
        text_en, text_nl = entry.get("text_en"), entry.get("text_nl")
        if not isinstance(text_en, str) or not isinstance(text_nl, str):
            raise MalformedDecisionError(f"obligation {code!r} has no texts")
        basis = _strings(entry.get("basis", []), f"obligation_texts.{code}.basis")
        texts.append(Obligation(code=code, text_en=text_en, text_nl=text_nl, basis=basis))
    return tuple(texts)


def _positive_int(value: object, name: str) -> int:
    number = _non_negative_int(value, name)
    if number < 1:
        raise MalformedDecisionError(f"{name} is not a positive integer")
    return number


def _quota(value: object) -> Quota | None:
    """The quota of a metered action; malformed limits deny rather than meter nothing."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MalformedDecisionError("quota is not an object")
    enumeration = value.get("enumeration")
    probe = None
    if enumeration is not None:
        if not isinstance(enumeration, dict):
            raise MalformedDecisionError("quota.enumeration is not an object")
        ratio = enumeration.get("max_hit_ratio")
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio <= 1:
            raise MalformedDecisionError("quota.enumeration.max_hit_ratio is not in [0, 1]")
        probe = Enumeration(
            min_distinct=_positive_int(
                enumeration.get("min_distinct"), "quota.enumeration.min_distinct"
            ),
            max_hit_ratio=float(ratio),
        )
    quota = Quota(
        window_seconds=_positive_int(value.get("window_seconds"), "quota.window_seconds"),
        partner=_positive_int(value.get("partner"), "quota.partner"),
        client=_positive_int(value.get("client"), "quota.client"),
        enumeration=probe,
    )
    if quota.client > quota.partner:
        raise MalformedDecisionError("quota.client exceeds quota.partner")
    return quota


def _disclosure(value: object) -> frozenset[Disclosure]:
    levels = _strings(value, "disclosure")
    try:
        return frozenset(Disclosure(level) for level in levels)
    except ValueError:
        raise MalformedDecisionError("disclosure names an unknown level") from None


def _refs(value: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise MalformedDecisionError("refs is not an object")
    return {str(code): _strings(items, f"refs.{code}") for code, items in value.items()}


def _reasons(
    codes: Iterable[str], catalog: ReasonCatalog, refs: Mapping[str, tuple[str, ...]]
) -> tuple[Reason, ...]:
    reasons = []
    for code in codes:
        if code not in catalog:
            raise MalformedDecisionError(f"reason code {code!r} has no METADATA entry")
        reasons.append(catalog.reason(code, refs.get(code, ())))
    return tuple(reasons)


def read_decision(
    result: object, *, catalog: ReasonCatalog, expected_digest: str | None
) -> Decision:
    """Turn the engine's decision document into a :class:`Decision`, or raise if malformed.

    ``expected_digest`` is the loaded bundle's digest (embedded engine); ``None`` accepts the
    digest the document names (an OPA server reports which bundle decided).
    """
    if not isinstance(result, dict):
        raise MalformedDecisionError("decision is undefined or not an object")
    allow = result.get("allow")
    if allow is not True and allow is not False:
        raise MalformedDecisionError("allow is not a boolean")
    digest = result.get("policy_digest")
    if not isinstance(digest, str) or len(digest) != 64:
        raise MalformedDecisionError("policy_digest is missing")
    if expected_digest is not None and digest != expected_digest:
        raise MalformedDecisionError("policy_digest differs from the loaded bundle")
    codes = _strings(result.get("reasons"), "reasons")
    if not codes:
        raise MalformedDecisionError("a decision without reasons")
    if ENGINE_UNAVAILABLE in codes:
        raise MalformedDecisionError("the policy reported itself unavailable")
    taxonomy = result.get("taxonomy_version")
    if taxonomy is not None and not isinstance(taxonomy, str):
        raise MalformedDecisionError("taxonomy_version is not a string")
    if allow is False:
        return Decision(
            allow=False,
            reasons=_reasons(codes, catalog, {}),
            policy_digest=digest,
            taxonomy_version=taxonomy,
        )
    refs = _refs(result.get("refs", {}))
    retention = result.get("retention_days")
    obligations = _strings(result.get("obligations"), "obligations")
    return Decision(
        allow=True,
        reasons=_reasons(codes, catalog, refs),
        policy_digest=digest,
        disclosure=_disclosure(result.get("disclosure")),
        corroboration=_corroboration(result.get("corroboration")),
        retention_days=_non_negative_int(retention, "retention_days"),
        obligations=obligations,
        retention_by_category=_day_map(
            result.get("retention_by_category", {}), "retention_by_category"
        ),
        taxonomy_version=taxonomy,
        quota=_quota(result.get("quota")),
        obligation_texts=_obligation_texts(result.get("obligation_texts", {}), obligations),
        retention_by_role=_day_map(result.get("retention_by_role", {}), "retention_by_role"),
        retention_extensions=frozenset(
            _strings(result.get("retention_extensions", []), "retention_extensions")
        ),
        evidence_levels=_day_map(result.get("evidence_levels", {}), "evidence_levels"),
    )


def decision_json(decision: Decision, request: DecisionRequest | None = None) -> dict[str, Any]:
    """A decision as JSON for ``policy explain --json``, the simulator and audit details."""
    body: dict[str, Any] = {
        "allow": decision.allow,
        "policy_digest": decision.policy_digest,
        "taxonomy_version": decision.taxonomy_version,
        "reasons": [
            {
                "code": reason.code,
                "text_en": reason.text_en,
                "text_nl": reason.text_nl,
                "basis": list(reason.basis),
            }
            for reason in decision.reasons
        ],
        "disclosure": [level.value for level in Disclosure if level in decision.disclosure],
        "corroboration": None
        if decision.corroboration is None
        else decision.corroboration.as_json(),
        "retention_days": decision.retention_days,
        "retention_by_category": dict(decision.retention_by_category),
        "retention_by_role": dict(decision.retention_by_role),
        "obligations": list(decision.obligations),
        "obligation_texts": [
            {"code": o.code, "text_en": o.text_en, "text_nl": o.text_nl, "basis": list(o.basis)}
            for o in decision.obligation_texts
        ],
    }
    if decision.quota is not None:
        body["quota"] = asdict(decision.quota)
    if request is not None:
        body = {"request": request_input(request), **body}
    return body
