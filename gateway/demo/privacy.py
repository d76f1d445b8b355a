"""The demo's own privacy check: no identifier of the cast appears in the gateway's files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from connectors.canonical import Kind, canonicalize
from gateway.demo import cast


def cast_identifiers() -> list[str]:
    """Every demo identifier in its raw and canonical form (the strings that must not leak)."""
    raw: list[tuple[Kind, str]] = [
        (Kind.IBAN, cast.SELLER_IBAN),
        (Kind.IBAN, cast.HONEST_IBAN),
        *((Kind.IBAN, iban) for iban in cast.BANK_A_CUSTOMERS),
        (Kind.PHONE, cast.BANK_A_HELPDESK),
        *((Kind.PHONE, number) for number in cast.CALLER_IDS),
        (Kind.URL, cast.PHISHING_PAGE),
        (Kind.CRYPTO_ADDRESS, cast.CASH_OUT_ADDRESS),
        (Kind.SOCIAL_ACCOUNT, cast.RECRUITER_ACCOUNT),
        (Kind.IBAN, cast.MULE_IBAN),
    ]
    forms = set()
    for kind, value in raw:
        forms.add(value)
        forms.add(canonicalize(kind, value))
    return sorted(forms)


def leaked(files: Iterable[Path], needles: Iterable[str]) -> list[tuple[Path, str]]:
    """(file, needle) for every needle found in a file, as UTF-8 or UTF-16 bytes."""
    patterns = [(n, n.encode("utf-8")) for n in needles] + [
        (n, n.encode("utf-16-le")) for n in needles
    ]
    found: list[tuple[Path, str]] = []
    for path in files:
        data = path.read_bytes()
        found.extend((path, needle) for needle, pattern in patterns if pattern in data)
    return found
