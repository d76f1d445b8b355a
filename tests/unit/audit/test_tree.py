"""Proofs served from stored perfect subtrees agree with the reference definitions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import merkle, tree
from audit.tree import NodeKey, Span


def _build(leaves: list[bytes]) -> tuple[list[bytes], dict[NodeKey, bytes]]:
    frontier: list[bytes] = []
    nodes: dict[NodeKey, bytes] = {}
    for index, leaf in enumerate(leaves):
        frontier, completed = tree.append_leaf(frontier, index, merkle.leaf_hash(leaf))
        for key, value in completed:
            assert key not in nodes, "a subtree is completed exactly once"
            nodes[key] = value
    return frontier, nodes


@settings(max_examples=80, deadline=None)
@given(leaves=st.lists(st.binary(max_size=6), min_size=1, max_size=80), data=st.data())
def test_stored_node_proofs_equal_reference_proofs(
    leaves: list[bytes], data: st.DataObject
) -> None:
    frontier, nodes = _build(leaves)
    size = len(leaves)
    assert tree.frontier_root(frontier) == merkle.root(leaves)
    assert len(nodes) == 2 * size - size.bit_count()  # every perfect subtree, once
    index = data.draw(st.integers(0, size - 1))
    spans = tree.inclusion_spans(index, size)
    assert tree.hash_spans(spans, nodes) == merkle.inclusion_proof(leaves, index)
    old = data.draw(st.integers(1, size))
    spans = tree.consistency_spans(old, size)
    assert tree.hash_spans(spans, nodes) == merkle.consistency_proof(leaves, old)
    # Past sizes are served from the same nodes.
    past = data.draw(st.integers(1, size))
    keys = tree.frontier_keys(past)
    assert tree.frontier_root([nodes[key] for key in keys]) == merkle.root(leaves[:past])


def test_proof_reads_are_logarithmic() -> None:
    size = 10_000_000
    for index in (0, 1, 4_999_999, size - 1, 8_388_607):
        keys = tree.keys_for(tree.inclusion_spans(index, size))
        assert len(keys) <= 2 * size.bit_length()
    for old in (1, 3, 5_000_001, size - 1):
        keys = tree.keys_for(tree.consistency_spans(old, size))
        assert len(keys) <= 3 * size.bit_length()


def test_completed_between_matches_appends() -> None:
    frontier: list[bytes] = []
    created: list[NodeKey] = []
    for index in range(37):
        frontier, completed = tree.append_leaf(frontier, index, merkle.leaf_hash(bytes([index])))
        created.extend(key for key, _ in completed)
    for start in range(0, 37):
        for end in range(start, 38):
            expected = {key for key in created[:] if _completed_in(key, start, end)}
            ranges = tree.completed_between(start, end)
            listed = {
                NodeKey(level, idx)
                for level, (first, last) in ranges.items()
                for idx in range(first, last + 1)
            }
            assert listed == expected, (start, end)


def _completed_in(key: NodeKey, start: int, end: int) -> bool:
    last_leaf = (key.idx + 1) * (1 << key.level) - 1
    return start <= last_leaf < end


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="frontier"):
        tree.append_leaf([], 1, b"\x00" * 32)
    with pytest.raises(ValueError, match="aligned"):
        tree.span_keys(Span(1, 3))
    with pytest.raises(ValueError, match="outside"):
        tree.inclusion_spans(5, 5)
    with pytest.raises(ValueError, match="old size"):
        tree.consistency_spans(0, 5)
    with pytest.raises(LookupError, match="lacks"):
        tree.hash_spans([Span(0, 2)], {})
