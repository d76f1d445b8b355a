"""ristretto255 group and scalar operations, every one computed by libsodium.

The v2 connector needs a few operations the ``voprf`` binding keeps to itself: blinding with
a blind it can read back, and checking an evaluator's proof over elements it did not blind
(the second hop of the evaluator chain). libsodium (through ``pysodium``, which loads the
system's ``libsodium.so``) provides exactly the ristretto255 primitives RFC 9497 is written in:
the 64-byte one-way map, constant-time scalar multiplication, point addition and scalar
arithmetic modulo the group order. This module is the only caller, so the few ways those
calls fail are turned into one :class:`GroupError` here, and every value in and out is a
canonical 32-byte encoding. No curve arithmetic is written in ppsgate.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import cast

from connectors.errors import ConnectorError

ELEMENT_BYTES = 32
SCALAR_BYTES = 32
UNIFORM_BYTES = 64
IDENTITY = bytes(ELEMENT_BYTES)


class GroupError(ValueError):
    """An encoding is not a usable element or scalar, or a product is the identity."""


class LibsodiumMissing(ConnectorError):  # noqa: N818 - names what the operator must install
    """The system has no ``libsodium.so``: v1 works, v2 cannot run until it is installed."""

    title = "libsodium missing"


@functools.cache
def _sodium() -> ModuleType:
    """pysodium, loaded on first use so that a v1-only connector runs without libsodium."""
    try:
        import pysodium  # type: ignore[import-untyped]  # noqa: PLC0415
    except (ImportError, ValueError, OSError):  # ValueError: pysodium found no libsodium.so
        raise LibsodiumMissing(
            "hashing spec v2 needs the system's libsodium (Debian: apt-get install libsodium23)"
        ) from None
    return cast(ModuleType, pysodium)


def is_element(data: bytes) -> bool:
    """A canonical encoding of a ristretto255 element other than the identity (RFC 9497 §2.1).

    RFC 9496 §4.3.1 requires the top bit of the last byte to be clear; libsodium before
    1.0.19 (Debian 12 ships 1.0.18) ignores that bit when it checks an encoding, so it is
    checked here: otherwise an evaluator could answer with encodings that decode to the
    right points but that a conforming implementation (the next evaluator) refuses.
    """
    return (
        len(data) == ELEMENT_BYTES
        and not data[-1] & 0x80
        and data != IDENTITY
        and bool(_sodium().crypto_core_ristretto255_is_valid_point(data))
    )


def is_scalar(data: bytes) -> bool:
    """A canonical scalar: 32 little-endian bytes below the group order."""
    return len(data) == SCALAR_BYTES and reduce_wide(data + bytes(SCALAR_BYTES)) == data


def element_from_uniform(uniform: bytes) -> bytes:
    """The ristretto255 one-way map of 64 uniform bytes (RFC 9380 ``hash_to_ristretto255``)."""
    if len(uniform) != UNIFORM_BYTES:
        raise GroupError(f"the one-way map takes {UNIFORM_BYTES} bytes, got {len(uniform)}")
    return cast(bytes, _sodium().crypto_core_ristretto255_from_hash(uniform))


def reduce_wide(data: bytes) -> bytes:
    """64 little-endian bytes modulo the group order: the scalar of RFC 9497 ``HashToScalar``."""
    if len(data) != UNIFORM_BYTES:
        raise GroupError(f"a wide scalar is {UNIFORM_BYTES} bytes, got {len(data)}")
    return cast(bytes, _sodium().crypto_core_ristretto255_scalar_reduce(data))


def mul(scalar: bytes, element: bytes) -> bytes:
    """``scalar·element``; refused when the product is the identity (a zero scalar, say)."""
    try:
        return cast(bytes, _sodium().crypto_scalarmult_ristretto255(scalar, element))
    except ValueError:
        raise GroupError("the product is the identity or the element is invalid") from None


def mul_base(scalar: bytes) -> bytes:
    """``scalar·G`` for the group's generator; refused for a zero scalar."""
    try:
        return cast(bytes, _sodium().crypto_scalarmult_ristretto255_base(scalar))
    except ValueError:
        raise GroupError("the product is the identity") from None


def add(first: bytes, second: bytes) -> bytes:
    """``first + second`` (either may be the identity's encoding)."""
    if first == IDENTITY:
        return second
    if second == IDENTITY:
        return first
    try:
        return cast(bytes, _sodium().crypto_core_ristretto255_add(first, second))
    except ValueError:
        raise GroupError("an addend is not a valid element") from None


def random_scalar() -> bytes:
    """A uniformly random non-zero scalar from libsodium's CSPRNG."""
    return cast(bytes, _sodium().crypto_core_ristretto255_scalar_random())


def invert(scalar: bytes) -> bytes:
    """``scalar⁻¹`` modulo the group order; refused for zero."""
    try:
        return cast(bytes, _sodium().crypto_core_ristretto255_scalar_invert(scalar))
    except ValueError:
        raise GroupError("zero has no inverse") from None


def scalar_mul(first: bytes, second: bytes) -> bytes:
    """``first·second`` modulo the group order."""
    return cast(bytes, _sodium().crypto_core_ristretto255_scalar_mul(first, second))
