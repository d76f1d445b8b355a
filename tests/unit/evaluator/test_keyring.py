"""Keys per epoch and type from DeriveKeyPair; the ring follows the seed file."""

from __future__ import annotations

from pathlib import Path

import pytest
from voprf import ristretto

from connectors.canonical import Kind
from connectors.oprf.suite import key_info
from evaluator.errors import UnknownKeyError
from evaluator.keyring import KeyRing
from evaluator.seeds import add_epoch, destroy_epoch, read_seeds


def test_keys_are_derive_key_pair_of_the_epoch_seed(tmp_path: Path) -> None:
    path = tmp_path / "seeds"
    add_epoch(path, 3)
    ring = KeyRing(path)
    seed = read_seeds(path)[3]
    for kind in Kind:
        expected = ristretto.Evaluator.from_seed(seed, key_info(3, kind)).public_key.serialize()
        assert ring.public_key(3, kind) == expected
    assert len({ring.public_key(3, kind) for kind in Kind}) == len(Kind)


def test_new_and_destroyed_epochs_take_effect_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "seeds"
    add_epoch(path, 1)
    ring = KeyRing(path)
    assert ring.epochs == [1]
    add_epoch(path, 2)
    ring.evaluator(2, Kind.PHONE)
    destroy_epoch(path, 1)
    with pytest.raises(UnknownKeyError, match="no key for epoch 1") as caught:
        ring.evaluator(1, Kind.PHONE)
    assert caught.value.status == 404
    assert ring.public_keys().keys() == {"2"}
