"""The libsodium wrapper: canonical encodings only, clear errors, v1 usable without libsodium."""

from __future__ import annotations

import sys

import pytest

from connectors.oprf import group


def test_identity_and_garbage_are_not_elements() -> None:
    element = group.element_from_uniform(bytes(range(64)))
    assert group.is_element(element)
    assert not group.is_element(group.IDENTITY)
    assert not group.is_element(b"\xff" * 32)
    assert not group.is_element(element[:31])


def test_only_canonical_scalars_are_scalars() -> None:
    order_minus_one = (2**252 + 27742317777372353535851937790883648493 - 1).to_bytes(32, "little")
    assert group.is_scalar(order_minus_one)
    order = (2**252 + 27742317777372353535851937790883648493).to_bytes(32, "little")
    assert not group.is_scalar(order)
    assert not group.is_scalar(b"\xff" * 32)


def test_a_zero_scalar_product_is_refused() -> None:
    element = group.element_from_uniform(bytes(64))
    with pytest.raises(group.GroupError, match="identity"):
        group.mul(bytes(32), element)
    with pytest.raises(group.GroupError, match="inverse"):
        group.invert(bytes(32))


def test_blinding_round_trips() -> None:
    element = group.element_from_uniform(bytes(range(1, 65)))
    blind = group.random_scalar()
    assert group.mul(group.invert(blind), group.mul(blind, element)) == element
    assert group.add(group.IDENTITY, element) == element


def test_missing_libsodium_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    group._sodium.cache_clear()
    monkeypatch.setitem(sys.modules, "pysodium", None)
    try:
        with pytest.raises(group.LibsodiumMissing, match="apt-get install libsodium23"):
            group.random_scalar()
    finally:
        group._sodium.cache_clear()
