"""Shapes of what partners send instead of identifiers: kinds, tokens, epochs.

The gateway never sees an identifier, only 64-hex-character tokens; it checks their shape so
that a raw value sent by mistake is refused (and never echoed back or stored).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

TOKEN_PATTERN = r"^[0-9a-f]{64}$"  # noqa: S105 (a format, not a secret)
_TOKEN_RE = re.compile(TOKEN_PATTERN)


class Kind(StrEnum):
    IBAN = "iban"
    PHONE = "phone"
    EMAIL = "email"
    DOMAIN = "domain"
    URL = "url"
    CRYPTO_ADDRESS = "crypto_address"
    SOCIAL_ACCOUNT = "social_account"


KINDS = frozenset(kind.value for kind in Kind)
KIND_MAX_LENGTH = 16  # the width of the kind columns (migration 0010_kind_width)

Spec = Literal["v1", "v2"]
"""The hashing spec a token was made under (docs/hashing.md): v1 HMAC type keys, v2 the RFC
9497 VOPRF. The gateway peppers and matches both alike; the spec is carried so that policies
can require the stronger one for the kinds cheapest to enumerate (phone numbers)."""

DEFAULT_SPEC: Spec = "v1"


def token_problem(token: str) -> str | None:
    """Why a token is malformed, or None; the reason never quotes the value."""
    if _TOKEN_RE.fullmatch(token):
        return None
    if len(token) != 64:
        return f"token must be 64 lowercase hex characters (got {len(token)} characters)"
    return "token must be 64 lowercase hex characters (0-9, a-f)"


def kind_problem(kind: str) -> str | None:
    if kind in KINDS:
        return None
    return "unknown identifier kind; use one of " + ", ".join(sorted(KINDS))
