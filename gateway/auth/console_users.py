"""Console accounts: Argon2id passwords, TOTP second factor, lockout and sessions.

Passwords are stored as libsodium ``crypto_pwhash_str`` strings (Argon2id, parameters
embedded); the TOTP seed is needed in the clear to check codes (RFC 6238, 30 s steps, one
step of drift allowed, and never the same step twice). After
``console_max_failed_signins`` failures in a row the account locks for
``console_lockout_seconds`` and answers 429 without checking the password. Sessions are
random 256-bit tokens kept only as their SHA-256, with an absolute and an idle lifetime; the
CSRF token of a session is an HMAC of the session token, so it needs no storage and cannot
be computed without the cookie.

A failed sign-in must leave traces (the failure counter, the audit entry) although it is a
refusal, so :meth:`ConsoleAccounts.sign_in` *returns* its refusal in the outcome: the caller
commits and then raises it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import nacl.exceptions
import nacl.pwhash
import pyotp
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from gateway.audit_trail.events import Actor, AuditSink, AuditTag
from gateway.auth.errors import CredentialRefusedError
from gateway.auth.models import (
    ConsoleSession,
    ConsoleSigninThrottle,
    ConsoleUser,
    ConsoleUserStatus,
)
from gateway.auth.permissions import Role
from gateway.auth.principal import Principal
from gateway.clock import Clock
from gateway.config import Settings
from gateway.dialect import insert_ignoring_conflicts
from gateway.errors import (
    ConflictError,
    GatewayError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    TooManyRequestsError,
)
from gateway.partners.models import Partner, PartnerStatus, Sector

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
TOTP_STEP_SECONDS = 30
TOTP_ISSUER = "ppsgate"
SESSION_TOUCH_SECONDS = 60
CSRF_LABEL = b"ppsgate:console:csrf"

# Which organisations a role's users belong to.
ROLE_SECTORS: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({Sector.OPERATOR}),
    Role.HELPDESK: frozenset({Sector.HELPDESK}),
    Role.PARTNERSHIP_DPO: frozenset({Sector.PARTNERSHIP_DPO}),
    Role.PRIVACY_OFFICER: frozenset(Sector)
    - {Sector.OPERATOR, Sector.HELPDESK, Sector.PARTNERSHIP_DPO},
}


@dataclass(frozen=True)
class PasswordHashing:
    """Argon2id cost; libsodium's interactive level unless a deployment raises it."""

    opslimit: int = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
    memlimit: int = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE

    def hash(self, password: str) -> str:
        return nacl.pwhash.argon2id.str(
            password.encode("utf-8"), opslimit=self.opslimit, memlimit=self.memlimit
        ).decode("ascii")

    @staticmethod
    def verify(password_hash: str, password: str) -> bool:
        try:
            return bool(nacl.pwhash.verify(password_hash.encode("ascii"), password.encode("utf-8")))
        except nacl.exceptions.InvalidkeyError:
            return False


@dataclass(frozen=True)
class NewConsoleUser:
    """A created account and its TOTP enrolment (shown once, to the person only)."""

    username: str
    role: str
    partner_id: str
    totp_secret: str
    provisioning_uri: str


@dataclass(frozen=True)
class SignInOutcome:
    """Either a session (token + CSRF token + principal) or the refusal to raise."""

    principal: Principal | None = None
    session_token: str | None = None
    csrf_token: str | None = None
    error: GatewayError | None = None

    def raise_for_failure(self) -> None:
        if self.error is not None:
            raise self.error


def session_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "replace")).digest()


def csrf_token_for(session_token: str) -> str:
    digest = hmac.new(session_token.encode("ascii", "replace"), CSRF_LABEL, hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def verify_csrf(session_token: str, presented: str | None) -> None:
    """Refuse a state-changing console request whose CSRF token does not match."""
    if not presented or not hmac.compare_digest(csrf_token_for(session_token), presented):
        raise PermissionDeniedError(
            "missing or wrong CSRF token; reload the page and submit again",
            field="csrf_token",
            reasons=("csrf-mismatch",),
        )


SIGNIN_FAILED_TEXT = "wrong username, password or code"


@functools.cache
def _dummy_hash(hashing: PasswordHashing) -> str:
    """A hash to check unknown names against: made once per process and cost, so that an
    unknown name costs one verification like a real account, not a hash and a verification."""
    return hashing.hash(secrets.token_urlsafe(16))


def _too_many(seconds: int) -> TooManyRequestsError:
    """The one lockout answer, for real and unknown names alike."""
    return TooManyRequestsError(
        "too many failed sign-ins with this name; try again later",
        retry_after=seconds,
        field="username",
    )


def _unkeyed(username: str) -> bytes:
    """A name's counter key where no pepper is at hand (tests, tools); the console keys it."""
    return hashlib.sha256(b"ppsgate:console-signin:" + username.encode("utf-8")).digest()


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for timezone columns; they were written as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class ConsoleAccounts:
    """Console account operations within one session (flush only, never commit)."""

    def __init__(
        self,
        session: Session,
        audit: AuditSink,
        settings: Settings,
        *,
        clock: Clock,
        request_id: str,
        hashing: PasswordHashing | None = None,
    ) -> None:
        self.session = session
        self.audit = audit
        self.settings = settings
        self.clock = clock
        self.request_id = request_id
        self.hashing = hashing or PasswordHashing()

    # -- accounts --------------------------------------------------------------------------

    def add_user(
        self, *, username: str, role: str, partner_id: str, password: str
    ) -> NewConsoleUser:
        if not USERNAME.match(username):
            raise InvalidRequestError(
                "must be 3-64 characters: lowercase letters, digits, '.', '_' or '-' "
                "(not an e-mail address: identifiers never enter the gateway)",
                field="username",
            )
        try:
            role_value = Role(role)
        except ValueError:
            known = ", ".join(sorted(Role))
            raise InvalidRequestError(
                f"unknown role {role!r}; known roles: {known}", field="role"
            ) from None
        partner = self.session.get(Partner, partner_id)
        if partner is None:
            raise NotFoundError(f"no partner {partner_id!r}", field="partner")
        allowed = ROLE_SECTORS[role_value]
        if partner.sector not in allowed:
            raise InvalidRequestError(
                f"a {role_value} belongs to a partner of sector "
                + " or ".join(sorted(allowed))
                + f", not {partner.sector}",
                field="partner",
            )
        self._check_password(password)
        if self.session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)):
            raise ConflictError(f"user {username!r} exists already", field="username")
        secret = pyotp.random_base32()
        self.session.add(
            ConsoleUser(
                username=username,
                partner_id=partner.id,
                role=role_value.value,
                status=ConsoleUserStatus.ACTIVE.value,
                password_hash=self.hashing.hash(password),
                totp_secret=secret,
                last_totp_step=0,
                failed_attempts=0,
            )
        )
        self.session.flush()
        uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)
        return NewConsoleUser(username, role_value.value, partner.id, secret, uri)

    def disable_user(self, username: str) -> None:
        user = self._user(username)
        if user is None:
            raise NotFoundError(f"no user {username!r}", field="username")
        user.status = ConsoleUserStatus.DISABLED.value
        for active in self.session.scalars(
            select(ConsoleSession).where(
                ConsoleSession.user_id == user.id, ConsoleSession.revoked_at.is_(None)
            )
        ):
            active.revoked_at = self.clock.now()
        self.session.flush()

    @staticmethod
    def _check_password(password: str) -> None:
        if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
            raise InvalidRequestError(
                f"must be {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters",
                field="password",
            )

    def _user(self, username: str) -> ConsoleUser | None:
        return self.session.scalar(select(ConsoleUser).where(ConsoleUser.username == username))

    # -- sign-in ---------------------------------------------------------------------------

    def sign_in(
        self, username: str, password: str, totp_code: str, *, name_key: bytes | None = None
    ) -> SignInOutcome:
        """Check password and TOTP code; flush the counters and the audit entry either way.

        Failures are counted per attempted name (``name_key``, a keyed hash of it; the
        console passes one made with the gateway's pepper), existing or not, so an unknown
        name answers exactly like a real one: the same 401 while failures are few, the same
        429 with Retry-After once it is locked.
        """
        now = self.clock.now()
        key = name_key if name_key is not None else _unkeyed(username)
        attempt = self._count_attempt(key, now)
        user = self._user(username) if USERNAME.match(username) else None
        if attempt is None:
            return self._locked(user, key, now)
        if attempt > self.settings.console_max_failed_signins:
            return self._lock(user, key, now)  # others are being checked right now: no more
        if user is None:
            # Same work as for a real account, so timing does not reveal which names exist.
            self.hashing.verify(_dummy_hash(self.hashing), password)
            return self._failed(None, key, now, attempt)
        step = self._totp_step(user, totp_code, now)
        if not self.hashing.verify(user.password_hash, password) or step is None:
            return self._failed(user, key, now, attempt)
        if user.status != ConsoleUserStatus.ACTIVE:
            return self._refuse(user, "user-disabled", "this console account is disabled")
        if user_partner(self.session, user).status != PartnerStatus.ACTIVE:
            return self._refuse(user, "partner-suspended", "the user's organisation is suspended")
        return self._signed_in(user, key, now, step)

    def _signed_in(self, user: ConsoleUser, key: bytes, now: datetime, step: int) -> SignInOutcome:
        """Clear the name's failures, use up the TOTP step, open a session; audited."""
        self.session.execute(
            delete(ConsoleSigninThrottle).where(ConsoleSigninThrottle.name_key == key)
        )
        user.failed_attempts = 0
        user.locked_until = None
        user.last_totp_step = step
        user.last_signin_at = now
        token = self._open_session(user, now)
        self.audit.record(
            self.session,
            Actor(self.request_id, user.partner_id, user=user.username).event(
                AuditTag.CONSOLE_SIGNIN_SUCCESS,
                decision="allow",
                detail={"role": user.role},
            ),
        )
        return SignInOutcome(
            principal=self._principal(user, token),
            session_token=token,
            csrf_token=csrf_token_for(token),
        )

    def _open_session(self, user: ConsoleUser, now: datetime) -> str:
        """Open a session for ``user`` (flushed) and return its token; only its SHA-256 is kept."""
        token = secrets.token_urlsafe(32)
        self.session.add(
            ConsoleSession(
                token_hash=session_token_hash(token),
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(seconds=self.settings.console_session_lifetime_seconds),
            )
        )
        self.session.flush()
        return token

    def refuse_signin_form(self, username: str) -> None:
        """Audit a sign-in whose form token did not match (login CSRF); password unchecked.

        The account is named when the form names an existing one.
        """
        user = self._user(username) if USERNAME.match(username) else None
        self._deny_event(user, "csrf-mismatch")

    def _totp_step(self, user: ConsoleUser, code: str, now: datetime) -> int | None:
        """The time step ``code`` belongs to (now or one step either side), if unused."""
        code = code.strip().replace(" ", "")
        if not code.isdigit() or len(code) != 6:
            return None
        totp = pyotp.TOTP(user.totp_secret)
        current = int(now.timestamp()) // TOTP_STEP_SECONDS
        for step in (current, current - 1, current + 1):
            if hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS), code):
                return step if step > user.last_totp_step else None
        return None

    def _count_attempt(self, key: bytes, now: datetime) -> int | None:
        """Count this attempt as failed before checking it; None while the name is locked.

        The row is made if missing, then one ``UPDATE ... RETURNING``: the row lock
        (PostgreSQL) or the write lock (SQLite) it takes is held until the request commits,
        so concurrent attempts on one name are counted one after the other and never more
        than the limit is checked. A success deletes the row.
        """
        self.session.execute(
            insert_ignoring_conflicts(self.session, ConsoleSigninThrottle, ["name_key"]),
            [{"name_key": key, "failed_attempts": 0, "locked_until": None, "updated_at": now}],
        )
        counted = self.session.execute(
            update(ConsoleSigninThrottle)
            .where(
                ConsoleSigninThrottle.name_key == key,
                or_(
                    ConsoleSigninThrottle.locked_until.is_(None),
                    ConsoleSigninThrottle.locked_until <= now,
                ),
            )
            .values(failed_attempts=ConsoleSigninThrottle.failed_attempts + 1, updated_at=now)
            .returning(ConsoleSigninThrottle.failed_attempts)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        return None if counted is None else int(counted)

    def _locked(self, user: ConsoleUser | None, key: bytes, now: datetime) -> SignInOutcome:
        row = self.session.get(ConsoleSigninThrottle, key, populate_existing=True)
        locked_until = _aware(row.locked_until) if row is not None else None
        seconds = max(1, math.ceil(((locked_until or now) - now).total_seconds()))
        self._deny_event(user, "account-locked")
        return SignInOutcome(error=_too_many(seconds))

    def _failed(
        self, user: ConsoleUser | None, key: bytes, now: datetime, attempt: int
    ) -> SignInOutcome:
        if attempt >= self.settings.console_max_failed_signins:
            return self._lock(user, key, now)
        return self._refuse(user, "signin-failed", SIGNIN_FAILED_TEXT)

    def _lock(self, user: ConsoleUser | None, key: bytes, now: datetime) -> SignInOutcome:
        until = now + timedelta(seconds=self.settings.console_lockout_seconds)
        self.session.execute(
            update(ConsoleSigninThrottle)
            .where(ConsoleSigninThrottle.name_key == key)
            .values(failed_attempts=0, locked_until=until, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if user is not None:  # shown to administrators; the throttle row decides
            user.failed_attempts = 0
            user.locked_until = until
        self.session.flush()
        self._deny_event(user, "account-locked-now")
        return SignInOutcome(error=_too_many(self.settings.console_lockout_seconds))

    def _refuse(self, user: ConsoleUser | None, code: str, text: str) -> SignInOutcome:
        self._deny_event(user, code)
        return SignInOutcome(error=CredentialRefusedError(code, text, field="credentials"))

    def _deny_event(self, user: ConsoleUser | None, code: str) -> None:
        # An unknown username is free text from an unauthenticated caller: not recorded.
        actor = Actor(self.request_id, user.partner_id, user=user.username) if user else None
        event = (actor or Actor(self.request_id)).event(
            AuditTag.CONSOLE_SIGNIN_DENY, decision="deny", reason_codes=(code,)
        )
        self.audit.record(self.session, event)

    # -- sessions --------------------------------------------------------------------------

    def _principal(self, user: ConsoleUser, token: str) -> Principal:
        return Principal(
            partner_id=user.partner_id,
            client_id=None,
            user=user.username,
            sector=user_partner(self.session, user).sector,
            scopes=frozenset(),
            roles=frozenset({user.role}),
            credential_id=session_token_hash(token).hex()[:16],
        )

    def resolve_session(self, token: str) -> Principal:
        """The signed-in user of a session token, or an (audited) refusal."""
        now = self.clock.now()
        record = self.session.get(ConsoleSession, session_token_hash(token))
        if record is None:
            raise self._session_refusal(None, "session-unknown", "sign in again")
        user = record.user
        partner = user_partner(self.session, user)
        last_seen = _aware(record.last_seen_at) or now
        problem = None
        if record.revoked_at is not None:
            problem = ("session-revoked", "the session was ended; sign in again")
        elif (_aware(record.expires_at) or now) <= now:
            problem = ("session-expired", "the session has expired; sign in again")
        elif last_seen + timedelta(seconds=self.settings.console_idle_timeout_seconds) <= now:
            problem = ("session-idle", "the session was idle too long; sign in again")
        elif user.status != ConsoleUserStatus.ACTIVE:
            problem = ("user-disabled", "this console account is disabled")
        elif partner.status != PartnerStatus.ACTIVE:
            problem = ("partner-suspended", "the user's organisation is suspended")
        if problem is not None:
            raise self._session_refusal(user, *problem)
        if (now - last_seen).total_seconds() >= SESSION_TOUCH_SECONDS:
            record.last_seen_at = now
            self.session.flush()
        return self._principal(user, token)

    def _session_refusal(
        self, user: ConsoleUser | None, code: str, text: str
    ) -> CredentialRefusedError:
        self._deny_event(user, code)
        return CredentialRefusedError(code, text, field="session", audited=True)

    def sign_out(self, token: str) -> None:
        record = self.session.get(ConsoleSession, session_token_hash(token))
        if record is not None and record.revoked_at is None:
            record.revoked_at = self.clock.now()
            self.session.flush()


def user_partner(session: Session, user: ConsoleUser) -> Partner:
    partner = session.get(Partner, user.partner_id)
    if partner is None:  # the foreign key makes this impossible short of corruption
        raise NotFoundError(f"no partner {user.partner_id!r}", field="partner")
    return partner
