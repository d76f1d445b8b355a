"""The per-kind benchmark makes values every canonicaliser accepts, and measures them."""

from __future__ import annotations

import random

import pytest

from bench.hashing_kinds import MAKERS, NEW_KINDS, measure_kind
from connectors.canonical import Kind, canonicalize
from connectors.hashing import TypeKeys


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_synthetic_values_are_valid_and_varied(kind: Kind) -> None:
    rng = random.Random(3)
    values = [MAKERS[kind](rng, serial) for serial in range(200)]
    canonicals = {canonicalize(kind, value) for value in values}
    assert len(canonicals) == len(values)


def test_measure_reports_both_costs_per_value() -> None:
    keys = TypeKeys.from_master_salt(bytes(32), epoch=1)
    cost = measure_kind(Kind.SOCIAL_ACCOUNT, keys, rows=50, seed=1)
    assert cost.rows == 50
    assert cost.end_to_end_us > 0
    assert cost.raw_hmac_us > 0
    assert "social_account: 50 values" in cost.line()
