"""Crypto-asset addresses: Bitcoin (Base58Check, Bech32, Bech32m) and Ethereum (EIP-55).

The canonical form is ``<network>:<address>`` (``btc:bc1q...``, ``eth:0x...``), so that the
same characters on two networks never share a token. Checksums are always checked and a bad
one is refused: a mistyped address is a different (or no) wallet, and hashing it would only
produce a token nobody else can match.

Libraries: ``base58`` (Base58Check decoding with its double SHA-256 checksum) and ``bech32m``
(Pieter Wuille's BIP 173 / BIP 350 reference code, which checks both checksum constants and
the SegWit program rules). Ethereum's EIP-55 checksum needs Keccak-256, which is not
``hashlib.sha3_256`` (different padding): it comes from ``pycryptodome``'s ``keccak``.
"""

from __future__ import annotations

import re

import base58
import bech32m
from Crypto.Hash import keccak

from connectors.canonical.kinds import Kind
from connectors.canonical.text import has_whitespace_or_control, trim
from connectors.errors import InvalidIdentifier

BTC = "btc"
BTC_TESTNET = "btc-testnet"
ETH = "eth"
NETWORKS = (BTC, BTC_TESTNET, ETH)

REASON_SPACES = "crypto address contains spaces or control characters"
REASON_UNKNOWN = "not a Bitcoin or Ethereum address"
REASON_NETWORK = "unknown network (expected btc, btc-testnet or eth)"
REASON_NETWORK_MISMATCH = "address does not belong to the named network"
REASON_BASE58_CHECKSUM = "Bitcoin address checksum (Base58Check) does not match"
REASON_BASE58_VERSION = "Base58 address is not a Bitcoin P2PKH or P2SH address"
REASON_BECH32_CASE = "Bech32 address mixes upper and lower case"
REASON_BECH32_CHECKSUM = "Bech32 address checksum does not match"
REASON_SEGWIT = "SegWit address has an invalid witness version or program length"
REASON_SEGWIT_VERSION = "SegWit versions above 1 are not in use"
REASON_ETH_CHECKSUM = "Ethereum address checksum (EIP-55) does not match"

#: Base58Check version bytes of pay-to-pubkey-hash and pay-to-script-hash addresses.
_BASE58_VERSIONS = {0x00: BTC, 0x05: BTC, 0x6F: BTC_TESTNET, 0xC4: BTC_TESTNET}
_BECH32_HRPS = {"bc": BTC, "tb": BTC_TESTNET}
_BASE58_PAYLOAD_BYTES = 21
_MAX_SEGWIT_VERSION = 1

_NETWORK_PREFIX = re.compile(r"([A-Za-z][A-Za-z-]*):")
_ETH_SHAPE = re.compile(r"0x[0-9A-Fa-f]{40}")
_BECH32_SHAPE = re.compile(r"(?:bc|tb)1[02-9ac-hj-np-z]{8,87}", re.IGNORECASE)
_BASE58_SHAPE = re.compile(r"[123mn][1-9A-HJ-NP-Za-km-z]{24,34}")


def canonical_crypto_address(value: str) -> str:
    """``<network>:<address>`` with its checksum checked, or :class:`InvalidIdentifier`."""
    text = trim(value, Kind.CRYPTO_ADDRESS)
    if has_whitespace_or_control(text):
        raise InvalidIdentifier(REASON_SPACES, kind=Kind.CRYPTO_ADDRESS)
    named, address = _split_network(text)
    network, canonical = _read_address(address)
    if named is not None and named != network:
        raise InvalidIdentifier(REASON_NETWORK_MISMATCH, kind=Kind.CRYPTO_ADDRESS)
    return f"{network}:{canonical}"


def looks_like_crypto_address(text: str) -> bool:
    """The shape of a bare address (detection only; mainnet Base58 starts with 1 or 3)."""
    return (
        _ETH_SHAPE.fullmatch(text) is not None
        or _BECH32_SHAPE.fullmatch(text) is not None
        or (text[:1] in "13" and _BASE58_SHAPE.fullmatch(text) is not None)
    )


def is_network_name(text: str) -> bool:
    return text.lower() in NETWORKS


def _split_network(text: str) -> tuple[str | None, str]:
    prefix = _NETWORK_PREFIX.match(text)
    if prefix is None:
        return None, text
    name = prefix.group(1).lower()
    if name not in NETWORKS:
        raise InvalidIdentifier(REASON_NETWORK, kind=Kind.CRYPTO_ADDRESS)
    return name, text[prefix.end() :]


def _read_address(address: str) -> tuple[str, str]:
    if _ETH_SHAPE.fullmatch(address) is not None:
        return ETH, _ethereum(address)
    if _BECH32_SHAPE.fullmatch(address) is not None:
        return _bech32(address)
    if _BASE58_SHAPE.fullmatch(address) is not None:
        return _base58(address), address
    raise InvalidIdentifier(REASON_UNKNOWN, kind=Kind.CRYPTO_ADDRESS)


def _ethereum(address: str) -> str:
    """EIP-55: a mixed-case address must carry a valid checksum; all one case carries none."""
    digits = address[2:]
    lowered = digits.lower()
    if digits not in (lowered, digits.upper()) and digits != eip55_checksum(lowered):
        raise InvalidIdentifier(REASON_ETH_CHECKSUM, kind=Kind.CRYPTO_ADDRESS)
    return "0x" + lowered


def eip55_checksum(lower_hex: str) -> str:
    """The EIP-55 spelling of 40 lower-case hex digits (without ``0x``)."""
    digest = keccak.new(digest_bits=256, data=lower_hex.encode("ascii")).hexdigest()
    return "".join(
        char.upper() if char.isalpha() and int(nibble, 16) >= 8 else char
        for char, nibble in zip(lower_hex, digest, strict=False)
    )


def _bech32(address: str) -> tuple[str, str]:
    if address not in (address.lower(), address.upper()):
        raise InvalidIdentifier(REASON_BECH32_CASE, kind=Kind.CRYPTO_ADDRESS)
    lowered = address.lower()
    hrp = lowered[: lowered.rfind("1")]  # "bc" or "tb": the shape allows nothing else
    try:
        decoded = bech32m.decode(hrp, lowered)
    except bech32m.DecodeError:
        raise InvalidIdentifier(_bech32_problem(lowered), kind=Kind.CRYPTO_ADDRESS) from None
    if decoded.witver > _MAX_SEGWIT_VERSION:
        raise InvalidIdentifier(REASON_SEGWIT_VERSION, kind=Kind.CRYPTO_ADDRESS)
    return _BECH32_HRPS[hrp], lowered


def _bech32_problem(lowered: str) -> str:
    """Why a refused Bech32 string was refused: its checksum, or the SegWit rules after it."""
    try:
        bech32m.codecs.bech32_decode(lowered)
    except bech32m.DecodeError:
        return REASON_BECH32_CHECKSUM
    return REASON_SEGWIT


def _base58(address: str) -> str:
    try:
        payload = base58.b58decode_check(address)
    except ValueError:
        raise InvalidIdentifier(REASON_BASE58_CHECKSUM, kind=Kind.CRYPTO_ADDRESS) from None
    network = _BASE58_VERSIONS.get(payload[0]) if payload else None
    if network is None or len(payload) != _BASE58_PAYLOAD_BYTES:
        raise InvalidIdentifier(REASON_BASE58_VERSION, kind=Kind.CRYPTO_ADDRESS)
    return network
