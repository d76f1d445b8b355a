"""The Policies page's content, read from a bundle: purposes, sources, tests and diffs.

Nothing here is written by hand about the policies: purposes, legal bases and disclosure
come from the bundle's data, rule texts from its METADATA, test results from running the
bundle's own Rego tests and the decision table on the embedded engine, and a version diff
from the stored files of two versions and the decisions each gives on the decision table.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidRequestError
from gateway.policy.bundle import PolicyBundle, bundle_files
from gateway.policy.catalog import ReasonEntry
from gateway.policy.decision import Disclosure
from gateway.policy.rego_tests import (
    Outcome,
    RegoTestResult,
    discover,
    embedded_evaluator,
    run_tests,
)
from gateway.policy.regorus_engine import RegorusEngine
from gateway.policy.table import CaseChange, CaseResult, diff_engines, load_table, run_table

MAX_DIFF_LINES = 4000


@dataclass(frozen=True, slots=True)
class Registration:
    partner_id: str
    partner: str
    basis: Mapping[str, Any]
    art10: Mapping[str, Any] | None
    instruments: list[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class PurposeView:
    id: str
    item: Mapping[str, Any]
    registrations: list[Registration]
    disclosure: list[tuple[str, list[str]]]
    retention_by_category: list[tuple[str, int]]


def _ordered_levels(levels: list[str]) -> list[str]:
    order = [level.value for level in Disclosure]
    return sorted(levels, key=lambda level: order.index(level) if level in order else len(order))


def purposes(data: Mapping[str, Any]) -> list[PurposeView]:
    """Every purpose with who registered it under which basis and what it discloses."""
    partners: Mapping[str, Any] = data.get("partners", {})
    bases: Mapping[str, Any] = data.get("legal_bases", {})
    conditions: Mapping[str, Any] = data.get("art10_conditions", {})
    instruments: Mapping[str, Any] = data.get("instruments", {})
    views = []
    for purpose_id, item in sorted(data.get("purposes", {}).items()):
        registered = []
        for partner_id, partner in sorted(partners.items()):
            registration = partner.get("registrations", {}).get(purpose_id)
            if registration is None:
                continue
            registered.append(
                Registration(
                    partner_id=partner_id,
                    partner=partner.get("name", partner_id),
                    basis={
                        "id": registration.get("legal_basis"),
                        **bases.get(registration.get("legal_basis"), {}),
                    },
                    art10=conditions.get(registration.get("art10"))
                    if registration.get("art10")
                    else None,
                    instruments=[
                        {"id": ref, **instruments.get(ref, {})}
                        for ref in registration.get("instruments", [])
                    ],
                )
            )
        disclosure = [
            (sector, _ordered_levels(list(levels)))
            for sector, levels in sorted(item.get("disclosure", {}).items())
        ]
        by_category = sorted(item.get("retention_days", {}).get("by_category", {}).items())
        views.append(PurposeView(purpose_id, item, registered, disclosure, by_category))
    return views


@dataclass(frozen=True, slots=True)
class SourceView:
    path: str
    text: str
    rules: list[ReasonEntry]


def source(bundle: PolicyBundle, path: str | None) -> SourceView:
    """One Rego module (the decision module by default) and the coded rules it holds."""
    modules = {module.path: module.text for module in bundle.modules}
    chosen = (
        path
        if path in modules
        else next(
            (name for name in sorted(modules) if name.endswith("decision/decision.rego")),
            sorted(modules)[0],
        )
    )
    rules = sorted(
        (entry for entry in bundle.catalog.entries.values() if entry.path == chosen),
        key=lambda entry: entry.line,
    )
    return SourceView(chosen, modules[chosen], rules)


@dataclass(frozen=True, slots=True)
class PolicyTestResults:
    rego: list[RegoTestResult]
    table: list[CaseResult]

    @property
    def rego_passed(self) -> int:
        return sum(result.outcome is Outcome.PASSED for result in self.rego)

    @property
    def table_passed(self) -> int:
        return sum(result.passed for result in self.table)


def run_policy_tests(bundle: PolicyBundle) -> PolicyTestResults:
    """The bundle's Rego unit tests and the decision table, run now on the embedded engine."""
    return PolicyTestResults(
        rego=run_tests(discover(bundle), embedded_evaluator(bundle)),
        table=run_table(RegorusEngine(bundle), load_table()),
    )


@dataclass(frozen=True, slots=True)
class FileDiff:
    path: str
    lines: list[tuple[str, str]]  # (css class, text)


@dataclass(frozen=True, slots=True)
class VersionDiff:
    files: list[FileDiff]
    decisions: list[CaseChange]
    truncated: bool


def _classify(line: str) -> str:
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+") and not line.startswith("+++"):
        return "add"
    if line.startswith("-") and not line.startswith("---"):
        return "del"
    return "ctx"


def _texts(bundle: PolicyBundle) -> dict[str, str]:
    files = {name: raw.decode("utf-8") for name, raw in bundle_files(bundle).items()}
    # The generated data.json holds the digest, which always differs: compare the policy data.
    files["data.json"] = (
        json.dumps(dict(bundle.data), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
    return files


def diff_versions(before: PolicyBundle, after: PolicyBundle) -> VersionDiff:
    """File-by-file unified diff and the decision-table cases whose decision changes."""
    old, new = _texts(before), _texts(after)
    files: list[FileDiff] = []
    budget = MAX_DIFF_LINES
    truncated = False
    for path in sorted(set(old) | set(new)):
        if path == ".manifest" or old.get(path) == new.get(path):
            continue
        lines = list(
            difflib.unified_diff(
                old.get(path, "").splitlines(),
                new.get(path, "").splitlines(),
                fromfile=f"a/{path}",
                tofile=f"b/{path}",
                lineterm="",
                n=3,
            )
        )
        if len(lines) > budget:
            lines, truncated = lines[:budget], True
        budget -= len(lines)
        files.append(FileDiff(path, [(_classify(line), line) for line in lines]))
    changes = diff_engines(RegorusEngine(before), RegorusEngine(after), load_table())
    return VersionDiff(files=files, decisions=changes, truncated=truncated)


def only(views: list[PurposeView], purpose_id: str | None) -> list[PurposeView]:
    """The purposes a page shows: all, or the one its filter names (unknown: refused)."""
    if not purpose_id:
        return views
    chosen = [view for view in views if view.id == purpose_id]
    if not chosen:
        raise InvalidRequestError(f"unknown purpose {purpose_id!r}", field="purpose")
    return chosen
