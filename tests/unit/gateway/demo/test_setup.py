"""The demo directory: claimed before it is emptied, never someone else's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.demo.setup import MARKER, claimed_directory, fresh_directory
from gateway.errors import ConfigurationError


def test_a_claimed_directory_is_refused_to_a_second_demo(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    with claimed_directory(directory):
        fresh_directory(directory)
        (directory / "ppsgate.sqlite3").write_bytes(b"the first demo's data")
        with (
            pytest.raises(ConfigurationError, match="another demo is running"),
            claimed_directory(directory),
        ):
            fresh_directory(directory)  # pragma: no cover - never reached
        assert (directory / "ppsgate.sqlite3").read_bytes() == b"the first demo's data"
    with claimed_directory(directory):  # released when the first demo ends
        fresh_directory(directory)
        assert sorted(p.name for p in directory.iterdir()) == [MARKER, ".ppsgate-demo.lock"]


def test_a_foreign_directory_is_never_emptied(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("years of work")
    with (
        pytest.raises(ConfigurationError, match="not a demo directory"),
        claimed_directory(tmp_path),
    ):
        fresh_directory(tmp_path)  # pragma: no cover - never reached
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.tex"]
