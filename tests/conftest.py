"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

``database_url`` is parametrised over both backends. Without ``PPSGATE_TEST_DATABASE_URL``
the PostgreSQL half is skipped with a visible reason; in CI (``CI=true``) it fails instead,
so a missing database can never turn into a silently green run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import (
    PG_ENV,
    PostgresTemplates,
    SqliteTemplates,
    in_ci,
    postgres_base_url,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_VECTORS = REPO_ROOT / "tests" / "vectors"


@pytest.fixture(scope="session")
def test_vectors() -> Path:
    """The public test vectors kept in tests/vectors (sources and licences in its README)."""
    return TEST_VECTORS


@pytest.fixture(scope="session")
def _pg_templates() -> Iterator[PostgresTemplates | None]:
    base = postgres_base_url()
    if base is None:
        yield None
        return
    templates = PostgresTemplates(base)
    yield templates
    templates.close()


@pytest.fixture(scope="session")
def _sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend under test."""
    if request.param == "postgres" and postgres_base_url() is None:
        message = (
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1/test)"
        )
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return str(request.param)


@pytest.fixture
def database_url(
    backend: str,
    tmp_path: Path,
    _pg_templates: PostgresTemplates | None,
    _sqlite_templates: SqliteTemplates,
) -> Iterator[str]:
    """A fresh, fully migrated database of the parametrised backend."""
    if backend == "sqlite":
        yield _sqlite_templates.fresh(tmp_path)
        return
    assert _pg_templates is not None
    url = _pg_templates.fresh()
    yield url
    _pg_templates.drop(url)
