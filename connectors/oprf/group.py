"""ristretto255 group and scalar operations, every one computed by libsodium.

The v2 connector needs a few operations the ``voprf`` binding keeps to itself: blinding with
a blind it can read back, and checking an evaluator's proof over elements it did not blind
(the second hop of the evaluator chain). libsodium (through ``pysodium``, which loads the
system's ``libsodium.so``) provides exactly the ristretto255 primitives RFC 9497 is written in:
the 64-byte one-way map, constant-time scalar multiplication, point addition and scalar
arithmetic modulo the group order. This module is the only caller, so the few ways those
calls fail are turned into one :class:`GroupError` here, and every value in and out is a
canonical 32-byte encoding. No curve arithmetic is written in ppsgate.

The ``*_many`` functions do one operation over a whole chunk. They call libsodium's functions
directly (``pysodium.sodium``, the loaded library, through ``ctypes``, which releases the GIL
for each call) with one output buffer per call, rather than through pysodium's per-call
wrappers, and :func:`invert_many` inverts a chunk's scalars with one libsodium inversion and
three scalar multiplications each (Montgomery's trick). The results are the same bytes: every
element and scalar has exactly one canonical encoding.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Sequence
from types import ModuleType
from typing import Any, cast

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


def _library() -> Any:
    """The loaded ``libsodium`` (a ``ctypes.CDLL``) behind pysodium."""
    return _sodium().sodium


def _buffer() -> Any:
    return ctypes.create_string_buffer(ELEMENT_BYTES)


def is_encoding(data: bytes) -> bool:
    """The checks of :func:`is_element` that need no decoding: length, top bit, not identity.

    An encoding that passes them is an element exactly when libsodium decodes it, which every
    multiplication does first (a multiplication by an undecodable encoding fails).
    """
    return len(data) == ELEMENT_BYTES and not data[-1] & 0x80 and data != IDENTITY


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


def elements_from_uniform(uniforms: Sequence[bytes]) -> list[bytes]:
    """:func:`element_from_uniform` of each 64-byte string."""
    from_hash = _library().crypto_core_ristretto255_from_hash
    out: list[bytes] = []
    for uniform in uniforms:
        if len(uniform) != UNIFORM_BYTES:
            raise GroupError(f"the one-way map takes {UNIFORM_BYTES} bytes, got {len(uniform)}")
        buffer = _buffer()
        from_hash(buffer, uniform)
        out.append(buffer.raw)
    return out


def mul_many(scalars: Sequence[bytes], elements: Sequence[bytes]) -> list[bytes]:
    """``scalars[i]·elements[i]`` for every i; refused as :func:`mul` refuses any one of them."""
    if len(scalars) != len(elements):
        raise GroupError(f"{len(scalars)} scalar(s) for {len(elements)} element(s)")
    scalarmult = _library().crypto_scalarmult_ristretto255
    out: list[bytes] = []
    for scalar, element in zip(scalars, elements, strict=True):
        if len(scalar) != SCALAR_BYTES or len(element) != ELEMENT_BYTES:
            raise GroupError("a scalar or an element is not 32 bytes")
        buffer = _buffer()
        if scalarmult(buffer, scalar, element) != 0:
            raise GroupError("the product is the identity or the element is invalid")
        out.append(buffer.raw)
    return out


def sum_elements(elements: Sequence[bytes]) -> bytes:
    """The sum of the elements (the identity's encoding for none)."""
    add_points = _library().crypto_core_ristretto255_add
    total = IDENTITY
    for element in elements:
        if len(element) != ELEMENT_BYTES:
            raise GroupError(f"an element is {ELEMENT_BYTES} bytes, got {len(element)}")
        if total == IDENTITY:
            total = element
            continue
        if element == IDENTITY:
            continue
        buffer = _buffer()
        if add_points(buffer, total, element) != 0:
            raise GroupError("an addend is not a valid element")
        total = buffer.raw
    return total


def invert_many(scalars: Sequence[bytes]) -> list[bytes]:
    """``scalar⁻¹`` of each scalar with one inversion (Montgomery's trick); refused for a zero.

    Prefix products ``p_i = s_0·…·s_i``, one inversion of ``p_{n-1}``, then walking back:
    ``s_i⁻¹ = p_{i-1}·(s_i·…·s_{n-1})⁻¹``. Any zero scalar makes the product zero, which
    libsodium refuses to invert.
    """
    library = _library()
    multiply = library.crypto_core_ristretto255_scalar_mul
    prefixes: list[bytes] = []
    running = b""
    for scalar in scalars:
        if len(scalar) != SCALAR_BYTES:
            raise GroupError(f"a scalar is {SCALAR_BYTES} bytes, got {len(scalar)}")
        if running:
            buffer = _buffer()
            multiply(buffer, running, scalar)
            running = buffer.raw
        else:
            running = scalar
        prefixes.append(running)
    if not prefixes:
        return []
    buffer = _buffer()
    if library.crypto_core_ristretto255_scalar_invert(buffer, running) != 0:
        raise GroupError("zero has no inverse")
    inverse = buffer.raw  # (s_0·…·s_i)⁻¹, i walking down from n-1
    out: list[bytes] = [b""] * len(prefixes)
    for index in range(len(prefixes) - 1, 0, -1):
        buffer = _buffer()
        multiply(buffer, inverse, prefixes[index - 1])
        out[index] = buffer.raw
        buffer = _buffer()
        multiply(buffer, inverse, scalars[index])
        inverse = buffer.raw
    out[0] = inverse
    return out


def random_scalars(count: int) -> list[bytes]:
    """``count`` uniformly random non-zero scalars from libsodium's CSPRNG."""
    scalar_random = _library().crypto_core_ristretto255_scalar_random
    out: list[bytes] = []
    for _ in range(count):
        buffer = _buffer()
        scalar_random(buffer)
        out.append(buffer.raw)
    return out


def reduce_wide_many(wide: Sequence[bytes]) -> list[bytes]:
    """:func:`reduce_wide` of each 64-byte string."""
    reduce = _library().crypto_core_ristretto255_scalar_reduce
    out: list[bytes] = []
    for data in wide:
        if len(data) != UNIFORM_BYTES:
            raise GroupError(f"a wide scalar is {UNIFORM_BYTES} bytes, got {len(data)}")
        buffer = _buffer()
        reduce(buffer, data)
        out.append(buffer.raw)
    return out
