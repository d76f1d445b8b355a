"""Merkle proofs from stored subtree hashes: what a log server keeps so nothing is recomputed.

A log that stores the hash of every *perfect* subtree (``2**level`` leaves starting at
``index * 2**level``), keyed by ``(level, index)``, can append in O(log n) and answer any
inclusion or consistency proof with O(log n) reads: every hash in an RFC 6962 proof covers
either a perfect subtree or a range ``[start, size)`` that ends at the tree's right edge,
and such a range is the fold of at most ``log2(size)`` perfect subtrees.

The *frontier* (the compact range ``[0, size)``) is the list of perfect subtree hashes that
make up the whole tree, largest first; appending a leaf only touches its tail. Everything
here is pure: storage layers fetch the :class:`NodeKey` values a plan asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from audit.merkle import EMPTY_ROOT, node_hash, split_point


class NodeKey(NamedTuple):
    """A perfect subtree: leaves ``[idx * 2**level, (idx + 1) * 2**level)``."""

    level: int
    idx: int


class Span(NamedTuple):
    """A leaf range ``[start, end)`` whose Merkle hash is one element of a proof."""

    start: int
    end: int


def frontier_keys(size: int) -> list[NodeKey]:
    """The perfect subtrees that make up a tree of ``size`` leaves, largest first."""
    return [
        NodeKey(level, (size >> level) - 1)
        for level in range(size.bit_length() - 1, -1, -1)
        if size >> level & 1
    ]


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """Root hash of the tree described by its frontier (folded from the right)."""
    if not frontier:
        return EMPTY_ROOT
    result = frontier[-1]
    for left in reversed(frontier[:-1]):
        result = node_hash(left, result)
    return result


def append_leaf(
    frontier: Sequence[bytes], size: int, leaf: bytes
) -> tuple[list[bytes], list[tuple[NodeKey, bytes]]]:
    """Append one leaf hash to a tree of ``size`` leaves.

    Returns the new frontier and every perfect subtree the leaf completes (the leaf itself
    first, then its ancestors up to the largest one it closes): these are the only hashes
    that become final with this leaf, so they are all a store ever needs to write.
    """
    if len(frontier) != size.bit_count():
        raise ValueError(f"frontier of {len(frontier)} hashes cannot describe size {size}")
    stack = list(frontier)
    level, index, current = 0, size, leaf
    completed = [(NodeKey(0, size), leaf)]
    remaining = size
    while remaining & 1:
        current = node_hash(stack.pop(), current)
        remaining >>= 1
        level += 1
        index >>= 1
        completed.append((NodeKey(level, index), current))
    stack.append(current)
    return stack, completed


def completed_between(old_size: int, new_size: int) -> dict[int, tuple[int, int]]:
    """Per level, the inclusive index range of perfect subtrees completed by appends.

    A subtree ``(level, i)`` becomes complete when leaf ``(i + 1) * 2**level - 1`` is
    appended, so the appends of leaves ``[old_size, new_size)`` complete indexes
    ``old_size >> level ... (new_size >> level) - 1`` at each level (empty ranges omitted).
    """
    ranges: dict[int, tuple[int, int]] = {}
    for level in range(new_size.bit_length()):
        first = old_size >> level
        last = (new_size >> level) - 1
        if first <= last:
            ranges[level] = (first, last)
    return ranges


def span_keys(span: Span) -> list[NodeKey]:
    """Perfect subtrees whose fold is the Merkle hash of ``span``, left to right.

    Valid for spans that are aligned perfect subtrees or start at a multiple of a power
    of two larger than their length (the right-edge spans proofs use).
    """
    keys: list[NodeKey] = []
    position, remaining = span.start, span.end - span.start
    for level in range(remaining.bit_length() - 1, -1, -1):
        if remaining >> level & 1:
            if position % (1 << level):
                raise ValueError(f"span {span} is not made of aligned perfect subtrees")
            keys.append(NodeKey(level, position >> level))
            position += 1 << level
    return keys


def _inclusion_spans(index: int, start: int, end: int) -> list[Span]:
    if end - start <= 1:
        return []
    k = split_point(end - start)
    middle = start + k
    if index < middle:
        return [*_inclusion_spans(index, start, middle), Span(middle, end)]
    return [*_inclusion_spans(index, middle, end), Span(start, middle)]


def inclusion_spans(index: int, size: int) -> list[Span]:
    """The spans whose hashes form PATH(index, D[size]), leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    return _inclusion_spans(index, 0, size)


def _consistency_spans(old: int, start: int, end: int, complete: bool) -> list[Span]:
    if old == end - start:
        return [] if complete else [Span(start, end)]
    k = split_point(end - start)
    middle = start + k
    if old <= k:
        return [*_consistency_spans(old, start, middle, complete), Span(middle, end)]
    return [*_consistency_spans(old - k, middle, end, False), Span(start, middle)]


def consistency_spans(old_size: int, new_size: int) -> list[Span]:
    """The spans whose hashes form PROOF(old_size, D[new_size])."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"old size {old_size} must be between 1 and new size {new_size}")
    return _consistency_spans(old_size, 0, new_size, True)


def keys_for(spans: Iterable[Span]) -> set[NodeKey]:
    """Every stored node a list of spans needs (one batched read serves a whole proof)."""
    return {key for span in spans for key in span_keys(span)}


def hash_spans(spans: Sequence[Span], nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    """Turn spans into proof hashes using fetched nodes; a missing node is a storage fault."""
    hashes = []
    for span in spans:
        keys = span_keys(span)
        missing = [key for key in keys if key not in nodes]
        if missing:
            raise LookupError(f"stored tree lacks subtree {missing[0]} needed for span {span}")
        hashes.append(frontier_root([nodes[key] for key in keys]))
    return hashes
