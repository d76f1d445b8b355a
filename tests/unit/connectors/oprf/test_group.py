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


def test_chunk_wide_operations_match_the_single_ones() -> None:
    elements = group.elements_from_uniform([bytes([i]) * 64 for i in range(1, 6)])
    assert elements == [group.element_from_uniform(bytes([i]) * 64) for i in range(1, 6)]
    scalars = group.random_scalars(5)
    assert len(set(scalars)) == 5
    assert group.invert_many(scalars) == [group.invert(s) for s in scalars]
    assert group.invert_many(scalars[:1]) == [group.invert(scalars[0])]
    assert group.invert_many([]) == []
    products = group.mul_many(scalars, elements)
    assert products == [group.mul(s, e) for s, e in zip(scalars, elements, strict=True)]
    total = group.IDENTITY
    for product in products:
        total = group.add(total, product)
    assert group.sum_elements(products) == total
    assert group.sum_elements([]) == group.IDENTITY
    assert group.sum_elements([group.IDENTITY, products[0]]) == products[0]
    assert group.reduce_wide_many([bytes(range(64))]) == [group.reduce_wide(bytes(range(64)))]


def test_chunk_wide_operations_refuse_what_the_single_ones_refuse() -> None:
    elements = group.elements_from_uniform([bytes(64), bytes(range(64))])
    scalars = group.random_scalars(2)
    with pytest.raises(group.GroupError, match="inverse"):
        group.invert_many([scalars[0], bytes(32), scalars[1]])
    with pytest.raises(group.GroupError, match="identity"):
        group.mul_many([scalars[0], bytes(32)], elements)
    with pytest.raises(group.GroupError, match="identity or the element is invalid"):
        group.mul_many(scalars, [elements[0], b"\xff" * 32])
    with pytest.raises(group.GroupError):
        group.mul_many(scalars, elements[:1])
    with pytest.raises(group.GroupError, match="not a valid element"):
        group.sum_elements([elements[1], elements[1], b"\xff" * 32])


def test_missing_libsodium_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    group._sodium.cache_clear()
    monkeypatch.setitem(sys.modules, "pysodium", None)
    try:
        with pytest.raises(group.LibsodiumMissing, match="apt-get install libsodium23"):
            group.random_scalar()
    finally:
        group._sodium.cache_clear()
