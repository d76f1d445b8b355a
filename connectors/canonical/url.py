"""Web pages (a phishing page, a fake shop's checkout): URLs parsed by the WHATWG URL standard.

Parsing is done by ``ada-url``, the Python binding of Ada, the WHATWG URL parser that Node.js
uses: a maintained, spec-tracking implementation, so the host (IDNA / UTS 46, IPv4 forms such
as ``0x7f.1``), the default port and dot segments are read exactly as a browser reads them.
On top of the parser the canonical form adds only what the standard leaves as typed:

- the scheme must be ``http`` or ``https`` (a page a victim can be sent to);
- user name and password are dropped (browsers do not send them to the page, and phishing
  links use them to look like a bank: ``https://bank.nl@nep.example/``);
- in the path, percent escapes get upper-case hex digits and escapes of unreserved
  characters (``A-Z a-z 0-9 - . _ ~``) are decoded, as RFC 3986 §6.2.2 allows; reserved
  characters (``%2F`` ...) stay escaped because servers may treat them differently;
- the query is kept as the parser gives it (order, case and escapes can matter to the
  server), an empty query (a lone ``?``) is dropped as WHATWG's ``search`` getter does;
- the fragment is dropped: it never reaches the server.
"""

from __future__ import annotations

import re

import ada_url

from connectors.canonical.kinds import Kind
from connectors.canonical.text import has_whitespace_or_control, trim
from connectors.errors import InvalidIdentifier

REASON_SPACES = "URL contains spaces or control characters"
REASON_NO_SCHEME = "URL has no scheme (write it with http:// or https://)"
REASON_SCHEME = "URL scheme must be http or https"
REASON_INVALID = "not a valid URL (WHATWG URL standard)"

SCHEMES = frozenset({"http", "https"})

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def canonical_url(value: str) -> str:
    """The canonical URL (e.g. ``https://www.xn--bcher-kva.de/a/b?q=1``) or a refusal.

    http and https are WHATWG "special" schemes: the parser always gives them a host.
    """
    text = trim(value, Kind.URL)
    if has_whitespace_or_control(text):
        raise InvalidIdentifier(REASON_SPACES, kind=Kind.URL)
    scheme = _SCHEME.match(text)
    if scheme is None:
        raise InvalidIdentifier(REASON_NO_SCHEME, kind=Kind.URL)
    if scheme.group(1).lower() not in SCHEMES:
        raise InvalidIdentifier(REASON_SCHEME, kind=Kind.URL)
    try:
        parsed = ada_url.URL(text)
    except ValueError:
        raise InvalidIdentifier(REASON_INVALID, kind=Kind.URL) from None
    path = _ESCAPE.sub(_normalise_escape, parsed.pathname)
    return f"{parsed.protocol}//{parsed.host}{path}{parsed.search}"


def _normalise_escape(match: re.Match[str]) -> str:
    character = chr(int(match.group(1), 16))
    return character if character in _UNRESERVED else match.group(0).upper()
