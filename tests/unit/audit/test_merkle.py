"""RFC 6962 Merkle hashing and proofs against published vectors and properties."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import merkle
from audit.errors import MerkleProofError

# From the Go checksum database's ct_test.go: the Argon2020 consistency proof is from this
# earlier tree (size and root are in the test source, not in the response files).
ARGON_OLD_SIZE = 3654490
ARGON_OLD_ROOT = "AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ="


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _vectors(root: Path, kind: str) -> list[Any]:
    files = sorted((root / "merkle" / kind).rglob("*.json"))
    return [pytest.param(path, id=str(path.relative_to(root / "merkle" / kind))) for path in files]


@pytest.fixture(scope="module")
def reference(test_vectors: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((test_vectors / "merkle" / "roots.json").read_text())
    return data


def test_roots_for_sizes_0_to_8(reference: dict[str, Any]) -> None:
    leaves = [bytes.fromhex(value) for value in reference["leaves_hex"]]
    roots = reference["roots_by_size_hex"]
    assert len(roots) == 9
    for size, expected in enumerate(roots):
        assert merkle.root(leaves[:size]).hex() == expected, size


def test_proofs_generated_from_reference_leaves_verify(reference: dict[str, Any]) -> None:
    leaves = [bytes.fromhex(value) for value in reference["leaves_hex"]]
    roots = [bytes.fromhex(value) for value in reference["roots_by_size_hex"]]
    for size in range(1, 9):
        for index in range(size):
            proof = merkle.inclusion_proof(leaves[:size], index)
            merkle.verify_inclusion(
                merkle.leaf_hash(leaves[index]), index, size, proof, roots[size]
            )
        for old in range(1, size + 1):
            proof = merkle.consistency_proof(leaves[:size], old)
            merkle.verify_consistency(old, size, roots[old], roots[size], proof)


def _run_inclusion(case: dict[str, Any]) -> None:
    merkle.verify_inclusion(
        _b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        [_b64(value) for value in case["proof"] or []],
        _b64(case["root"]),
    )


def _run_consistency(case: dict[str, Any]) -> None:
    merkle.verify_consistency(
        case["size1"],
        case["size2"],
        _b64(case["root1"]),
        _b64(case["root2"]),
        [_b64(value) for value in case["proof"] or []],
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    from tests.conftest import TEST_VECTORS

    for kind in ("inclusion", "consistency"):
        if f"{kind}_vector" in metafunc.fixturenames:
            metafunc.parametrize(f"{kind}_vector", _vectors(TEST_VECTORS, kind))


def _load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text())
    return case


def test_transparency_dev_inclusion_vector(inclusion_vector: Path) -> None:
    case = _load(inclusion_vector)
    if case["wantErr"]:
        with pytest.raises(MerkleProofError):
            _run_inclusion(case)
    else:
        _run_inclusion(case)


def test_transparency_dev_consistency_vector(consistency_vector: Path) -> None:
    case = _load(consistency_vector)
    if case["wantErr"]:
        with pytest.raises(MerkleProofError):
            _run_consistency(case)
    else:
        _run_consistency(case)


def test_vector_sets_are_complete(test_vectors: Path) -> None:
    inclusion = list((test_vectors / "merkle" / "inclusion").rglob("*.json"))
    consistency = list((test_vectors / "merkle" / "consistency").rglob("*.json"))
    tampered = [p for p in inclusion + consistency if json.loads(p.read_text())["wantErr"]]
    assert len(inclusion) > 50
    assert len(consistency) > 50
    assert len(tampered) > 80


def test_argon2020_real_ct_log_proofs(test_vectors: Path) -> None:
    folder = test_vectors / "merkle" / "argon2020"
    sth = json.loads((folder / "sth.json").read_text())
    entry = json.loads((folder / "entries.json").read_text())["entries"][0]
    proof = json.loads((folder / "proof.json").read_text())
    consistency = json.loads((folder / "consistency.json").read_text())["consistency"]
    root = _b64(sth["sha256_root_hash"])
    size = sth["tree_size"]
    leaf = merkle.leaf_hash(_b64(entry["leaf_input"]))
    path = [_b64(value) for value in proof["audit_path"]]
    merkle.verify_inclusion(leaf, proof["leaf_index"], size, path, root)
    merkle.verify_consistency(
        ARGON_OLD_SIZE, size, _b64(ARGON_OLD_ROOT), root, [_b64(v) for v in consistency]
    )
    with pytest.raises(MerkleProofError):
        merkle.verify_inclusion(leaf, proof["leaf_index"] + 1, size, path, root)
    with pytest.raises(MerkleProofError):
        merkle.verify_consistency(
            ARGON_OLD_SIZE + 1, size, _b64(ARGON_OLD_ROOT), root, [_b64(v) for v in consistency]
        )


def test_empty_tree_and_bad_arguments() -> None:
    assert merkle.root([]) == merkle.EMPTY_ROOT
    with pytest.raises(ValueError, match="outside"):
        merkle.inclusion_proof([b"a"], 1)
    with pytest.raises(ValueError, match="old size"):
        merkle.consistency_proof([b"a"], 0)
    with pytest.raises(MerkleProofError, match="outside"):
        merkle.verify_inclusion(merkle.leaf_hash(b"a"), 0, 0, [], merkle.EMPTY_ROOT)


leaf_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=70, unique=True)


@settings(max_examples=150, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_every_inclusion_proof_verifies_and_any_flipped_byte_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    root = merkle.root(leaves)
    proof = merkle.inclusion_proof(leaves, index)
    leaf = merkle.leaf_hash(leaves[index])
    merkle.verify_inclusion(leaf, index, size, proof, root)
    assert merkle.root_from_inclusion_proof(leaf, index, size, proof) == root
    # Flip one byte anywhere: in the leaf hash, a proof hash or the root.
    material = [leaf, *proof, root]
    which = data.draw(st.integers(0, len(material) - 1))
    position = data.draw(st.integers(0, 31))
    mask = data.draw(st.integers(1, 255))
    flipped = bytearray(material[which])
    flipped[position] ^= mask
    material[which] = bytes(flipped)
    with pytest.raises(MerkleProofError):
        merkle.verify_inclusion(material[0], index, size, material[1:-1], material[-1])
    other = data.draw(
        st.integers(0, size - 1).filter(lambda i: i != index) if size > 1 else st.none()
    )
    if other is not None:
        with pytest.raises(MerkleProofError):
            merkle.verify_inclusion(leaf, other, size, proof, root)


@settings(max_examples=150, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_every_consistency_proof_verifies_and_any_flipped_byte_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    size = len(leaves)
    old = data.draw(st.integers(1, size))
    old_root, new_root = merkle.root(leaves[:old]), merkle.root(leaves)
    proof = merkle.consistency_proof(leaves, old)
    merkle.verify_consistency(old, size, old_root, new_root, proof)
    material = [old_root, *proof, new_root]
    which = data.draw(st.integers(0, len(material) - 1))
    if old == size and which not in (0, len(material) - 1):
        return
    position = data.draw(st.integers(0, 31))
    mask = data.draw(st.integers(1, 255))
    flipped = bytearray(material[which])
    flipped[position] ^= mask
    material[which] = bytes(flipped)
    with pytest.raises(MerkleProofError):
        merkle.verify_consistency(old, size, material[0], material[-1], material[1:-1])


@settings(max_examples=100, deadline=None)
@given(leaves=st.lists(st.binary(max_size=8), min_size=2, max_size=40), data=st.data())
def test_a_changed_leaf_breaks_its_old_inclusion_proof(
    leaves: list[bytes], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = merkle.inclusion_proof(leaves, index)
    root = merkle.root(leaves)
    changed = leaves[index] + b"!"
    with pytest.raises(MerkleProofError):
        merkle.verify_inclusion(merkle.leaf_hash(changed), index, len(leaves), proof, root)
