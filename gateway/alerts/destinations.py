"""Where webhooks may point: public https endpoints, checked again at every delivery.

A webhook URL is chosen by a partner and fetched by the gateway, so it is a lever on the
gateway's own network (server-side request forgery): cloud metadata at 169.254.169.254, the
database on a private address, an admin port on loopback. A URL is refused when it has user
info, is not https, or names (or resolves to) an address that is not globally routable:
loopback, private ranges, link-local, carrier-grade NAT, multicast, reserved, unspecified,
IPv6 unique-local and IPv4-mapped or -translated forms of any of those.

The check runs at registration and again at every delivery, because DNS answers change
("DNS rebinding"): delivery resolves the name, checks every address, and connects to the
checked address itself, keeping the name for TLS (SNI and certificate) and the Host header.

``PPSGATE_UNSAFE_WEBHOOK_LOOPBACK`` lets tests deliver to a receiver on loopback (http or
https); the settings refuse it in production.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from gateway.errors import InvalidRequestError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"https": 443, "http": 80}


class DestinationRefusedError(InvalidRequestError):
    """A webhook URL that may not be fetched; ``reason`` says why."""

    code = "webhook-destination-refused"
    title = "Webhook destination refused"


@dataclass(frozen=True, slots=True)
class Target:
    """A checked delivery target: connect to ``url`` (an address), present ``hostname``."""

    url: str
    hostname: str
    host_header: str


def check_url(url: str, *, allow_loopback: bool) -> SplitResult:
    """The syntax rules: https, a host, no user info, no control characters or spaces."""
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise DestinationRefusedError("must not contain spaces or control characters", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DestinationRefusedError("is not a valid URL", field="url") from None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise DestinationRefusedError("must not carry user info (user:password@)", field="url")
    host = parts.hostname or ""
    if not host:
        raise DestinationRefusedError("must name a host", field="url")
    if port == 0:
        raise DestinationRefusedError("port 0 is not a destination", field="url")
    if parts.scheme == "https":
        literal = _literal(host)
        if literal is not None:
            refuse_address(literal, allow_loopback=allow_loopback)
        return parts
    if parts.scheme == "http" and allow_loopback and _names_loopback(host):
        return parts
    raise DestinationRefusedError(
        "must be an https URL (http only to loopback, and only with "
        "PPSGATE_UNSAFE_WEBHOOK_LOOPBACK outside production)",
        field="url",
    )


def refuse_address(address: IPAddress, *, allow_loopback: bool) -> None:
    """Raise unless ``address`` is globally routable (or loopback when allowed)."""
    effective = _unmapped(address)
    if allow_loopback and effective.is_loopback:
        return
    if not effective.is_global or effective.is_multicast:
        raise DestinationRefusedError(
            f"resolves to {effective}, which is not a public address (loopback, private, "
            "link-local, multicast and reserved addresses are refused)",
            field="url",
        )


def resolve(url: str, *, allow_loopback: bool) -> Target:
    """Check ``url``, resolve its host, check every address, and pin the first one."""
    parts = check_url(url, allow_loopback=allow_loopback)
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise DestinationRefusedError(f"host {host!r} does not resolve", field="url") from None
    addresses = [ipaddress.ip_address(str(answer[4][0]).split("%", 1)[0]) for answer in answers]
    if not addresses:
        raise DestinationRefusedError(f"host {host!r} does not resolve", field="url")
    for address in addresses:
        refuse_address(address, allow_loopback=allow_loopback)
    pinned = addresses[0]
    netloc = f"[{pinned}]" if pinned.version == 6 else str(pinned)
    pinned_url = parts._replace(netloc=f"{netloc}:{port}").geturl()
    host_header = parts.netloc
    return Target(url=pinned_url, hostname=host, host_header=host_header)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _names_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    literal = _literal(host)
    return literal is not None and _unmapped(literal).is_loopback


def _unmapped(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped, 6to4 or NAT64 IPv6 address, else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in ipaddress.IPv6Network("64:ff9b::/96"):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address
