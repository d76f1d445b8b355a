"""Phone numbers to E.164 (``+31612345678``) with libphonenumber's metadata as the judge.

Two steps. First our own, library-independent input rules (spelled out in docs/hashing.md):
only digits, white space and ``+ - . ( ) /`` are allowed, separators are dropped, ``+`` may
only lead, and a leading ``00`` is read as ``+``. The result (``+`` and digits, or digits
only) goes to ``phonenumbers.parse`` with the default region, must pass ``is_valid_number``
and is formatted as E.164.

``phonenumbers.parse`` costs ~15 µs, most of a row's budget, so :func:`fast_e164` repeats
the few steps ``parse`` + ``is_valid_number`` take for the common shapes (``+CC...`` with a
single-region country code, ``0...`` national numbers) on the same metadata objects, and
returns ``None`` for anything else. It only ever accepts; a ``None`` goes to the library,
which also words every rejection. Property tests check fast == library on generated input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    NumberParseException,
    PhoneMetadata,
    PhoneNumberFormat,
    ValidationResult,
)

from connectors.canonical.kinds import Kind
from connectors.canonical.text import MAX_VALUE_LENGTH, WHITESPACE, trim
from connectors.errors import InvalidIdentifier, UsageError

#: Characters dropped as separators (inner white space included).
SEPARATORS = WHITESPACE + "-.()/"

REASON_LETTERS = "phone number contains letters"
REASON_CHARACTERS = "phone number contains characters other than digits, spaces and + - . ( ) /"
REASON_PLUS = "'+' may only appear at the start of a phone number"
REASON_NOT_A_NUMBER = "not a phone number"
REASON_COUNTRY_CODE = "unknown country calling code"
REASON_TOO_SHORT = "phone number is too short"
REASON_TOO_LONG = "phone number is too long"

_ALLOWED = frozenset("0123456789+" + SEPARATORS)
_ALLOWED_TEXT = re.compile("[0-9+" + re.escape(SEPARATORS) + "]*")
_DROP_SEPARATORS = str.maketrans("", "", SEPARATORS)
_MIN_NSN = 2  # libphonenumber's _MIN_LENGTH_FOR_NSN
_MAX_NSN = 17  # libphonenumber's _MAX_LENGTH_FOR_NSN
_MAX_COUNTRY_CODE_DIGITS = 3
_NON_GEOGRAPHIC = "001"


def check_region(region: str) -> str:
    """The region code in upper case, or :class:`UsageError` if libphonenumber lacks it."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise UsageError(
            "unknown region (use a two-letter ISO 3166 country code such as NL)", field="region"
        )
    return code


def clean(value: str) -> str:
    """Apply the input rules; return ``+digits`` or ``digits``, or raise with the reason."""
    if (
        len(value) <= MAX_VALUE_LENGTH
        and value.isascii()
        and (value.isdigit() or (value[:1] == "+" and value[1:].isdigit()))
    ):
        # Already clean (E.164 or bare digits): every rule below would leave it unchanged.
        return "+" + value[2:] if value.startswith("00") else value
    text = trim(value, Kind.PHONE)
    if _ALLOWED_TEXT.fullmatch(text) is None:
        for char in text:
            if char not in _ALLOWED:
                reason = REASON_LETTERS if char.isalpha() else REASON_CHARACTERS
                raise InvalidIdentifier(reason, kind=Kind.PHONE)
    # str.replace is ~10x cheaper than translate; translate only for exotic white space.
    text = text.replace(" ", "").replace("-", "")
    if not text.isdigit():
        text = text.replace("(", "").replace(")", "").replace(".", "").replace("/", "")
        if not text.lstrip("+").isdigit():
            text = text.translate(_DROP_SEPARATORS)
    if "+" in text[1:]:
        raise InvalidIdentifier(REASON_PLUS, kind=Kind.PHONE)
    if text.startswith("00"):
        text = "+" + text[2:]
    return text


@dataclass(frozen=True, slots=True)
class RegionRules:
    """One region's metadata, pre-compiled for :func:`fast_e164`."""

    country_code: str
    # True when the calling code belongs to this region alone; shared codes (+1, +44, +7)
    # make libphonenumber pick the region from the number, which is not emulated.
    single_region: bool
    idd: re.Pattern[str] | None
    national_prefix: re.Pattern[str] | None
    # False when a transform rule rewrites the number after the national prefix: not emulated.
    plain_national_prefix: bool
    general: re.Pattern[str]
    general_lengths: frozenset[int]
    possible_lengths: tuple[int, ...]
    local_only_lengths: frozenset[int]
    # Per NSN length: one alternation of every number type possible at that length.
    types_by_length: dict[int, re.Pattern[str]]

    def keeps_stripped(self, number: str) -> bool:
        """libphonenumber keeps a prefix-stripped number unless its length test fails."""
        length = len(number)
        if length in self.local_only_lengths:
            return False
        shortest = self.possible_lengths[0]
        if length == shortest:
            return True
        if length < shortest:
            return False
        if length > self.possible_lengths[-1]:
            return True  # TOO_LONG still keeps the stripped form
        return length in self.possible_lengths[1:]

    def is_valid(self, nsn: str) -> bool:
        """``_number_type_helper(nsn) != UNKNOWN``: general description, then any type."""
        types = self.types_by_length.get(len(nsn))
        return (
            types is not None
            and self.general.fullmatch(nsn) is not None
            and types.fullmatch(nsn) is not None
        )


_TYPE_FIELDS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


@cache
def region_rules(region: str) -> RegionRules | None:
    """Compiled rules for a region, or ``None`` where libphonenumber has no metadata."""
    meta = PhoneMetadata.metadata_for_region(region, None)
    general = None if meta is None else meta.general_desc
    general_pattern = None if general is None else general.national_number_pattern
    if meta is None or general is None or not general_pattern:
        return None
    types: list[tuple[frozenset[int], str]] = []
    for name in _TYPE_FIELDS:
        desc = getattr(meta, name)
        pattern = None if desc is None else desc.national_number_pattern
        if pattern:
            types.append((frozenset(desc.possible_length), pattern))
    types_by_length: dict[int, re.Pattern[str]] = {}
    for length in general.possible_length:
        alternatives = [f"(?:{p})" for lengths, p in types if not lengths or length in lengths]
        if alternatives:
            types_by_length[length] = re.compile("|".join(alternatives))
    prefix = meta.national_prefix_for_parsing
    calling_code = meta.country_code or 0
    return RegionRules(
        country_code=str(calling_code),
        single_region=COUNTRY_CODE_TO_REGION_CODE.get(calling_code, ()) == (region,),
        idd=re.compile(meta.international_prefix) if meta.international_prefix else None,
        national_prefix=re.compile(prefix) if prefix else None,
        plain_national_prefix=not meta.national_prefix_transform_rule,
        general=re.compile(general_pattern),
        general_lengths=frozenset(general.possible_length),
        possible_lengths=tuple(general.possible_length),
        local_only_lengths=frozenset(general.possible_length_local_only),
        types_by_length=types_by_length,
    )


@cache
def _country_codes() -> dict[str, str | None]:
    """Every calling code as a string, mapped to its region when it has only one."""
    return {
        # Shared codes (+1, +44, +7 ...) need region disambiguation: left to the library.
        str(code): regions[0] if len(regions) == 1 and regions[0] != _NON_GEOGRAPHIC else None
        for code, regions in COUNTRY_CODE_TO_REGION_CODE.items()
    }


_rules_by_code: dict[str, RegionRules] = {}
_codes: dict[str, str | None] = {}


def _load_codes() -> dict[str, str | None]:
    _codes.update(_country_codes())
    return _codes


def fast_e164(cleaned: str, default: RegionRules | None) -> str | None:
    """E.164 for the common shapes, or ``None`` for "ask the library" (never a rejection)."""
    if cleaned.startswith("+"):
        digits = cleaned[1:]
        if len(digits) <= _MIN_NSN or digits[0] == "0":
            return None
        codes = _codes or _load_codes()
        for size in range(1, _MAX_COUNTRY_CODE_DIGITS + 1):
            code = digits[:size]
            if code in codes:
                rules = _rules_by_code.get(code)
                if rules is None:
                    region = codes[code]
                    rules = None if region is None else region_rules(region)
                    if rules is not None:
                        _rules_by_code[code] = rules
                number = digits[size:]
                break
        else:
            return None
    else:
        rules = default
        number = cleaned
        if (
            rules is None
            or not rules.single_region
            or not number
            or (rules.idd is not None and rules.idd.match(number) is not None)
            or number.startswith(rules.country_code)
        ):
            return None
    if rules is None or len(number) < _MIN_NSN:
        return None
    return _finish(rules, number)


def _finish(rules: RegionRules, number: str) -> str | None:
    """National-prefix stripping and validation as ``parse`` + ``is_valid_number`` do them."""
    if rules.national_prefix is not None:
        match = rules.national_prefix.match(number)
        if match is not None:
            if not rules.plain_national_prefix:
                return None
            stripped = number[match.end() :]
            viable = rules.general.fullmatch(number) is not None
            if not (viable and rules.general.fullmatch(stripped) is None) and rules.keeps_stripped(
                stripped
            ):
                number = stripped
    if not number or len(number) > _MAX_NSN or number[0] == "0":
        return None  # leading zeros (Italian style) and oddities: library
    types = rules.types_by_length.get(len(number))  # RegionRules.is_valid, inlined
    if (
        types is not None
        and rules.general.fullmatch(number) is not None
        and types.fullmatch(number) is not None
    ):
        return "+" + rules.country_code + number
    return None


def library_e164(cleaned: str, region: str) -> str:
    """E.164 through ``phonenumbers``; raise with the analyst's reason when it is not valid."""
    try:
        number = phonenumbers.parse(cleaned, region)
    except NumberParseException as exc:
        raise InvalidIdentifier(_parse_reason(exc), kind=Kind.PHONE) from None
    if number.extension:
        raise InvalidIdentifier(REASON_CHARACTERS, kind=Kind.PHONE)
    if not phonenumbers.is_valid_number(number):
        where = (
            f"country calling code +{number.country_code}"
            if cleaned.startswith("+")
            else f"region {region}"
        )
        possible = phonenumbers.is_possible_number_with_reason(number)
        if possible == ValidationResult.TOO_SHORT:
            reason = f"phone number is too short for {where}"
        elif possible == ValidationResult.TOO_LONG:
            reason = f"phone number is too long for {where}"
        elif possible == ValidationResult.INVALID_COUNTRY_CODE:
            reason = REASON_COUNTRY_CODE
        else:
            reason = f"not a valid phone number for {where}"
        raise InvalidIdentifier(reason, kind=Kind.PHONE)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _parse_reason(exc: NumberParseException) -> str:
    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        return REASON_COUNTRY_CODE
    if exc.error_type in (
        NumberParseException.TOO_SHORT_NSN,
        NumberParseException.TOO_SHORT_AFTER_IDD,
    ):
        return REASON_TOO_SHORT
    if exc.error_type == NumberParseException.TOO_LONG:
        return REASON_TOO_LONG
    return REASON_NOT_A_NUMBER


def canonical_phone(value: str, region: str = "NL") -> str:
    """E.164 with leading ``+`` (e.g. ``+31612345678``) or :class:`InvalidIdentifier`."""
    code = check_region(region)
    cleaned = clean(value)
    return fast_e164(cleaned, region_rules(code)) or library_e164(cleaned, code)


class PhoneCanonicaliser:
    """``canonical_phone`` with the region resolved once, for the batch path."""

    __slots__ = ("_region", "_rules")

    def __init__(self, region: str = "NL") -> None:
        self._region = check_region(region)
        self._rules = region_rules(self._region)

    def __call__(self, value: str) -> str:
        cleaned = clean(value)
        return fast_e164(cleaned, self._rules) or library_e164(cleaned, self._region)
