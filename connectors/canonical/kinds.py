"""The identifier types of hashing specification v1 and how a type name is read from input."""

from __future__ import annotations

from enum import StrEnum

from connectors.errors import InvalidIdentifier


class Kind(StrEnum):
    """An identifier type; its value is the ``type`` string of the spec (``ppsgate:v1:<type>``)."""

    IBAN = "iban"
    PHONE = "phone"
    EMAIL = "email"
    DOMAIN = "domain"
    URL = "url"
    CRYPTO_ADDRESS = "crypto_address"
    SOCIAL_ACCOUNT = "social_account"


_BY_NAME: dict[str, Kind] = {kind.value: kind for kind in Kind}


def parse_kind(text: str) -> Kind:
    """Read a type name as written in an input file (``IBAN``, `` phone `` ...).

    Case and surrounding spaces are forgiven because spreadsheets add both; anything else is
    an error rather than a guess.
    """
    kind = _BY_NAME.get(text.strip().lower())
    if kind is None:
        raise InvalidIdentifier("unknown identifier type (expected " + ", ".join(_BY_NAME) + ")")
    return kind
