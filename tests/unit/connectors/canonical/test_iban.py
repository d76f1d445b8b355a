"""IBAN canonicalisation: ISO 13616 format, registry BBAN formats, mod 97, no bank lookup."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schwifty import IBAN

from connectors import InvalidIdentifier, canonicalize
from connectors.canonical import iban as iban_module
from connectors.canonical.iban import (
    REASON_ASPIRATIONAL,
    REASON_CHARACTERS,
    REASON_CHECK_DIGITS,
    REASON_COUNTRY,
    REASON_FORMAT,
    REASON_LENGTH,
    REASON_PREFIX,
    canonical_iban,
    fast_formats,
    library_verdict,
    passes_fast_check,
)
from connectors.canonical.kinds import Kind

OFFICIAL_COUNTRIES = sorted(fast_formats())


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("NL91ABNA0417164300", "NL91ABNA0417164300"),
        ("NL91 ABNA 0417 1643 00", "NL91ABNA0417164300"),
        ("  nl91abna0417164300\t", "NL91ABNA0417164300"),
        ("NL91-ABNA-0417-1643-00", "NL91ABNA0417164300"),
        ("NL91\u00a0ABNA\u00a00417\u00a01643\u00a000", "NL91ABNA0417164300"),  # NBSP from PDFs
        ("NL91\u2011ABNA\u20110417164300", "NL91ABNA0417164300"),  # non-breaking hyphen
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("BE68 5390 0754 7034", "BE68539007547034"),
        ("GB29 NWBK 6016 1331 9268 19", "GB29NWBK60161331926819"),
        ("fr14 2004 1010 0505 0001 3m02 606", "FR1420041010050500013M02606"),
    ],
)
def test_valid_ibans_are_compacted_and_upper_cased(raw: str, canonical: str) -> None:
    assert canonicalize("iban", raw) == canonical


def test_dutch_iban_failing_the_abolished_eleven_test_is_accepted() -> None:
    account = "0417164301"
    weighted = sum(int(d) * w for d, w in zip(account, range(10, 0, -1), strict=True))
    assert weighted % 11 != 0, "the fixture must fail the 11-test"
    assert canonical_iban("NL64 ABNA 0417 1643 01") == "NL64ABNA0417164301"


def test_unknown_bank_code_is_accepted_because_banks_are_not_looked_up() -> None:
    iban = str(IBAN.generate("NL", bank_code="ZZZZ", account_code="1234567890"))
    assert canonical_iban(iban) == iban


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("NL92ABNA0417164300", REASON_CHECK_DIGITS),
        ("NL91ABNA041716430", REASON_LENGTH),
        ("NL91ABNA04171643000", REASON_LENGTH),
        ("XX91ABNA0417164300", REASON_COUNTRY),
        ("NL91ABN10417164300", REASON_FORMAT),  # bank code must be 4 letters
        ("NLAB ABNA 0417 1643 00", REASON_PREFIX),
        ("91NLABNA0417164300", REASON_PREFIX),
        ("NL91_ABNA_0417_1643_00", REASON_CHARACTERS),
        ("NL91ABNA0417164300ß", REASON_CHARACTERS),
        ("NL\u0669\u0661ABNA0417164300", REASON_CHARACTERS),  # Arabic-Indic digits
        ("", "IBAN is empty"),
        ("   ", "IBAN is empty"),
    ],
)
def test_invalid_ibans_are_rejected_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        canonical_iban(raw)
    assert caught.value.reason == reason
    assert caught.value.kind is Kind.IBAN


def test_check_digit_aliases_00_01_99_are_rejected() -> None:
    # 98 - r and 98 - r + 97 are equal mod 97: "99" stands for "02", "00"/"01" for "97"/"98".
    valid = _random_valid("NL", random.Random(5))
    body = valid[4:]
    for check in ("00", "01", "99"):
        candidate = valid[:2] + check + body
        with pytest.raises(InvalidIdentifier):
            canonical_iban(candidate)


def test_aspirational_registry_countries_are_rejected() -> None:
    iban = str(IBAN.random("MA", random=random.Random(3)))
    with pytest.raises(InvalidIdentifier) as caught:
        canonical_iban(iban)
    assert caught.value.reason == REASON_ASPIRATIONAL


def test_reason_never_contains_the_value() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        canonical_iban("NL92ABNA0417164300")
    assert "0417164300" not in str(caught.value)
    assert "0417164300" not in caught.value.diagnostics()


def _random_valid(country: str, rng: random.Random) -> str:
    return str(IBAN.random(country, random=rng))


@settings(max_examples=300, deadline=None)
@given(country=st.sampled_from(OFFICIAL_COUNTRIES), seed=st.integers(0, 2**32 - 1))
def test_fast_check_accepts_every_valid_registry_iban(country: str, seed: int) -> None:
    iban = _random_valid(country, random.Random(seed))
    assert passes_fast_check(iban)
    assert canonical_iban(iban) == iban


@settings(max_examples=500, deadline=None)
@given(
    country=st.sampled_from(OFFICIAL_COUNTRIES),
    seed=st.integers(0, 2**32 - 1),
    position=st.integers(0, 40),
    replacement=st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
)
def test_fast_check_agrees_with_schwifty_on_mutated_ibans(
    country: str, seed: int, position: int, replacement: str
) -> None:
    valid = _random_valid(country, random.Random(seed))
    position %= len(valid)
    candidate = valid[:position] + replacement + valid[position + 1 :]
    try:
        IBAN(candidate, validate_bban=False)
        schwifty_accepts = True
    except Exception:  # noqa: BLE001 - any schwifty rejection counts
        schwifty_accepts = False
    assert passes_fast_check(candidate) == schwifty_accepts
    if schwifty_accepts:
        assert library_verdict(candidate) == candidate


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=0, max_size=36))
def test_fast_check_never_accepts_what_schwifty_rejects(text: str) -> None:
    if passes_fast_check(text):
        assert str(IBAN(text, validate_bban=False)) == text


@settings(max_examples=200, deadline=None)
@given(country=st.sampled_from(OFFICIAL_COUNTRIES), seed=st.integers(0, 2**32 - 1))
def test_canonical_iban_is_idempotent(country: str, seed: int) -> None:
    iban = _random_valid(country, random.Random(seed))
    spaced = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)).lower()
    once = canonical_iban(spaced)
    assert canonical_iban(once) == once == iban


def test_bank_code_digit_cache_is_bounded() -> None:
    for index in range(iban_module._MAX_CACHED_SEGMENTS + 50):
        letters = "".join(chr(65 + (index // 26**k) % 26) for k in range(4))
        iban_module._as_digits(letters)
    assert len(iban_module._segment_digits) <= iban_module._MAX_CACHED_SEGMENTS
