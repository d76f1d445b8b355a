"""Authentication state kept in the database.

Used client-assertion ids are remembered until the assertion expires so that a captured
assertion cannot be replayed; console passwords are stored only as Argon2id hashes and
sessions only by the SHA-256 of their token, so a database dump yields no usable credential.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, BigIntPK, UTCDateTime


class UsedClientAssertion(Base):
    """A ``jti`` seen in a verified client assertion, kept until the assertion expires."""

    __tablename__ = "used_client_assertions"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ConsoleUserStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class ConsoleUser(Base):
    """A person using the console; belongs to a partner organisation and has one role."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=ConsoleUserStatus.ACTIVE.value)
    # libsodium crypto_pwhash_str output (Argon2id, parameters embedded).
    password_hash: Mapped[str] = mapped_column(String(255))
    # Base32 TOTP seed (RFC 6238); needed in the clear to verify codes.
    totp_secret: Mapped[str] = mapped_column(String(64))
    # Highest TOTP time step accepted, so a code cannot be used twice.
    last_totp_step: Mapped[int] = mapped_column(Integer, default=0)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_signin_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsoleSession(Base):
    """A signed-in console session; the cookie holds the token, the table its SHA-256."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[ConsoleUser] = relationship()


class ConsoleSigninThrottle(Base):
    """Failed console sign-ins per *attempted* user name, existing or not.

    Counting per name, whether or not an account has it, is what lets a lockout answer
    429 with Retry-After without telling that the name exists: an unknown name locks after
    the same number of failures as a real one. The name is kept only as a keyed hash (the
    gateway's pepper), and rows are purged once their lockout and window have passed.
    """

    __tablename__ = "console_signin_throttle"

    name_key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
