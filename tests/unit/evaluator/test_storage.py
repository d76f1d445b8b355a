"""The evaluator's database at start-up: a fresh data directory works, a failure explains."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluator.errors import StorageError
from evaluator.storage import build_engine, create_schema


def test_a_data_directory_that_does_not_exist_yet_is_made(tmp_path: Path) -> None:
    database = tmp_path / "fresh" / "data" / "evaluator.sqlite3"
    engine = build_engine(f"sqlite+pysqlite:///{database}")
    try:
        create_schema(engine)
    finally:
        engine.dispose()
    assert database.is_file()
    assert database.parent.stat().st_mode & 0o077 == 0


def test_a_database_that_cannot_be_opened_names_the_path_and_the_cause(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    database = tmp_path / "elsewhere" / "evaluator.sqlite3"
    engine = build_engine(f"sqlite+pysqlite:///{database}")
    database.parent.rmdir()
    database.parent.symlink_to(blocker)  # the directory is now a file
    try:
        with pytest.raises(StorageError) as failed:
            create_schema(engine)
    finally:
        engine.dispose()
    assert str(database) in failed.value.reason
    assert "unable to open database file" in failed.value.reason
