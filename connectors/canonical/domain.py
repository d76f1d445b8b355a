"""Web domains: the registrable domain (eTLD+1) of a bare host or a URL, in ASCII.

The Public Suffix List is the snapshot bundled with ``tldextract`` (ICANN and private
sections), never fetched: the same input must give the same token on every machine and on
every day until the package is upgraded, and a connector must not phone home. Including the
private section keeps one fraudster's page on a hosting platform (``nep-winkel.github.io``)
from flagging the whole platform (``github.io``).
"""

from __future__ import annotations

import re
from functools import cache

import tldextract

from connectors.canonical.hostname import looks_like_ip_address, to_ascii
from connectors.canonical.kinds import Kind
from connectors.canonical.text import has_whitespace_or_control, trim
from connectors.errors import InvalidIdentifier

REASON_SCHEME = "URL scheme is not valid"
REASON_NO_HOST = "URL has no host"
REASON_SPACES = "domain contains spaces or control characters"
REASON_PORT = "URL port is not a number"
REASON_IP = "IP addresses are not domains"
REASON_INVALID = "not a valid domain name"
REASON_PUBLIC_SUFFIX = (
    "domain is a public suffix (like co.uk or github.io), not a registrable domain"
)
REASON_UNKNOWN_SUFFIX = "domain does not end in a known public suffix (top-level domain)"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_AUTHORITY_END = re.compile(r"[/?#\\]")
_PLAIN_HOST = re.compile(r"[^/?#\\@:\[]+")


@cache
def public_suffix_list() -> tldextract.TLDExtract:
    """The extractor over the bundled snapshot: no URLs to fetch, no disk cache to trust."""
    return tldextract.TLDExtract(
        suffix_list_urls=(),
        cache_dir=None,
        fallback_to_snapshot=True,
        include_psl_private_domains=True,
    )


def extract_host(text: str) -> str:
    """The host of a URL or bare domain: scheme, user info, port, path, query dropped."""
    if _PLAIN_HOST.fullmatch(text) is not None:
        return text
    scheme = _SCHEME.match(text)
    if scheme is not None:
        rest = text[scheme.end() :]
    elif text.startswith("//"):
        rest = text[2:]
    elif "://" in text:
        raise InvalidIdentifier(REASON_SCHEME, kind=Kind.DOMAIN)
    else:
        rest = text
    end = _AUTHORITY_END.search(rest)
    authority = rest if end is None else rest[: end.start()]
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        raise InvalidIdentifier(REASON_IP, kind=Kind.DOMAIN)
    if ":" in host:
        host, _, port = host.rpartition(":")
        if port and not (port.isascii() and port.isdigit()):
            raise InvalidIdentifier(REASON_PORT, kind=Kind.DOMAIN)
        if ":" in host:
            raise InvalidIdentifier(REASON_IP, kind=Kind.DOMAIN)  # IPv6 without brackets
    if not host:
        raise InvalidIdentifier(REASON_NO_HOST, kind=Kind.DOMAIN)
    return host


@cache
def _suffix_sets() -> tuple[frozenset[str], frozenset[str]]:
    """The snapshot's rules, and the names under which a wildcard or exception rule sits."""
    rules = frozenset(public_suffix_list().tlds)
    special = frozenset(
        rule[2:] if rule.startswith("*.") else rule[1:].partition(".")[2]
        for rule in rules
        if rule.startswith(("*.", "!"))
    )
    return rules, special


def fast_registrable_domain(ascii_host: str) -> str | None:
    """eTLD+1 by longest matching rule, or ``None`` for "ask tldextract" (never a rejection).

    Without wildcard and exception rules the PSL algorithm is "the longest rule that is a
    suffix of the host, plus one label", which is what tldextract's trie walk finds. Hosts
    that touch a wildcard or exception rule (``*.ck``, ``!www.ck``), carry A-labels (rules
    are stored in Unicode) or match no rule at all go to tldextract.
    """
    if "xn--" in ascii_host:
        return None
    rules, special = _suffix_sets()
    tails = [ascii_host]
    position = ascii_host.find(".")
    while position != -1:
        tails.append(ascii_host[position + 1 :])
        position = ascii_host.find(".", position + 1)
    if not special.isdisjoint(tails):
        return None
    for index, tail in enumerate(tails):
        if tail in rules:
            return tails[index - 1] if index > 0 else None
    return None


def registrable_domain(ascii_host: str) -> str:
    """eTLD+1 of a valid ASCII host by the bundled PSL, or :class:`InvalidIdentifier`."""
    fast = fast_registrable_domain(ascii_host)
    if fast is not None:
        return fast
    return library_registrable_domain(ascii_host)


def library_registrable_domain(ascii_host: str) -> str:
    """eTLD+1 as tldextract computes it, or :class:`InvalidIdentifier`."""
    parts = public_suffix_list().extract_str(ascii_host)
    if not parts.suffix:
        raise InvalidIdentifier(REASON_UNKNOWN_SUFFIX, kind=Kind.DOMAIN)
    if not parts.domain:
        raise InvalidIdentifier(REASON_PUBLIC_SUFFIX, kind=Kind.DOMAIN)
    return f"{parts.domain}.{parts.suffix}"


def canonical_domain(value: str) -> str:
    """The canonical domain (e.g. ``shop-example.co.uk``) or :class:`InvalidIdentifier`."""
    host = extract_host(trim(value, Kind.DOMAIN))
    if has_whitespace_or_control(host):
        raise InvalidIdentifier(REASON_SPACES, kind=Kind.DOMAIN)
    if host.endswith("."):
        host = host[:-1]
        if not host:
            raise InvalidIdentifier(REASON_NO_HOST, kind=Kind.DOMAIN)
    ascii_host = to_ascii(host)
    if ascii_host is None:
        raise InvalidIdentifier(REASON_INVALID, kind=Kind.DOMAIN)
    if looks_like_ip_address(ascii_host):
        raise InvalidIdentifier(REASON_IP, kind=Kind.DOMAIN)
    return registrable_domain(ascii_host)
