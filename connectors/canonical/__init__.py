"""Canonical forms of hashing specification v1: one module per identifier type.

:func:`canonicalize` is the public entry point; :func:`canonicalizer` returns the same
function with the type (and region) resolved once, which is what the batch path calls per
row. Every rejection is an :class:`~connectors.errors.InvalidIdentifier` whose ``reason``
never contains the value.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.canonical.crypto import canonical_crypto_address
from connectors.canonical.detect import detect_kind
from connectors.canonical.domain import canonical_domain
from connectors.canonical.email import canonical_email
from connectors.canonical.iban import canonical_iban
from connectors.canonical.kinds import Kind, parse_kind
from connectors.canonical.phone import PhoneCanonicaliser, canonical_phone
from connectors.canonical.social import canonical_social_account
from connectors.canonical.url import canonical_url
from connectors.errors import InvalidIdentifier

__all__ = [
    "DEFAULT_REGION",
    "InvalidIdentifier",
    "Kind",
    "canonical_crypto_address",
    "canonical_domain",
    "canonical_email",
    "canonical_iban",
    "canonical_phone",
    "canonical_social_account",
    "canonical_url",
    "canonicalize",
    "canonicalizer",
    "detect_kind",
    "parse_kind",
]

DEFAULT_REGION = "NL"


_REGIONLESS: dict[Kind, Callable[[str], str]] = {
    Kind.IBAN: canonical_iban,
    Kind.EMAIL: canonical_email,
    Kind.DOMAIN: canonical_domain,
    Kind.URL: canonical_url,
    Kind.CRYPTO_ADDRESS: canonical_crypto_address,
    Kind.SOCIAL_ACCOUNT: canonical_social_account,
}


def canonicalizer(kind: Kind, *, region: str = DEFAULT_REGION) -> Callable[[str], str]:
    """The canonicalising function for ``kind``; ``region`` only matters for phone numbers."""
    if kind is Kind.PHONE:
        return PhoneCanonicaliser(region)
    return _REGIONLESS[kind]


def canonicalize(kind: Kind | str, value: str, *, region: str = DEFAULT_REGION) -> str:
    """The canonical form of ``value`` as ``kind``, or :class:`InvalidIdentifier` with a reason.

    ``kind`` may be a :class:`Kind` or its name (``"iban"``, ``"phone"``, ``"email"``,
    ``"domain"``, ``"url"``, ``"crypto_address"``, ``"social_account"``); ``region`` is the
    default region for national phone numbers.
    """
    resolved = kind if isinstance(kind, Kind) else parse_kind(kind)
    if resolved is Kind.PHONE:
        return canonical_phone(value, region)
    return canonicalizer(resolved)(value)
