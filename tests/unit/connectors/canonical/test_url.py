"""URLs: WHATWG parsing plus the few normalisations docs/hashing.md adds, and refusals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import InvalidIdentifier, canonicalize
from connectors.canonical.kinds import Kind
from connectors.canonical.url import (
    REASON_INVALID,
    REASON_NO_SCHEME,
    REASON_SCHEME,
    REASON_SPACES,
    canonical_url,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("https://www.nep-bank.nl/inloggen", "https://www.nep-bank.nl/inloggen"),
        ("HTTPS://WWW.Nep-Bank.NL/Inloggen", "https://www.nep-bank.nl/Inloggen"),
        ("https://nep-bank.nl:443/x", "https://nep-bank.nl/x"),
        ("http://nep-bank.nl:80/x", "http://nep-bank.nl/x"),
        ("https://nep-bank.nl:8443/x", "https://nep-bank.nl:8443/x"),
        ("https://nep-bank.nl", "https://nep-bank.nl/"),
        ("https://nep-bank.nl/a/./b/../c", "https://nep-bank.nl/a/c"),
        ("https://nep-bank.nl/%7e%6a%61n/%2f", "https://nep-bank.nl/~jan/%2F"),
        ("https://nep-bank.nl/caf%c3%a9", "https://nep-bank.nl/caf%C3%A9"),
        ("https://nep-bank.nl/café", "https://nep-bank.nl/caf%C3%A9"),
        ("https://nep-bank.nl/x?B=2&a=%7e", "https://nep-bank.nl/x?B=2&a=%7e"),
        ("https://nep-bank.nl/x?", "https://nep-bank.nl/x"),
        ("https://nep-bank.nl/x#stap-2", "https://nep-bank.nl/x"),
        ("https://klant:geheim@nep-bank.nl/x", "https://nep-bank.nl/x"),
        ("https://bücher.de/", "https://xn--bcher-kva.de/"),
        ("http://0x7f.1/login", "http://127.0.0.1/login"),
        ("https://[::1]:8443/a", "https://[::1]:8443/a"),
        ("https:\\\\nep-bank.nl\\a", "https://nep-bank.nl/a"),
    ],
)
def test_valid_urls(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical
    assert canonicalize(Kind.URL, raw) == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("nep-bank.nl/inloggen", REASON_NO_SCHEME),
        ("//nep-bank.nl/inloggen", REASON_NO_SCHEME),
        ("ftp://nep-bank.nl/x", REASON_SCHEME),
        ("javascript:alert(1)", REASON_SCHEME),
        ("https://nep bank.nl/", REASON_SPACES),
        ("https://nep-bank.nl:99999/", REASON_INVALID),
        ("https://[::1/", REASON_INVALID),
        ("https://", REASON_INVALID),
        ("https://a%00b.nl/", REASON_INVALID),
    ],
)
def test_refusals_give_the_reason_and_never_the_value(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        canonical_url(raw)
    assert caught.value.reason == reason
    assert caught.value.kind is Kind.URL
    assert "nep" not in caught.value.diagnostics()


_PATH = st.text(alphabet=st.sampled_from("abcXYZ019-._~%/?#&=:@!$'()*+,;é%2e%41%7E"), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["http", "HTTPS", "https"]), st.sampled_from(["a.nl", "B.NL:443"]), _PATH)
def test_canonical_form_is_a_fixed_point(scheme: str, host: str, path: str) -> None:
    try:
        once = canonical_url(f"{scheme}://{host}/{path}")
    except InvalidIdentifier:
        return
    assert canonical_url(once) == once
