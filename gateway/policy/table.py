"""The decision table: requests with their expected decisions, as data.

The table (``policies/decision_table.json``) is what privacy officers review next to the
policies: each case names a request and the expected ``allow``, reason codes and
disclosure levels. The same table runs against every engine, and ``ppsgate policy diff``
runs it against two bundle versions to show which decisions a change alters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.errors import InvalidRequestError
from gateway.policy.bundle import default_policy_dir
from gateway.policy.decision import Action, Decision, DecisionRequest, Disclosure, PolicyEngine

TABLE_NAME = "decision_table.json"
OPTIONAL_EXPECTATIONS = ("corroboration", "retention_days", "obligations")


@dataclass(frozen=True, slots=True)
class TableCase:
    name: str
    request: DecisionRequest
    allow: bool
    reasons: frozenset[str]
    disclosure: frozenset[Disclosure]
    scenario: str = ""
    # Optional further expectations, checked when present: corroboration, retention_days,
    # obligations.
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: TableCase
    decision: Decision
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def default_table_path() -> Path:
    return default_policy_dir() / TABLE_NAME


def _str_list(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidRequestError("must be a list of strings", field=f"{where}.{key}")
    return tuple(value)


def _disclosures(values: Sequence[str], field: str) -> frozenset[Disclosure]:
    try:
        return frozenset(Disclosure(value) for value in values)
    except ValueError:
        known = ", ".join(level.value for level in Disclosure)
        raise InvalidRequestError(f"unknown disclosure level; use {known}", field=field) from None


def _spec_pairs(raw: Mapping[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    """``specs`` as in the input document (``{"phone": ["v2"]}``) to (kind, spec) pairs."""
    value = raw.get("specs", {})
    if not isinstance(value, dict):
        raise InvalidRequestError("must be an object", field=f"{where}.specs")
    pairs: list[tuple[str, str]] = []
    for kind in value:
        pairs.extend((kind, spec) for spec in _str_list(value, kind, f"{where}.specs"))
    return tuple(sorted(pairs))


def request_from_json(raw: object, where: str = "request") -> DecisionRequest:
    """A :class:`DecisionRequest` from its JSON form (the input document's field names)."""
    if not isinstance(raw, dict):
        raise InvalidRequestError("must be an object", field=where)
    try:
        action = Action(str(raw.get("action")))
    except ValueError:
        known = ", ".join(action.value for action in Action)
        raise InvalidRequestError(f"unknown action; use {known}", field=f"{where}.action") from None
    for key in ("partner_id", "purpose"):
        if not isinstance(raw.get(key), str):
            raise InvalidRequestError("must be a string", field=f"{where}.{key}")
    legal_basis = raw.get("legal_basis")
    if legal_basis is not None and not isinstance(legal_basis, str):
        raise InvalidRequestError("must be a string or null", field=f"{where}.legal_basis")
    batch_size = raw.get("batch_size", 1)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise InvalidRequestError("must be an integer", field=f"{where}.batch_size")
    context = raw.get("context", {})
    if not isinstance(context, dict):
        raise InvalidRequestError("must be an object", field=f"{where}.context")
    return DecisionRequest(
        action=action,
        partner_id=raw["partner_id"],
        purpose=raw["purpose"],
        legal_basis=legal_basis,
        kinds=_str_list(raw, "kinds", where),
        specs=_spec_pairs(raw, where),
        categories=_str_list(raw, "categories", where),
        batch_size=batch_size,
        context=dict(context),
        disclosure_requested=_disclosures(
            _str_list(raw, "disclosure_requested", where), f"{where}.disclosure_requested"
        ),
    )


def load_table(path: Path | None = None) -> list[TableCase]:
    """Read and validate a decision table (the shipped one by default)."""
    location = path or default_table_path()
    try:
        document = json.loads(location.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidRequestError(
            f"cannot read decision table: {exc}", field=str(location)
        ) from None
    cases_raw = document.get("cases") if isinstance(document, dict) else None
    if not isinstance(cases_raw, list):
        raise InvalidRequestError("must hold a list under 'cases'", field=str(location))
    cases: list[TableCase] = []
    names: set[str] = set()
    for index, raw in enumerate(cases_raw):
        where = f"cases[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise InvalidRequestError("must be an object with a name", field=where)
        if raw["name"] in names:
            raise InvalidRequestError("duplicate case name", field=f"{where}.name")
        names.add(raw["name"])
        expect = raw.get("expect")
        if not isinstance(expect, dict) or not isinstance(expect.get("allow"), bool):
            raise InvalidRequestError("must hold a boolean 'allow'", field=f"{where}.expect")
        cases.append(
            TableCase(
                name=raw["name"],
                request=request_from_json(raw.get("request"), f"{where}.request"),
                allow=expect["allow"],
                reasons=frozenset(_str_list(expect, "reasons", f"{where}.expect")),
                disclosure=_disclosures(
                    _str_list(expect, "disclosure", f"{where}.expect"), f"{where}.expect"
                ),
                scenario=str(raw.get("scenario", "")),
                extra={key: expect[key] for key in OPTIONAL_EXPECTATIONS if key in expect},
            )
        )
    return cases


def check_case(case: TableCase, decision: Decision) -> CaseResult:
    problems: list[str] = []
    if decision.allow is not case.allow:
        problems.append(f"allow: expected {case.allow}, got {decision.allow}")
    codes = frozenset(decision.reason_codes)
    if codes != case.reasons:
        problems.append(f"reasons: expected {sorted(case.reasons)}, got {sorted(codes)}")
    if decision.disclosure != case.disclosure:
        problems.append(
            f"disclosure: expected {sorted(case.disclosure)}, got {sorted(decision.disclosure)}"
        )
    actual: dict[str, object] = {
        "corroboration": None
        if decision.corroboration is None
        else decision.corroboration.as_json(),
        "retention_days": decision.retention_days,
        "obligations": sorted(decision.obligations),
    }
    for key, expected in case.extra.items():
        wanted = (
            sorted(expected) if key == "obligations" and isinstance(expected, list) else expected
        )
        if actual[key] != wanted:
            problems.append(f"{key}: expected {wanted}, got {actual[key]}")
    return CaseResult(case=case, decision=decision, problems=tuple(problems))


def run_table(engine: PolicyEngine, cases: Sequence[TableCase]) -> list[CaseResult]:
    return [check_case(case, engine.decide(case.request)) for case in cases]


def outcome_key(decision: Decision) -> tuple[object, ...]:
    """What a policy change can alter about a decision (texts and digests excluded)."""
    return (
        decision.allow,
        tuple(sorted(decision.reason_codes)),
        tuple(sorted(decision.disclosure)),
        decision.corroboration,
        decision.retention_days,
        tuple(sorted(decision.obligations)),
    )


@dataclass(frozen=True, slots=True)
class CaseChange:
    case: TableCase
    before: Decision
    after: Decision


def diff_engines(
    before: PolicyEngine, after: PolicyEngine, cases: Sequence[TableCase]
) -> list[CaseChange]:
    """The cases whose decision differs between two engines (two bundle versions)."""
    changes: list[CaseChange] = []
    for case in cases:
        old, new = before.decide(case.request), after.decide(case.request)
        if outcome_key(old) != outcome_key(new):
            changes.append(CaseChange(case=case, before=old, after=new))
    return changes
