"""docs/policies.md cannot drift from the policies: every code, purpose and basis is in it."""

from __future__ import annotations

from pathlib import Path

from gateway.policy.bundle import PolicyBundle

DOC = (Path(__file__).resolve().parents[4] / "docs" / "policies.md").read_text(encoding="utf-8")


def test_every_reason_code_is_documented(bundle: PolicyBundle) -> None:
    missing = [code for code in bundle.catalog.entries if f"`{code}`" not in DOC]
    assert missing == []


def test_every_purpose_basis_and_condition_is_documented(bundle: PolicyBundle) -> None:
    for section in ("purposes", "legal_bases", "art10_conditions"):
        for key in bundle.data[section]:
            assert f"`{key}`" in DOC, f"{section}: {key}"


def test_every_policy_command_is_documented() -> None:
    for command in ("test", "explain", "bundle", "register", "diff"):
        assert f"ppsgate policy {command}" in DOC
