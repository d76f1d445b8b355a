"""RFC 6962 Merkle tree hashing, proofs and proof verification, from the leaves up.

This is the reference a third party can read in one sitting and run on its own: leaves and
hashes are plain ``bytes``, nothing here touches storage. The gateway serves the same proofs
from stored subtree hashes (:mod:`audit.tree`); tests check that both agree.

Hashing follows RFC 6962 §2.1 (= RFC 9162 §2.1.1): ``leaf = SHA-256(0x00 || entry)``,
``node = SHA-256(0x01 || left || right)``, the empty tree hashes to ``SHA-256("")``, and a
tree of ``n > 1`` leaves splits at the largest power of two smaller than ``n``. Proof
generation follows the recursive definitions of RFC 6962 §2.1.1-2.1.2; verification follows
the iterative algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2, with two stricter rules that the
published test vectors pin down: leaf and proof hashes must be exactly 32 bytes, and a
consistency proof from an empty tree is refused (it proves nothing).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from audit.errors import MerkleProofError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "root_from_hashes",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]


def leaf_hash(entry: bytes) -> bytes:
    """MTH of a one-leaf tree: SHA-256(0x00 || entry)."""
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (``size`` >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, in O(n) time and O(log n) memory.

    Perfect subtrees are merged as soon as two of equal size meet; the remaining stack
    (largest first) is then folded from the right, which is exactly the RFC's split rule.
    """
    stack: list[tuple[int, bytes]] = []
    for value in hashes:
        size, current = 1, value
        while stack and stack[-1][0] == size:
            _, left = stack.pop()
            current = node_hash(left, current)
            size *= 2
        stack.append((size, current))
    if not stack:
        return EMPTY_ROOT
    result = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        result = node_hash(left, result)
    return result


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the given leaf entries (RFC 6962 §2.1)."""
    return root_from_hashes([leaf_hash(leaf) for leaf in leaves])


def _path(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) over leaf hashes (RFC 6962 §2.1.1), leaf side first."""
    if len(hashes) <= 1:
        return []
    k = split_point(len(hashes))
    if index < k:
        return [*_path(index, hashes[:k]), root_from_hashes(hashes[k:])]
    return [*_path(index - k, hashes[k:]), root_from_hashes(hashes[:k])]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path for leaf ``index`` in the tree of ``leaves``."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"index {index} is outside a tree of {len(leaves)} leaves")
    return _path(index, [leaf_hash(leaf) for leaf in leaves])


def _subproof(m: int, hashes: Sequence[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) over leaf hashes (RFC 6962 §2.1.2)."""
    n = len(hashes)
    if m == n:
        return [] if complete else [root_from_hashes(hashes)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], complete), root_from_hashes(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), root_from_hashes(hashes[:k])]


def consistency_proof(leaves: Sequence[bytes], m: int) -> list[bytes]:
    """PROOF(m, D[n]): that the first ``m`` leaves are a prefix of all ``n`` leaves."""
    if not 0 < m <= len(leaves):
        raise ValueError(f"old size {m} must be between 1 and the tree size {len(leaves)}")
    return _subproof(m, [leaf_hash(leaf) for leaf in leaves], True)


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise MerkleProofError(f"{what} is {len(value)} bytes, a SHA-256 hash is {HASH_SIZE}")


def _same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def root_from_inclusion_proof(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes:
    """The root implied by an audit path (RFC 9162 §2.1.3.2), or an error if malformed."""
    if tree_size <= 0 or not 0 <= index < tree_size:
        raise MerkleProofError(f"leaf index {index} is outside a tree of size {tree_size}")
    _check_hash(leaf, "leaf hash")
    fn, sn, result = index, tree_size - 1, leaf
    for position, sibling in enumerate(proof):
        _check_hash(sibling, f"proof hash {position}")
        if sn == 0:
            raise MerkleProofError(f"proof has {len(proof)} hashes, more than the path needs")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise MerkleProofError(f"proof has {len(proof)} hashes, fewer than the path needs")
    return result


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """Check that ``leaf`` (a leaf *hash*) is at ``index`` in the tree with ``root_hash``.

    Raises :class:`~audit.errors.MerkleProofError` with the reason when it is not.
    """
    computed = root_from_inclusion_proof(leaf, index, tree_size, proof)
    if not _same(computed, root_hash):
        raise MerkleProofError(
            f"inclusion proof for leaf {index} does not lead to the root of size {tree_size}"
        )


def _roots_from_consistency_proof(
    size1: int, size2: int, root1: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """The (old, new) roots a consistency proof implies (RFC 9162 §2.1.4.2, 0 < size1 < size2)."""
    for position, value in enumerate(proof):
        _check_hash(value, f"proof hash {position}")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root is a node of the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    for value in path[1:]:
        if sn == 0:
            raise MerkleProofError(f"proof has {len(proof)} hashes, more than it needs")
        if fn & 1 or fn == sn:
            first = node_hash(value, first)
            second = node_hash(value, second)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second = node_hash(second, value)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise MerkleProofError(f"proof has {len(proof)} hashes, fewer than it needs")
    return first, second


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree ``(size1, root1)`` is a prefix of the tree ``(size2, root2)``.

    Raises :class:`~audit.errors.MerkleProofError` with the reason when it is not.
    """
    if size1 < 0 or size2 < size1:
        raise MerkleProofError(f"old size {size1} is larger than new size {size2}")
    if size1 == 0:
        raise MerkleProofError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise MerkleProofError("equal sizes need an empty proof")
        if not _same(root1, root2):
            raise MerkleProofError(f"two different roots for the same size {size1}")
        return
    if not proof:
        raise MerkleProofError(f"empty proof between sizes {size1} and {size2}")
    first, second = _roots_from_consistency_proof(size1, size2, root1, proof)
    if not _same(first, root1):
        raise MerkleProofError(f"proof does not lead to the old root of size {size1}")
    if not _same(second, root2):
        raise MerkleProofError(f"proof does not lead to the new root of size {size2}")
