"""The evaluator's own small database: quota windows and the volume log.

It is not the gateway's database and shares nothing with it (its own declarative base, its
own tables, created on start, whose shape is part of this module). What it holds are counts:
per partner and window how many elements were evaluated, one volume row per request (who,
when, epoch, type, how many, outcome), and the proof-of-possession ids already used.
Blinded elements are never stored or logged — they would not reveal inputs, but there is no
reason to keep them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    create_engine,
    event,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from evaluator.errors import StorageError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class EvaluatorBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class QuotaWindow(EvaluatorBase):
    """Elements evaluated for one partner in one fixed window."""

    __tablename__ = "evaluator_quota_windows"

    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger, default=0)


class VolumeRecord(EvaluatorBase):
    """One request's volume: counts and outcome, never the elements."""

    __tablename__ = "evaluator_volume_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str] = mapped_column(String(64))
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    token_jti: Mapped[str] = mapped_column(String(128))
    epoch: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16))


class UsedProof(EvaluatorBase):
    """A proof-of-possession ``jti`` already used, kept until the proof would expire anyway."""

    __tablename__ = "evaluator_used_proofs"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


def build_engine(url: str) -> Engine:
    """An engine for the evaluator database; SQLite gets WAL and a busy timeout."""
    if url.startswith("sqlite"):
        database = url.split(":///", 1)[-1]
        if database and database != ":memory:":
            # A fresh data directory: made here (owner only), as the gateway does for its own.
            Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: object, _record: object) -> None:
            cursor = connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5)


def create_schema(engine: Engine) -> None:
    """Create the tables if absent (idempotent; safe with several workers)."""
    try:
        EvaluatorBase.metadata.create_all(engine)
    except SQLAlchemyError as exc:
        # For the operator starting the service: which database, and the driver's first line
        # (e.g. "unable to open database file", "password authentication failed").
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        where = engine.url.render_as_string(hide_password=True)
        raise StorageError(f"cannot prepare the evaluator database {where}: {cause}") from None


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work; any database failure becomes a 503 that names no internals."""
    try:
        with factory.begin() as session:
            yield session
    except SQLAlchemyError as exc:
        raise StorageError(f"the evaluator database failed ({type(exc).__name__})") from None
