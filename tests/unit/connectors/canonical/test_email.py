"""E-mail addresses: trim, NFC, lower case, IDNA domain; exactly one @ and a local part."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from connectors import InvalidIdentifier, canonicalize
from connectors.canonical.email import (
    REASON_DOMAIN,
    REASON_IP,
    REASON_NO_AT,
    REASON_NO_DOMAIN,
    REASON_NO_LOCAL,
    REASON_SPACES,
    REASON_TWO_AT,
    canonical_email,
)
from connectors.canonical.kinds import Kind


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("jan.jansen@example.nl", "jan.jansen@example.nl"),
        ("  Jan.Jansen@Example.NL \n", "jan.jansen@example.nl"),
        ("JAN+fraude@EXAMPLE.NL", "jan+fraude@example.nl"),
        ("jan@bücher.de", "jan@xn--bcher-kva.de"),
        ("JAN@BÜCHER.DE", "jan@xn--bcher-kva.de"),
        ("jan@xn--bcher-kva.de", "jan@xn--bcher-kva.de"),
        ("jan@example.nl.", "jan@example.nl"),
        ("jan@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.nl", "jan@example.nl"),  # full-width
        ("Ömer@Example.com", "ömer@example.com"),
        ("info@例え.jp", "info@xn--r8jz45g.jp"),
    ],
)
def test_valid_addresses(raw: str, canonical: str) -> None:
    assert canonicalize("email", raw) == canonical


def test_nfc_and_nfd_spellings_canonicalise_alike() -> None:
    composed = "jos\u00e9@caf\u00e9.nl"
    decomposed = "jose\u0301@cafe\u0301.nl"
    assert composed != decomposed
    assert unicodedata.normalize("NFC", decomposed) == composed
    assert canonical_email(composed) == canonical_email(decomposed) == "jos\u00e9@xn--caf-dma.nl"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("jan.example.nl", REASON_NO_AT),
        ("jan@piet@example.nl", REASON_TWO_AT),
        ("@example.nl", REASON_NO_LOCAL),
        ("jan@", REASON_NO_DOMAIN),
        ("jan@.", REASON_NO_DOMAIN),
        ("jan jansen@example.nl", REASON_SPACES),
        ("jan@exa mple.nl", REASON_SPACES),
        ("jan\x00@example.nl", REASON_SPACES),
        ("jan@exa_mple.nl", REASON_DOMAIN),
        ("jan@-example.nl", REASON_DOMAIN),
        ("jan@example..nl", REASON_DOMAIN),
        ("jan@[192.168.1.1]", REASON_DOMAIN),
        ("jan@192.168.1.1", REASON_IP),
        ("", "e-mail address is empty"),
    ],
)
def test_invalid_addresses_are_rejected_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        canonical_email(raw)
    assert caught.value.reason == reason
    assert caught.value.kind is Kind.EMAIL


_LOCAL = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), exclude_characters="@"
    ),
    min_size=1,
    max_size=20,
)
_LABEL = st.from_regex(
    r"[a-zA-Z0-9ÄÖÜäöüéèçñ](?:[a-zA-Z0-9äöüéñ-]{0,10}[a-zA-Z0-9äöü])?", fullmatch=True
)


@settings(max_examples=400, deadline=None)
@given(
    local=_LOCAL,
    labels=st.lists(_LABEL, min_size=1, max_size=3),
    tld=st.sampled_from(["nl", "de", "com", "co.uk"]),
)
def test_canonical_email_is_idempotent(local: str, labels: list[str], tld: str) -> None:
    raw = f"{local}@{'.'.join(labels)}.{tld}"
    try:
        once = canonical_email(raw)
    except InvalidIdentifier:
        assume(False)
        return
    assert canonical_email(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert once.split("@")[1].isascii()
    nfd = unicodedata.normalize("NFD", raw)
    assert canonical_email(nfd) == once
