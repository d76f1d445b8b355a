"""Phone numbers to E.164, and the fast path that must equal libphonenumber byte for byte."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from connectors import InvalidIdentifier, canonicalize
from connectors.canonical.kinds import Kind
from connectors.canonical.phone import (
    REASON_CHARACTERS,
    REASON_COUNTRY_CODE,
    REASON_LETTERS,
    REASON_PLUS,
    PhoneCanonicaliser,
    canonical_phone,
    clean,
    fast_e164,
    library_e164,
    region_rules,
)
from connectors.errors import UsageError


@pytest.mark.parametrize(
    "raw",
    [
        "06-12345678",
        "+31 (0)6 12345678",
        "0031 6 12345678",
        "+31612345678",
        "06 12 34 56 78",
        "0612345678",
        "(06) 123 456 78",
        "06.12.34.56.78",
        "06/12345678",
        "+31-6-1234-5678",
        "+31\u00a06\u00a012345678",
        " 06-12345678 ",
        "+310612345678",
        "0031 (0)6 12345678",
    ],
)
def test_dutch_mobile_formats_canonicalise_to_one_e164(raw: str) -> None:
    assert canonicalize("phone", raw) == "+31612345678"


@pytest.mark.parametrize(
    ("raw", "region", "canonical"),
    [
        ("020-1234567", "NL", "+31201234567"),
        ("+49 30 123456", "NL", "+4930123456"),  # foreign with +
        ("0049 30 123456", "NL", "+4930123456"),  # foreign with 00
        ("030 123456", "DE", "+4930123456"),  # national, another default region
        ("+32 470 12 34 56", "NL", "+32470123456"),
        ("+44 20 7946 0958", "NL", "+442079460958"),  # shared code: library path
        ("+1 650-253-0000", "NL", "+16502530000"),
        ("0800-1234567", "NL", "+318001234567"),  # toll free service number
        ("0900-1234567", "NL", "+319001234567"),  # premium rate service number
        ("14020", "NL", "+3114020"),  # municipal short number (UAN)
        ("31612345678", "NL", "+31612345678"),  # country code without + or 00
    ],
)
def test_other_valid_numbers(raw: str, region: str, canonical: str) -> None:
    assert canonical_phone(raw, region) == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("06-1234", "not a valid phone number for region NL"),
        ("1234", "phone number is too short for region NL"),
        ("0612345678901", "phone number is too long for region NL"),
        ("+31 123456789012345", "phone number is too long for country calling code +31"),
        ("123456789012345678", "phone number is too long"),
        ("112", "phone number is too short for region NL"),  # emergency: not a subscriber number
        ("4915112345678", "phone number is too long for region NL"),  # foreign without + or 00
        ("+31 1234", "phone number is too short for country calling code +31"),
        ("+31 6 1234", "not a valid phone number for country calling code +31"),
        ("+999 1234567", REASON_COUNTRY_CODE),
        ("06-CALLME", REASON_LETTERS),
        ("06-1234567x", REASON_LETTERS),
        ("tel:+31612345678", REASON_LETTERS),
        ("06#12345678", REASON_CHARACTERS),
        ("06_12345678", REASON_CHARACTERS),
        ("06+12345678", REASON_PLUS),
        ("++31612345678", REASON_PLUS),
        ("", "phone number is empty"),
        ("+", "not a phone number"),
        ("+3", "not a phone number"),
    ],
)
def test_invalid_numbers_are_rejected_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        canonical_phone(raw)
    assert caught.value.reason == reason
    assert caught.value.kind is Kind.PHONE


def test_unknown_region_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        canonical_phone("0612345678", "XX")
    with pytest.raises(UsageError):
        PhoneCanonicaliser("Nederland")


def test_region_is_case_insensitive() -> None:
    assert canonical_phone("0612345678", "nl") == "+31612345678"


@pytest.mark.parametrize(
    "raw",
    ["06-12345678", "+31 (0)6 12345678", "0031 6 12345678", "+31612345678", "020-1234567"],
)
def test_common_dutch_formats_take_the_fast_path(raw: str) -> None:
    cleaned = clean(raw)
    fast = fast_e164(cleaned, region_rules("NL"))
    assert fast is not None
    assert fast == library_e164(cleaned, "NL")


def _example_inputs() -> list[tuple[str, str]]:
    """Every region's example number of every type, written three ways, read in that region."""
    cases = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in (
            PhoneNumberType.FIXED_LINE,
            PhoneNumberType.MOBILE,
            PhoneNumberType.TOLL_FREE,
            PhoneNumberType.PREMIUM_RATE,
            PhoneNumberType.SHARED_COST,
            PhoneNumberType.VOIP,
            PhoneNumberType.PERSONAL_NUMBER,
            PhoneNumberType.PAGER,
            PhoneNumberType.UAN,
            PhoneNumberType.VOICEMAIL,
        ):
            number = phonenumbers.example_number_for_type(region, number_type)
            if number is None:
                continue
            cases.extend(
                (phonenumbers.format_number(number, style), region)
                for style in (
                    PhoneNumberFormat.E164,
                    PhoneNumberFormat.INTERNATIONAL,
                    PhoneNumberFormat.NATIONAL,
                )
            )
    return cases


def test_fast_path_equals_library_on_every_example_number() -> None:
    taken = 0
    for raw, region in _example_inputs():
        try:
            cleaned = clean(raw)
        except InvalidIdentifier:
            continue  # national formats with letters or odd punctuation in a few regions
        fast = fast_e164(cleaned, region_rules(region))
        if fast is None:
            continue
        taken += 1
        assert fast == library_e164(cleaned, region), (raw, region)
    assert taken > 2000, "the fast path should cover most example numbers"


def test_every_dutch_example_number_takes_the_fast_path() -> None:
    for raw, region in _example_inputs():
        if region == "NL":
            assert fast_e164(clean(raw), region_rules("NL")) is not None, raw


_SEPARATOR = st.sampled_from(["", "", "", " ", "-", ".", "/", " - "])
_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=14)


@st.composite
def _phone_like(draw: st.DrawFn) -> str:
    """Phone-shaped text: prefixes people type, digits in groups, separators between."""
    prefix = draw(
        st.sampled_from(
            [
                "",
                "0",
                "06",
                "+31",
                "0031",
                "+31 (0)",
                "+",
                "00",
                "+32",
                "+49",
                "+44",
                "+1",
                "+39",
                "+7",
                "+800",
                "+882",
                "0800",
                "0900",
                "014",
                "085",
                "097",
                "31",
                "(0",
            ]
        )
    )
    groups = draw(st.lists(_DIGITS, min_size=1, max_size=4))
    parts = [prefix]
    for group in groups:
        parts.append(draw(_SEPARATOR))
        parts.append(group)
    return "".join(parts)


@settings(max_examples=1500, deadline=None)
@given(raw=_phone_like(), region=st.sampled_from(["NL", "NL", "DE", "BE", "GB", "US", "IT", "FR"]))
@example(raw="+31 (0)6 12345678", region="NL")
@example(raw="06-1234", region="NL")
@example(raw="0612345678", region="GB")
@example(raw="+390612345678", region="NL")
def test_fast_path_equals_library_path(raw: str, region: str) -> None:
    try:
        cleaned = clean(raw)
    except InvalidIdentifier:
        assume(False)
        return
    fast = fast_e164(cleaned, region_rules(region))
    try:
        library: str | None = library_e164(cleaned, region)
    except InvalidIdentifier:
        library = None
    if fast is not None:
        assert fast == library
    # The canonicaliser's answer is the library's answer, fast path or not.
    try:
        result: str | None = canonical_phone(raw, region)
    except InvalidIdentifier:
        result = None
    assert result == library


@settings(max_examples=1000, deadline=None)
@given(
    nsn=st.from_regex(r"6[1-58][0-9]{7}|[1-57][0-9]{8}|8[0-9]{6,9}|9[0-9]{6,10}", fullmatch=True)
)
def test_fast_path_equals_library_on_dutch_ranges(nsn: str) -> None:
    rules = region_rules("NL")
    for cleaned in ("0" + nsn, "+31" + nsn, "+310" + nsn):
        fast = fast_e164(cleaned, rules)
        try:
            library: str | None = library_e164(cleaned, "NL")
        except InvalidIdentifier:
            library = None
        if fast is not None:
            assert fast == library


_DUTCH_VALID = st.from_regex(r"6[1-58][0-9]{7}|20[0-9]{7}|800[0-9]{4}|85[0-9]{7}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(
    nsn=_DUTCH_VALID,
    style=st.sampled_from(["0{}", "+31{}", "0031 {}", "+31 (0){}", "0{}-", " 0{} "]),
)
def test_canonical_phone_is_idempotent(nsn: str, style: str) -> None:
    once = canonical_phone(style.format(nsn).rstrip("-"))
    assert once == "+31" + nsn
    assert canonical_phone(once) == once
    assert canonical_phone(once, "US") == once  # E.164 does not depend on the region


@settings(max_examples=300, deadline=None)
@given(raw=st.from_regex(r"\+?[0-9]{0,16}", fullmatch=True))
def test_clean_shortcut_for_already_clean_input_equals_the_full_rules(raw: str) -> None:
    # A leading space takes the full path (trim, character check, separators, 00 -> +).
    try:
        full: str | None = clean(" " + raw)
    except InvalidIdentifier:
        full = None
    try:
        short: str | None = clean(raw)
    except InvalidIdentifier:
        short = None
    assert short == full
