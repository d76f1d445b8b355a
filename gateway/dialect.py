"""Dialect-specific statements the ORM does not unify (INSERT ... ON CONFLICT, COPY)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_conflicts(session: Session, table: Any, index_elements: list[str]) -> Any:
    """``INSERT ... ON CONFLICT (index_elements) DO NOTHING`` for SQLite and PostgreSQL."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=index_elements)


def copy_rows(
    session: Session,
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """Stream ``rows`` into ``table`` with PostgreSQL binary ``COPY`` in the session's transaction.

    For batches of thousands of rows: a multi-row INSERT spends most of its time in the
    driver converting a statement with tens of thousands of placeholders; COPY does not.
    The binary format (``types`` are the columns' PostgreSQL type names) skips formatting
    timestamps and bytea as text: a third of the time of text COPY for 10,000 indicators.
    ``table`` and ``columns`` are identifiers from the code, never from a request.
    """
    driver = session.connection().connection.driver_connection
    if driver is None:  # pragma: no cover - a live session always has its DBAPI connection
        raise RuntimeError("the session has no database connection")
    if len(types) != len(columns):
        raise ValueError("one PostgreSQL type per column")
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)
