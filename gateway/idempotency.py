"""Idempotent writes: a retry with the same ``Idempotency-Key`` gets the first answer.

The stored response is written in the same transaction as the write it answers, so a crash
leaves either both or neither; the request body's digest is kept so that reusing a key for a
different body is refused instead of silently answered with the wrong result.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, SmallInteger, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from gateway.db import Base, UTCDateTime
from gateway.errors import ConflictError, InvalidRequestError

MAX_KEY_LENGTH = 128


class IdempotentResponse(Base):
    """The first response to a write, replayed for a retry with the same Idempotency-Key."""

    __tablename__ = "idempotent_responses"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    request_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


def body_digest(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidRequestError(
            f"must be 1-{MAX_KEY_LENGTH} printable ASCII characters", field="Idempotency-Key"
        )


def replay(session: Session, partner_id: str, key: str, digest: bytes) -> tuple[int, str] | None:
    """The stored (status, body) for this key, or None if the key is new."""
    stored = session.execute(
        select(IdempotentResponse).where(
            IdempotentResponse.partner_id == partner_id, IdempotentResponse.key == key
        )
    ).scalar_one_or_none()
    if stored is None:
        return None
    if stored.request_digest != digest:
        raise ConflictError(
            "this Idempotency-Key was used for a different request body", field="Idempotency-Key"
        )
    return stored.status_code, stored.body


def remember(
    session: Session, partner_id: str, key: str, digest: bytes, *, status: int, body: str
) -> None:
    session.add(
        IdempotentResponse(
            partner_id=partner_id, key=key, request_digest=digest, status_code=status, body=body
        )
    )
    session.flush()
