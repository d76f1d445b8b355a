"""Domains: host of a URL or bare name, IDNA ASCII, registrable domain by the bundled PSL."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import InvalidIdentifier, canonicalize
from connectors.canonical import domain as domain_module
from connectors.canonical.domain import (
    REASON_INVALID,
    REASON_IP,
    REASON_NO_HOST,
    REASON_PORT,
    REASON_PUBLIC_SUFFIX,
    REASON_SCHEME,
    REASON_SPACES,
    REASON_UNKNOWN_SUFFIX,
    canonical_domain,
    fast_registrable_domain,
    library_registrable_domain,
    public_suffix_list,
)
from connectors.canonical.kinds import Kind


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("example.nl", "example.nl"),
        ("https://www.Shop-Example.co.uk/x", "shop-example.co.uk"),
        ("https://nep-winkel.github.io/shop", "nep-winkel.github.io"),
        ("http://user:secret@www.example.nl:8080/pad/naar?q=1#top", "example.nl"),
        ("www.example.nl/winkelwagen?id=5", "example.nl"),
        ("a.b.c.d.example.nl", "example.nl"),
        ("WWW.EXAMPLE.NL", "example.nl"),
        ("example.nl.", "example.nl"),
        ("https://example.nl./", "example.nl"),
        ("//example.nl/pad", "example.nl"),
        ("example.nl:443", "example.nl"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("https://www.BÜCHER.de/", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("belastingdienst-nl.gov.nl", "belastingdienst-nl.gov.nl"),  # gov.nl: PSL private section
        ("winkel.gov.uk", "winkel.gov.uk"),
        ("shop.blogspot.com", "shop.blogspot.com"),
        ("x.y.s3.amazonaws.com", "y.s3.amazonaws.com"),
        ("a.b.ck", "a.b.ck"),  # wildcard rule *.ck
        ("a.www.ck", "www.ck"),  # exception rule !www.ck
        ("x.city.kawasaki.jp", "city.kawasaki.jp"),
        ("test.xn--p1ai", "test.xn--p1ai"),
        ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
        ("example.nl\\pad", "example.nl"),  # browsers treat backslash as a slash
    ],
)
def test_valid_domains_reduce_to_the_registrable_domain(raw: str, canonical: str) -> None:
    assert canonicalize("domain", raw) == canonical


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("192.168.1.1", REASON_IP),
        ("http://192.168.1.1/login", REASON_IP),
        ("http://[2001:db8::1]/", REASON_IP),
        ("2001:db8::1", REASON_IP),
        ("0x7f.1", REASON_IP),
        ("co.uk", REASON_PUBLIC_SUFFIX),
        ("github.io", REASON_PUBLIC_SUFFIX),
        ("https://github.io/", REASON_PUBLIC_SUFFIX),
        ("nl", REASON_PUBLIC_SUFFIX),
        ("b.ck", REASON_PUBLIC_SUFFIX),
        ("localhost", REASON_UNKNOWN_SUFFIX),
        ("example.invalidtld", REASON_UNKNOWN_SUFFIX),
        ("http://", REASON_NO_HOST),
        ("https:///pad", REASON_NO_HOST),
        ("http://user@", REASON_NO_HOST),
        (".", REASON_NO_HOST),
        ("example.nl:http", REASON_PORT),
        ("1http://example.nl", REASON_SCHEME),
        ("exa mple.nl", REASON_SPACES),
        ("exa_mple.nl", REASON_INVALID),
        ("-example.nl", REASON_INVALID),
        ("example..nl", REASON_INVALID),
        ("example.nl..", REASON_INVALID),
        ("xn--zz.nl", REASON_INVALID),
        ("ab--cd.nl", REASON_INVALID),
        ("", "domain is empty"),
    ],
)
def test_invalid_domains_are_rejected_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        canonical_domain(raw)
    assert caught.value.reason == reason
    assert caught.value.kind is Kind.DOMAIN


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a connection or resolve a name fails the test."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    public_suffix_list.cache_clear()
    domain_module._suffix_sets.cache_clear()
    yield
    public_suffix_list.cache_clear()
    domain_module._suffix_sets.cache_clear()


@pytest.mark.usefixtures("no_network")
def test_public_suffix_list_is_the_bundled_snapshot_without_network() -> None:
    assert canonical_domain("https://nep-winkel.github.io/shop") == "nep-winkel.github.io"
    assert library_registrable_domain("www.shop-example.co.uk") == "shop-example.co.uk"
    assert len(public_suffix_list().tlds) > 9000


def _ascii_rules() -> list[str]:
    return sorted(rule for rule in public_suffix_list().tlds if rule.isascii())


_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True).filter(
    lambda label: "--" not in label
)


@settings(max_examples=800, deadline=None)
@given(
    rule=st.sampled_from(_ascii_rules()),
    labels=st.lists(st.one_of(_LABEL, st.sampled_from(["www", "city", "s3", "ck"])), max_size=3),
)
def test_fast_psl_lookup_equals_tldextract(rule: str, labels: list[str]) -> None:
    suffix = rule.lstrip("*.!")
    host = ".".join([*labels, suffix])
    fast = fast_registrable_domain(host)
    try:
        library: str | None = library_registrable_domain(host)
    except InvalidIdentifier:
        library = None
    if fast is not None:
        assert fast == library
    try:
        result: str | None = canonical_domain(host)
    except InvalidIdentifier:
        result = None
    assert result == library


def test_fast_psl_lookup_covers_common_hosts() -> None:
    for host in ("www.example.nl", "shop.co.uk", "nep-winkel.github.io", "a.b.example.com"):
        assert fast_registrable_domain(host) is not None, host


@settings(max_examples=400, deadline=None)
@given(
    labels=st.lists(_LABEL, min_size=1, max_size=4),
    suffix=st.sampled_from(["nl", "co.uk", "github.io", "com", "gov.nl", "de", "xn--p1ai"]),
    scheme=st.sampled_from(["", "https://", "http://user@", "//"]),
    tail=st.sampled_from(["", "/", "/pad?q=1", ":8080", "."]),
)
def test_canonical_domain_is_idempotent(
    labels: list[str], suffix: str, scheme: str, tail: str
) -> None:
    raw = f"{scheme}{'.'.join(labels)}.{suffix}{tail}"
    try:
        once = canonical_domain(raw)
    except InvalidIdentifier:
        return
    assert canonical_domain(once) == once
    assert once.endswith(suffix)
