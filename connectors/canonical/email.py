"""E-mail addresses: trimmed, NFC, lower case, domain in ASCII (IDNA 2008 / UTS 46).

The local part is kept as typed apart from case and Unicode normalisation: providers differ
on dots and ``+tags`` (``j.an+x@`` may or may not reach ``jan@``), and guessing would make
two partners' tokens disagree. NFC is applied again after lower-casing so that the result
is always in normal form and canonicalising it a second time changes nothing.
"""

from __future__ import annotations

import unicodedata

from connectors.canonical.hostname import looks_like_ip_address, to_ascii
from connectors.canonical.kinds import Kind
from connectors.canonical.text import has_whitespace_or_control, trim
from connectors.errors import InvalidIdentifier

REASON_NO_AT = "e-mail address has no @"
REASON_TWO_AT = "e-mail address has more than one @"
REASON_NO_LOCAL = "e-mail address has nothing before the @"
REASON_NO_DOMAIN = "e-mail address has nothing after the @"
REASON_SPACES = "e-mail address contains spaces or control characters"
REASON_DOMAIN = "e-mail domain is not a valid domain name"
REASON_IP = "e-mail domain is an IP address, not a domain name"


def canonical_email(value: str) -> str:
    """The canonical address (e.g. ``jan@xn--bcher-kva.de``) or :class:`InvalidIdentifier`."""
    text = trim(value, Kind.EMAIL)
    if has_whitespace_or_control(text):
        raise InvalidIdentifier(REASON_SPACES, kind=Kind.EMAIL)
    if text.isascii():
        text = text.lower()
    else:
        text = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).lower())
    at_signs = text.count("@")
    if at_signs == 0:
        raise InvalidIdentifier(REASON_NO_AT, kind=Kind.EMAIL)
    if at_signs > 1:
        raise InvalidIdentifier(REASON_TWO_AT, kind=Kind.EMAIL)
    local, _, domain = text.partition("@")
    if not local:
        raise InvalidIdentifier(REASON_NO_LOCAL, kind=Kind.EMAIL)
    if domain.endswith("."):
        domain = domain[:-1]
    if not domain:
        raise InvalidIdentifier(REASON_NO_DOMAIN, kind=Kind.EMAIL)
    ascii_domain = to_ascii(domain)
    if ascii_domain is None:
        raise InvalidIdentifier(REASON_DOMAIN, kind=Kind.EMAIL)
    if looks_like_ip_address(ascii_domain):
        raise InvalidIdentifier(REASON_IP, kind=Kind.EMAIL)
    return f"{local}@{ascii_domain}"
