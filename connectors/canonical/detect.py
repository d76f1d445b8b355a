"""Telling identifier types apart in files that mix them, by shape alone.

Detection never canonicalises: it only decides which rules to apply, and the shapes are
chosen to be disjoint (an ``@`` means e-mail, ``://`` a URL, two letters and two digits an
IBAN, only digits and phone punctuation a phone number, a dotted name with a letter a
domain). The one real overlap, dotted digits such as ``12.34.56.78`` (a phone number written
with dots, or an IPv4 address), is rejected rather than guessed.
"""

from __future__ import annotations

import re

from connectors.canonical.kinds import Kind
from connectors.canonical.text import WHITESPACE, has_whitespace_or_control
from connectors.errors import InvalidIdentifier

REASON_EMPTY = "value is empty"
REASON_UNKNOWN = "not recognised as an IBAN, phone number, e-mail address or domain"
REASON_PHONE_OR_IP = "ambiguous: could be a phone number or an IP address"

_SEP = re.escape(WHITESPACE + "-\u2010\u2011")
_IBAN_SHAPE = re.compile(
    f"[A-Za-z][{_SEP}]*[A-Za-z][{_SEP}]*[0-9][{_SEP}]*[0-9](?:[{_SEP}]*[A-Za-z0-9]){{11,30}}"
)
# Phone characters only, at least three digits (the lookahead counts them).
_PHONE_SHAPE = re.compile("(?=(?:[^0-9]*[0-9]){3})[0-9+\\-.()/" + re.escape(WHITESPACE) + "]+")
_IPV4_SHAPE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_URL_START = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//")
_HOST_END = re.compile(r"[/?#:\\]")
_LETTER = re.compile(r"[^\W\d_]")  # any Unicode letter


def detect_kind(value: str) -> Kind:
    """The type ``value`` has the shape of; :class:`InvalidIdentifier` if none or unclear."""
    text = value.strip(WHITESPACE)
    if not text:
        raise InvalidIdentifier(REASON_EMPTY)
    if "//" in text and _URL_START.match(text) is not None:
        return Kind.DOMAIN
    if "@" in text:
        return Kind.EMAIL
    if _PHONE_SHAPE.fullmatch(text) is not None:
        if "." in text and _IPV4_SHAPE.fullmatch(text) is not None:
            raise InvalidIdentifier(REASON_PHONE_OR_IP)
        return Kind.PHONE
    if _IBAN_SHAPE.fullmatch(text) is not None:
        return Kind.IBAN
    if _is_host_like(text):
        return Kind.DOMAIN
    raise InvalidIdentifier(REASON_UNKNOWN)


def _is_host_like(text: str) -> bool:
    """A dotted name with at least one letter before any path, port or query."""
    end = _HOST_END.search(text)
    host = text if end is None else text[: end.start()]
    return (
        "." in host.strip(".")
        and not host.isdigit()
        and _LETTER.search(host) is not None
        and not has_whitespace_or_control(host)
    )
