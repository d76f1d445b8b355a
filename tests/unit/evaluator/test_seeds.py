"""The seed file: one seed per epoch, mode 0600, destroyed for good."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from evaluator.errors import EvaluatorConfigurationError
from evaluator.seeds import add_epoch, destroy_epoch, read_seeds


def test_add_read_destroy(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "seeds"
    add_epoch(path, 1)
    add_epoch(path, 2)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    seeds = read_seeds(path)
    assert sorted(seeds) == [1, 2]
    assert all(len(seed) == 32 for seed in seeds.values())
    assert seeds[1] != seeds[2]
    destroy_epoch(path, 1)
    assert sorted(read_seeds(path)) == [2]
    assert seeds[1].hex() not in path.read_text()
    assert read_seeds(path)[2] == seeds[2]


def test_never_replaces_a_seed(tmp_path: Path) -> None:
    path = tmp_path / "seeds"
    add_epoch(path, 5)
    before = path.read_text()
    with pytest.raises(EvaluatorConfigurationError, match="already holds a seed for epoch 5"):
        add_epoch(path, 5)
    assert path.read_text() == before


def test_refuses_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "seeds"
    add_epoch(path, 1)
    path.chmod(0o644)
    with pytest.raises(EvaluatorConfigurationError, match="chmod 600") as caught:
        read_seeds(path)
    assert caught.value.field == "seed_file"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1 abcd\n", "must be 32 bytes"),
        ("x " + "00" * 32 + "\n", "line 1 is not"),
        ("1 " + "zz" * 32 + "\n", "not hexadecimal"),
        ("# c\n1 " + "00" * 32 + "\n1 " + "11" * 32 + "\n", "line 3: epoch 1 appears twice"),
    ],
)
def test_malformed_lines_are_named(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "seeds"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(EvaluatorConfigurationError, match=reason):
        read_seeds(path)


def test_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(EvaluatorConfigurationError, match="init-seed"):
        read_seeds(tmp_path / "absent")


def test_destroying_an_unknown_epoch_fails(tmp_path: Path) -> None:
    path = tmp_path / "seeds"
    add_epoch(path, 1)
    with pytest.raises(EvaluatorConfigurationError, match="no seed for epoch 4"):
        destroy_epoch(path, 4)
