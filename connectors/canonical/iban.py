"""IBAN canonical form (ISO 13616): compact, upper case, country format and mod-97 checked.

The country formats come from schwifty's copy of the SWIFT IBAN registry. schwifty decides:
the fast check below only ever *accepts* (an IBAN that passes it passes schwifty too, which
the property tests assert); everything it does not accept is handed to ``schwifty.IBAN``,
whose verdict and error class give the reason. Neither path looks the bank code up or runs a
national account-number check (the Dutch 11-test was abolished in 2020; new Dutch account
numbers fail it), so ``validate_bban`` stays off.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache

from schwifty import IBAN, exceptions, registry

from connectors.canonical.kinds import Kind
from connectors.canonical.text import trim
from connectors.errors import InvalidIdentifier

#: Separators removed before anything else: white space (see ``text.WHITESPACE``; trimming
#: happens first, inner white space is removed here) and the hyphens people type or paste.
SEPARATORS = (
    "\u0009\u000a\u000b\u000c\u000d\u0020\u0085\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
    "\u002d\u2010\u2011"
)

REASON_CHARACTERS = "IBAN contains characters other than letters, digits, spaces and hyphens"
REASON_PREFIX = "IBAN does not start with a two-letter country code and two check digits"
REASON_COUNTRY = "IBAN country code is not in the IBAN registry"
REASON_ASPIRATIONAL = "IBAN country is not in the official IBAN registry (format only proposed)"
REASON_LENGTH = "IBAN length does not match its country"
REASON_FORMAT = "IBAN account part does not match its country's format"
REASON_CHECK_DIGITS = "IBAN check digits do not match"

_DROP_SEPARATORS = str.maketrans("", "", SEPARATORS)
_LETTERS_TO_NUMBERS = str.maketrans({chr(65 + i): str(10 + i) for i in range(26)})
_PREFIX = re.compile(r"[A-Z]{2}[0-9]{2}")
_SPEC_TOKEN = re.compile(r"(\d+)(!?)([nace])")
_MOD = 97
_MAX_CACHED_SEGMENTS = 4096


@dataclass(frozen=True, slots=True)
class CountryFormat:
    """The registry entry of one country, reduced to what validation needs."""

    country: str
    length: int
    bban_spec: str
    bban: re.Pattern[str]
    aspirational: bool
    # BBAN slices that may hold letters (a/c classes); None: not known, treat all as such.
    letter_spans: tuple[tuple[int, int], ...] | None
    # The country code as ISO 7064 digits ("NL" -> "2321"), appended before the check digits.
    country_digits: str


@cache
def country_format(country: str) -> CountryFormat | None:
    """The registry entry for ``country`` (two upper-case letters), or ``None`` if unknown."""
    try:
        spec = registry.get_iban_spec(country)
    except exceptions.InvalidCountryCode:
        return None
    return CountryFormat(
        country=country,
        length=spec.iban_length,
        bban_spec=spec.bban_spec,
        bban=spec.regex,
        aspirational=bool(spec.aspirational),
        letter_spans=_letter_spans(spec.bban_spec),
        country_digits=country.translate(_LETTERS_TO_NUMBERS),
    )


@cache
def fast_formats() -> dict[str, CountryFormat]:
    """Every official (non-aspirational) registry country, for dictionary lookups per row."""
    formats = {}
    for first in string.ascii_uppercase:
        for second in string.ascii_uppercase:
            fmt = country_format(first + second)
            if fmt is not None and not fmt.aspirational:
                formats[fmt.country] = fmt
    return formats


def _letter_spans(bban_spec: str) -> tuple[tuple[int, int], ...] | None:
    spans: list[tuple[int, int]] = []
    position = 0
    for count, fixed, char_class in _SPEC_TOKEN.findall(bban_spec):
        if not fixed:
            return None  # variable-length element: positions are not fixed
        end = position + int(count)
        if char_class != "n":
            spans.append((position, end))
        position = end
    return tuple(spans)


def compact(value: str) -> str:
    """Trim, drop separators, upper-case; reject anything that is not ASCII letters/digits.

    The ASCII check comes before upper-casing: ``"ß".upper()`` is ``"SS"`` and non-ASCII
    digits satisfy ``\\d``, so neither may reach the registry patterns.
    """
    text = trim(value, Kind.IBAN)
    spaceless = text.replace(" ", "")
    if not (spaceless.isascii() and spaceless.isalnum()):
        spaceless = text.translate(_DROP_SEPARATORS)
        if not (spaceless.isascii() and spaceless.isalnum()):
            raise InvalidIdentifier(REASON_CHARACTERS, kind=Kind.IBAN)
    return spaceless.upper()


_segment_digits: dict[str, str] = {}
_fast_formats: dict[str, CountryFormat] = {}


def _load_fast_formats() -> dict[str, CountryFormat]:
    _fast_formats.update(fast_formats())
    return _fast_formats


def _as_digits(segment: str) -> str:
    """Letters to their ISO 7064 numbers (A=10 ... Z=35); bank codes repeat, so cache."""
    if segment.isdigit():
        return segment
    digits = _segment_digits.get(segment)
    if digits is None:
        digits = segment.translate(_LETTERS_TO_NUMBERS)
        if len(_segment_digits) < _MAX_CACHED_SEGMENTS:
            _segment_digits[segment] = digits
    return digits


def passes_fast_check(iban: str) -> bool:
    """Accept-only check on a compact IBAN: registry format, 02..98 check digits, mod 97 = 1.

    ``False`` means "let schwifty decide", not "invalid".
    """
    fmt = (_fast_formats or _load_fast_formats()).get(iban[:2])
    check_digits = iban[2:4]
    if (
        fmt is None
        or len(iban) != fmt.length
        or not check_digits.isdigit()
        or not "02" <= check_digits <= "98"
    ):
        return False
    bban = iban[4:]
    if fmt.bban.match(bban) is None:
        return False
    spans = fmt.letter_spans
    if spans is None:
        numeric = bban.translate(_LETTERS_TO_NUMBERS)
    elif not spans:
        numeric = bban
    else:
        parts = []
        position = 0
        for start, end in spans:
            parts.append(bban[position:start])
            parts.append(_as_digits(bban[start:end]))
            position = end
        parts.append(bban[position:])
        numeric = "".join(parts)
    return int(numeric + fmt.country_digits + check_digits) % _MOD == 1


def library_verdict(iban: str) -> str:
    """Validate a compact IBAN with schwifty; return it or raise with the analyst's reason."""
    if _PREFIX.match(iban) is None:
        raise InvalidIdentifier(REASON_PREFIX, kind=Kind.IBAN)
    try:
        IBAN(iban, validate_bban=False)
    except exceptions.InvalidCountryCode:
        raise InvalidIdentifier(REASON_COUNTRY, kind=Kind.IBAN) from None
    except exceptions.InvalidLength:
        raise InvalidIdentifier(REASON_LENGTH, kind=Kind.IBAN) from None
    except exceptions.InvalidChecksumDigits:
        raise InvalidIdentifier(REASON_CHECK_DIGITS, kind=Kind.IBAN) from None
    except exceptions.SchwiftyException:
        # InvalidStructure: characters are already known to be fine, so it is the BBAN format.
        raise InvalidIdentifier(REASON_FORMAT, kind=Kind.IBAN) from None
    fmt = country_format(iban[:2])
    if fmt is not None and fmt.aspirational:
        raise InvalidIdentifier(REASON_ASPIRATIONAL, kind=Kind.IBAN)
    return iban


def canonical_iban(value: str) -> str:
    """The canonical IBAN (e.g. ``NL91ABNA0417164300``) or :class:`InvalidIdentifier`."""
    iban = compact(value)
    if passes_fast_check(iban):
        return iban
    return library_verdict(iban)
