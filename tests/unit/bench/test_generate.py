"""The benchmark's synthetic identifiers must be what a connector would send: valid, canonical."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.generate import KIND_MIX, check_sample, iban_check_digits, identifiers
from connectors.canonical import Kind, canonicalize


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_generated_identifiers_are_already_canonical(seed: int) -> None:
    for kind, value in identifiers(50, seed=seed):
        assert canonicalize(kind, value) == value


def test_iban_check_digits_follow_iso_13616() -> None:
    # The example IBAN of the Dutch banks' association: NL91 ABNA 0417 1643 00.
    assert iban_check_digits("NL", "ABNA0417164300") == "91"
    for kind, value in identifiers(500, seed=3):
        if kind is Kind.IBAN:
            digits = "".join(str(int(c, 36)) for c in value[4:] + value[:4])
            assert int(digits) % 97 == 1


def test_kinds_follow_the_mix_and_runs_repeat() -> None:
    counts = Counter(kind for kind, _ in identifiers(10_000, seed=5))
    for kind, share in KIND_MIX:
        assert abs(counts[kind] / 10_000 - share) < 0.03
    assert list(identifiers(100, seed=9)) == list(identifiers(100, seed=9))
    assert check_sample(100) == 100
