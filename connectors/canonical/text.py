"""Text rules shared by every identifier type.

They are spelled out character by character (rather than "whatever ``str.strip`` does")
because connectors in other languages must trim exactly the same characters.
"""

from __future__ import annotations

import re

from connectors.canonical.kinds import Kind
from connectors.errors import InvalidIdentifier

#: The 25 code points with the Unicode ``White_Space`` property. Python's ``str.isspace`` also
#: counts U+001C..U+001F, which are not white space in Unicode, so the set is explicit.
WHITESPACE = (
    "\u0009\u000a\u000b\u000c\u000d\u0020\u0085\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

#: Longest value accepted for any type; longer input is rejected before any library sees it.
MAX_VALUE_LENGTH = 4096

#: How each type is named in reasons shown to analysts.
NOUNS: dict[Kind, str] = {
    Kind.IBAN: "IBAN",
    Kind.PHONE: "phone number",
    Kind.EMAIL: "e-mail address",
    Kind.DOMAIN: "domain",
    Kind.URL: "URL",
    Kind.CRYPTO_ADDRESS: "crypto address",
    Kind.SOCIAL_ACCOUNT: "social media account",
}

_WHITESPACE_OR_CONTROL = re.compile(f"[{WHITESPACE}\x00-\x1f\x7f-\x9f]")


def trim(value: str, kind: Kind) -> str:
    """Strip white space at both ends; reject empty and oversized values."""
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidIdentifier(
            f"{NOUNS[kind]} is longer than {MAX_VALUE_LENGTH} characters", kind=kind
        )
    trimmed = value.strip(WHITESPACE)
    if not trimmed:
        raise InvalidIdentifier(f"{NOUNS[kind]} is empty", kind=kind)
    return trimmed


def has_whitespace_or_control(text: str) -> bool:
    """True when ``text`` holds white space or a C0/C1 control character anywhere.

    ``isprintable`` is false for every white space character but U+0020 and for every
    control character, so a printable text without a space is clean without the regex.
    """
    if text.isprintable() and " " not in text:
        return False
    return _WHITESPACE_OR_CONTROL.search(text) is not None
