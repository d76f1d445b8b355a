"""Telling identifier types apart in files that mix them, by shape alone.

Detection never canonicalises: it only decides which rules to apply, and the shapes are
chosen to be disjoint (``scheme://`` means a URL, a known network or platform name before a
colon a crypto address or social media account, an ``@`` e-mail, ``0x`` and 40 hex digits or
a ``bc1``/``tb1``/``1``/``3`` address a crypto address, two letters and two digits an IBAN,
only digits and phone punctuation a phone number, a dotted name with a letter a domain). The
one real overlap, dotted digits such as ``12.34.56.78`` (a phone number written with dots, or
an IPv4 address), is rejected rather than guessed. A URL whose domain is wanted instead
needs the type ``domain`` given explicitly; a scheme-less ``example.nl/pad`` is a domain.
"""

from __future__ import annotations

import re

from connectors.canonical.crypto import is_network_name, looks_like_crypto_address
from connectors.canonical.kinds import Kind
from connectors.canonical.social import is_platform_name
from connectors.canonical.text import WHITESPACE, has_whitespace_or_control
from connectors.errors import InvalidIdentifier

REASON_EMPTY = "value is empty"
REASON_UNKNOWN = (
    "not recognised as an IBAN, phone number, e-mail address, domain, URL, crypto address"
    " or social media account"
)
REASON_PHONE_OR_IP = "ambiguous: could be a phone number or an IP address"

_SEP = re.escape(WHITESPACE + "-\u2010\u2011")
_IBAN_SHAPE = re.compile(
    f"[A-Za-z][{_SEP}]*[A-Za-z][{_SEP}]*[0-9][{_SEP}]*[0-9](?:[{_SEP}]*[A-Za-z0-9]){{11,30}}"
)
# Phone characters only, at least three digits (the lookahead counts them).
_PHONE_SHAPE = re.compile("(?=(?:[^0-9]*[0-9]){3})[0-9+\\-.()/" + re.escape(WHITESPACE) + "]+")
_IPV4_SHAPE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_URL_START = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//")
_SCHEME_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_NAME_PREFIX = re.compile(r"([A-Za-z][A-Za-z.\-]*):(?!//)")
_HOST_END = re.compile(r"[/?#:\\]")
_LETTER = re.compile(r"[^\W\d_]")  # any Unicode letter


def detect_kind(value: str) -> Kind:
    """The type ``value`` has the shape of; :class:`InvalidIdentifier` if none or unclear."""
    text = value.strip(WHITESPACE)
    if not text:
        raise InvalidIdentifier(REASON_EMPTY)
    if "//" in text and _URL_START.match(text) is not None:
        return Kind.URL if _SCHEME_URL.match(text) is not None else Kind.DOMAIN
    named = _named_kind(text)
    if named is not None:
        return named
    if "@" in text:
        return Kind.EMAIL
    if _PHONE_SHAPE.fullmatch(text) is not None:
        if "." in text and _IPV4_SHAPE.fullmatch(text) is not None:
            raise InvalidIdentifier(REASON_PHONE_OR_IP)
        return Kind.PHONE
    if looks_like_crypto_address(text):
        return Kind.CRYPTO_ADDRESS
    if _IBAN_SHAPE.fullmatch(text) is not None:
        return Kind.IBAN
    if _is_host_like(text):
        return Kind.DOMAIN
    raise InvalidIdentifier(REASON_UNKNOWN)


def _named_kind(text: str) -> Kind | None:
    """A crypto network (``btc:``) or social platform (``instagram:``) written before a colon."""
    prefix = _NAME_PREFIX.match(text)
    if prefix is None:
        return None
    if is_network_name(prefix.group(1)):
        return Kind.CRYPTO_ADDRESS
    if is_platform_name(prefix.group(1)):
        return Kind.SOCIAL_ACCOUNT
    return None


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
