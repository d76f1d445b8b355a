"""docs/policies.md cannot drift from the policies: every code, purpose and basis is in it."""

from __future__ import annotations

from pathlib import Path

from gateway.indicators.schemas import MAX_BATCH
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
    for command in ("test", "explain", "bundle", "register", "diff", "dpia"):
        assert f"ppsgate policy {command}" in DOC


def test_the_purpose_table_states_each_purpose_s_batch_limit(bundle: PolicyBundle) -> None:
    """The 'Max per request' column is the policy data's ``max_batch``, purpose by purpose."""
    rows = {
        cells[1].strip("` "): cells[7].strip()
        for line in DOC.splitlines()
        if line.startswith("| `") and len(cells := line.split("|")) > 8
    }
    for purpose, spec in bundle.data["purposes"].items():
        assert rows.get(purpose) == str(spec["max_batch"]), purpose


def test_the_bulk_purposes_take_the_api_s_largest_batch(bundle: PolicyBundle) -> None:
    """Policy data and request schemas agree on the largest batch, and a full batch fits the
    shipped quota of one connector client several times over."""
    for purpose in ("indicator_submission", "batch_screening", "watchlist_alerts"):
        assert bundle.data["purposes"][purpose]["max_batch"] == MAX_BATCH
        quota = bundle.data["quotas"]["purposes"][purpose]
        assert quota["client"] >= 5 * MAX_BATCH, purpose
        assert quota["partner"] >= quota["client"], purpose
