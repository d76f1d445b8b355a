"""Host names to ASCII (IDNA 2008 with UTS 46 mapping), shared by e-mail and domain.

The ``idna`` package does the work: UTS 46 mapping (non-transitional, ``UseSTD3ASCIIRules``)
followed by IDNA 2008 label validation and Punycode. It costs ~7 µs even for plain ASCII, so
hosts that are already lower-case LDH (letters, digits, hyphens) skip it: for those UTS 46
maps nothing and IDNA 2008 checks only what :data:`_LDH_HOST` and the ``--`` test express
(label length, hyphen placement). Labels with ``--`` in them (``xn--`` A-labels) go to the
library, which checks that the Punycode is canonical.
"""

from __future__ import annotations

import re

import idna

MAX_HOST_LENGTH = 253

_LDH_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LDH_HOST = re.compile(rf"(?:{_LDH_LABEL}\.)*{_LDH_LABEL}")
_IPV4_TAIL = re.compile(r"[0-9]+|0x[0-9a-f]*")


def to_ascii(host: str) -> str | None:
    """The ASCII form of ``host`` (no trailing dot expected), or ``None`` if it is not valid."""
    if host.isascii():
        lowered = host.lower()
        if (
            len(lowered) <= MAX_HOST_LENGTH
            and "--" not in lowered
            and _LDH_HOST.fullmatch(lowered) is not None
        ):
            return lowered
    try:
        encoded = idna.encode(host, uts46=True, std3_rules=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    if not encoded or encoded.endswith(".") or len(encoded) > MAX_HOST_LENGTH:
        return None
    return encoded


def looks_like_ip_address(ascii_host: str) -> bool:
    """True when the last label is numeric (or 0x-hex), as in WHATWG URL's IPv4 detection.

    No top-level domain is numeric, so such a host is an address (``192.168.1.1``,
    ``0x7f.1``) however many labels it has.
    """
    return _IPV4_TAIL.fullmatch(ascii_host.rsplit(".", 1)[-1]) is not None
