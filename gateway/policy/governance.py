"""Stored policy versions: the active one, any stored bundle, and the tests a proposal must pass.

The four-eyes workflow that proposes, approves and activates versions
(:class:`gateway.governance.PolicyGovernance`) needs the console users of ``gateway.auth``
and therefore lives above authentication; this module stays in the policy area, below the
services container, because the partner registry and the console read the active version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.policy.bundle import PolicyBundle, bundle_files, bundle_from_files
from gateway.policy.models import PolicyVersion, VersionStatus
from gateway.policy.rego_tests import Outcome, discover, embedded_evaluator, run_tests
from gateway.policy.regorus_engine import RegorusEngine
from gateway.policy.table import load_table, run_table


@dataclass(frozen=True, slots=True)
class TestReport:
    rego_passed: int
    rego_failed: int
    table_passed: int
    table_failed: int

    @property
    def ok(self) -> bool:
        return self.rego_failed == 0 and self.table_failed == 0


def test_bundle(bundle: PolicyBundle) -> TestReport:
    """Run the bundle's Rego tests and the shipped decision table on it."""
    rego = run_tests(discover(bundle), embedded_evaluator(bundle))
    table = run_table(RegorusEngine(bundle), load_table())
    return TestReport(
        rego_passed=sum(r.outcome is Outcome.PASSED for r in rego),
        rego_failed=sum(r.outcome is not Outcome.PASSED for r in rego),
        table_passed=sum(r.passed for r in table),
        table_failed=sum(not r.passed for r in table),
    )


def stored_bundle(version: PolicyVersion) -> PolicyBundle:
    files = {name: text.encode() for name, text in json.loads(version.files).items()}
    return bundle_from_files(files, source=f"policy version {version.digest[:12]}")


def active_version(session: Session) -> PolicyVersion | None:
    return session.execute(
        select(PolicyVersion).where(PolicyVersion.status == VersionStatus.ACTIVE.value)
    ).scalar_one_or_none()


def files_json(bundle: PolicyBundle) -> str:
    return json.dumps(
        {name: raw.decode("utf-8") for name, raw in bundle_files(bundle).items()},
        sort_keys=True,
        ensure_ascii=False,
    )
