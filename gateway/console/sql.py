"""Reading fields of the canonical entry body in SQL, on both backends.

Only a few entry fields have search columns; counts and the policy digest live in the
canonical JSON body. These expressions read them with the database's own JSON functions so
that aggregates run where the data is instead of in Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Text, cast, func, literal_column
from sqlalchemy.orm import Session

from gateway.audit_trail.models import AuditEntry


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def body_text(session: Session, *path: str) -> ColumnElement[Any]:
    """The text at ``path`` in the entry body (``NULL`` when absent)."""
    if any(not part.replace("_", "").isalnum() for part in path):
        raise ValueError(f"unsafe JSON path {path!r}")
    if _is_postgres(session):
        pointer = "{" + ",".join(path) + "}"
        return literal_column(f"(convert_from(audit_entries.body, 'UTF8')::jsonb #>> '{pointer}')")
    return func.json_extract(cast(AuditEntry.body, Text), "$." + ".".join(path))


def body_count(session: Session, name: str) -> ColumnElement[Any]:
    """An integer of the entry's ``counts`` object (0 when absent)."""
    return func.coalesce(cast(body_text(session, "counts", name), BigInteger), 0)
