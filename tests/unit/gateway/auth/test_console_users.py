from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nacl.pwhash
import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit_trail.events import Actor
from gateway.audit_trail.models import AuditEntry
from gateway.audit_trail.service import AuditTrail, build_audit_trail
from gateway.auth.console_users import (
    ConsoleAccounts,
    NewConsoleUser,
    PasswordHashing,
    SignInOutcome,
    csrf_token_for,
    verify_csrf,
)
from gateway.auth.errors import CredentialRefusedError
from gateway.auth.models import ConsoleSession, ConsoleUser
from gateway.clock import FixedClock
from gateway.config import Settings, load_settings
from gateway.db import build_engine, build_session_factory, transaction
from gateway.errors import (
    ConflictError,
    InvalidRequestError,
    PermissionDeniedError,
    TooManyRequestsError,
)
from gateway.partners.service import PartnerRegistry

START = datetime(2026, 11, 29, 10, 0, 5, tzinfo=UTC)
FAST = PasswordHashing(
    opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN, memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN
)
PASSWORD = "correct horse battery staple"


@dataclass
class Env:
    factory: sessionmaker[Session]
    audit: AuditTrail
    settings: Settings
    clock: FixedClock

    def run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with transaction(self.factory) as session:
            accounts = ConsoleAccounts(
                session,
                self.audit,
                self.settings,
                clock=self.clock,
                request_id="req-1",
                hashing=FAST,
            )
            return getattr(accounts, method)(*args, **kwargs)

    def code(self, user: NewConsoleUser, at: datetime | None = None) -> str:
        return pyotp.TOTP(user.totp_secret).at(at or self.clock.current)

    def sign_in(
        self, user: NewConsoleUser, password: str = PASSWORD, code: str | None = None
    ) -> SignInOutcome:
        return self.run("sign_in", user.username, password, code or self.code(user))

    def signin_audit(self) -> list[tuple[str, list[str], str | None]]:
        with transaction(self.factory) as session:
            rows = session.scalars(
                select(AuditEntry).where(AuditEntry.tag.like("console:%")).order_by(AuditEntry.seq)
            )
            entries = [json.loads(row.body) for row in rows]
        return [(e["tag"], e["reasons"], e["actor"]["user"]) for e in entries]


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    settings = load_settings(env="test", data_dir=tmp_path, database_url=database_url)
    engine = build_engine(settings)
    factory = build_session_factory(engine)
    audit = build_audit_trail(settings)
    with transaction(factory) as session:
        registry = PartnerRegistry(session, audit, actor=Actor(request_id="setup"))
        registry.add_partner(name="Bank", sector="bank", partner_id="bank")
        registry.add_partner(name="Help desk", sector="helpdesk", partner_id="helpdesk")
        registry.add_partner(name="Operator", sector="operator", partner_id="operator")
    try:
        yield Env(factory, audit, settings, FixedClock(START))
    finally:
        engine.dispose()


@pytest.fixture
def anna(env: Env) -> NewConsoleUser:
    return env.run(
        "add_user", username="anna", role="privacy_officer", partner_id="bank", password=PASSWORD
    )


def test_new_user_has_argon2id_hash_and_totp(env: Env, anna: NewConsoleUser) -> None:
    assert anna.provisioning_uri.startswith("otpauth://totp/ppsgate:anna?secret=")
    with transaction(env.factory) as session:
        user = session.scalar(select(ConsoleUser).where(ConsoleUser.username == "anna"))
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_successful_sign_in_opens_a_session(env: Env, anna: NewConsoleUser) -> None:
    outcome = env.sign_in(anna)
    assert outcome.error is None
    assert outcome.session_token
    assert outcome.principal
    assert outcome.principal.roles == {"privacy_officer"}
    assert outcome.principal.partner_id == "bank"
    assert outcome.principal.sector == "bank"
    assert outcome.csrf_token == csrf_token_for(outcome.session_token)
    principal = env.run("resolve_session", outcome.session_token)
    assert principal.user == "anna"
    assert env.signin_audit() == [("console:signin:success", [], "anna")]
    with transaction(env.factory) as session:  # only the hash of the token is stored
        stored = session.scalars(select(ConsoleSession)).one()
        assert outcome.session_token.encode() not in stored.token_hash


def test_wrong_password_wrong_code_and_unknown_user_look_alike(
    env: Env, anna: NewConsoleUser
) -> None:
    outcomes = [
        env.sign_in(anna, password="wrong password here"),
        env.sign_in(anna, code="000000" if env.code(anna) != "000000" else "111111"),
        env.run("sign_in", "nobody", PASSWORD, "123456"),
    ]
    for outcome in outcomes:
        assert isinstance(outcome.error, CredentialRefusedError)
        assert outcome.error.status == 401
        assert outcome.error.reason == "wrong username, password or code"
    audit = env.signin_audit()
    assert audit == [
        ("console:signin:deny", ["signin-failed"], "anna"),
        ("console:signin:deny", ["signin-failed"], "anna"),
        ("console:signin:deny", ["signin-failed"], None),  # unknown names are not recorded
    ]


def test_a_totp_code_works_once(env: Env, anna: NewConsoleUser) -> None:
    code = env.code(anna)
    assert env.sign_in(anna, code=code).error is None
    replay = env.sign_in(anna, code=code)
    assert isinstance(replay.error, CredentialRefusedError)


def test_codes_from_the_neighbouring_step_are_accepted(env: Env, anna: NewConsoleUser) -> None:
    previous = env.code(anna, START - timedelta(seconds=30))
    assert env.sign_in(anna, code=previous).error is None
    stale = env.code(anna, START - timedelta(seconds=90))
    env.clock.current = START + timedelta(seconds=30)
    assert env.sign_in(anna, code=stale).error is not None


def test_lockout_after_repeated_failures(env: Env, anna: NewConsoleUser) -> None:
    for _ in range(env.settings.console_max_failed_signins - 1):
        _assert_the_common_refusal(env.sign_in(anna, password="guess guess guess"))
    locking = env.sign_in(anna, password="guess guess guess")
    _assert_the_lockout(locking, env.settings.console_lockout_seconds)
    # Even the right password is refused while locked.
    env.clock.current = START + timedelta(seconds=60)
    _assert_the_lockout(env.sign_in(anna), env.settings.console_lockout_seconds - 60)
    env.clock.current = START + timedelta(seconds=env.settings.console_lockout_seconds + 1)
    assert env.sign_in(anna).error is None
    reasons = [reasons for _tag, reasons, _user in env.signin_audit()]
    assert ["account-locked-now"] in reasons
    assert ["account-locked"] in reasons


def _assert_the_common_refusal(outcome: SignInOutcome) -> None:
    assert isinstance(outcome.error, CredentialRefusedError)
    assert (outcome.error.status, outcome.error.reason_code, outcome.error.reason) == (
        401,
        "signin-failed",
        "wrong username, password or code",
    )
    assert getattr(outcome.error, "retry_after", None) is None


def _assert_the_lockout(outcome: SignInOutcome, seconds: int) -> None:
    assert isinstance(outcome.error, TooManyRequestsError)
    assert outcome.error.status == 429
    assert outcome.error.reason == "too many failed sign-ins with this name; try again later"
    assert outcome.error.retry_after == seconds


@dataclass(frozen=True)
class CountingHashing(PasswordHashing):
    """Fast Argon2id that notes every hash and verification it does."""

    work: list[str] = field(default_factory=list, compare=False, hash=False)

    def hash(self, password: str) -> str:
        self.work.append("hash")
        return super().hash(password)

    def verify(self, password_hash: str, password: str) -> bool:  # type: ignore[override]
        self.work.append("verify")
        return PasswordHashing.verify(password_hash, password)


def test_a_failed_sign_in_never_tells_whether_the_name_exists(
    env: Env, anna: NewConsoleUser
) -> None:
    """Unknown name, wrong password and locked account: one answer, the same hashing work."""
    hashing = CountingHashing(opslimit=FAST.opslimit, memlimit=FAST.memlimit)

    def attempt(username: str, password: str) -> tuple[SignInOutcome, list[str]]:
        hashing.work.clear()
        with transaction(env.factory) as session:
            outcome = ConsoleAccounts(
                session, env.audit, env.settings, clock=env.clock, request_id="r", hashing=hashing
            ).sign_in(username, password, "000000")
        return outcome, list(hashing.work)

    attempt("warm-up-name", PASSWORD)  # the shared stand-in hash is made once per process
    limit = env.settings.console_max_failed_signins
    for n in range(1, limit + 2):
        known = attempt("anna", "guess guess guess")
        unknown = attempt("nobody-here", "guess guess guess")
        for outcome, work in (known, unknown):
            if n < limit:  # a wrong password and an unknown name: one answer, one verification
                _assert_the_common_refusal(outcome)
                assert work == ["verify"]
            elif n == limit:  # the limit locks the real name and the unknown one alike
                _assert_the_lockout(outcome, env.settings.console_lockout_seconds)
                assert work == ["verify"]
            else:  # locked: refused before any password work, for both
                _assert_the_lockout(outcome, env.settings.console_lockout_seconds)
                assert work == []
    with transaction(env.factory) as session:
        user = session.scalar(select(ConsoleUser).where(ConsoleUser.username == "anna"))
        assert user is not None
        assert user.locked_until is not None


def test_session_lifetimes_and_sign_out(env: Env, anna: NewConsoleUser) -> None:
    token = env.sign_in(anna).session_token
    assert token is not None
    env.clock.current = START + timedelta(seconds=env.settings.console_idle_timeout_seconds - 10)
    assert env.run("resolve_session", token).user == "anna"  # touches last_seen_at
    env.clock.current += timedelta(seconds=env.settings.console_idle_timeout_seconds - 10)
    assert env.run("resolve_session", token).user == "anna"
    env.clock.current += timedelta(seconds=env.settings.console_idle_timeout_seconds + 1)
    with pytest.raises(CredentialRefusedError) as idle:
        env.run("resolve_session", token)
    assert idle.value.reason_code == "session-idle"

    env.clock.current = START + timedelta(hours=1)
    second = env.sign_in(anna).session_token
    assert second is not None
    env.run("sign_out", second)
    with pytest.raises(CredentialRefusedError) as revoked:
        env.run("resolve_session", second)
    assert revoked.value.reason_code == "session-revoked"
    with pytest.raises(CredentialRefusedError) as unknown:
        env.run("resolve_session", "made-up-token")
    assert unknown.value.reason_code == "session-unknown"


def test_absolute_session_lifetime(env: Env, anna: NewConsoleUser) -> None:
    token = env.sign_in(anna).session_token
    assert token is not None
    step = timedelta(seconds=env.settings.console_idle_timeout_seconds - 1)
    end = START + timedelta(seconds=env.settings.console_session_lifetime_seconds)
    while env.clock.current + step < end:
        env.clock.current += step
        env.run("resolve_session", token)
    env.clock.current = end
    with pytest.raises(CredentialRefusedError) as expired:
        env.run("resolve_session", token)
    assert expired.value.reason_code == "session-expired"


def test_disabling_a_user_ends_sessions(env: Env, anna: NewConsoleUser) -> None:
    token = env.sign_in(anna).session_token
    env.run("disable_user", "anna")
    with pytest.raises(CredentialRefusedError):
        env.run("resolve_session", token)
    env.clock.current += timedelta(seconds=60)
    refused = env.sign_in(anna)
    assert isinstance(refused.error, CredentialRefusedError)
    assert refused.error.reason_code == "user-disabled"


def test_suspended_organisation_ends_sessions(env: Env, anna: NewConsoleUser) -> None:
    token = env.sign_in(anna).session_token
    with transaction(env.factory) as session:
        PartnerRegistry(session, env.audit, actor=Actor(request_id="r")).suspend("bank")
    with pytest.raises(CredentialRefusedError) as caught:
        env.run("resolve_session", token)
    assert caught.value.reason_code == "partner-suspended"


def test_add_user_refusals_name_the_field(env: Env) -> None:
    def field_of(**kwargs: Any) -> str | None:
        arguments = {
            "username": "bob",
            "role": "helpdesk",
            "partner_id": "helpdesk",
            "password": PASSWORD,
            **kwargs,
        }
        with pytest.raises((InvalidRequestError, ConflictError)) as caught:
            env.run("add_user", **arguments)
        return caught.value.field

    assert field_of(username="bob@example.nl") == "username"
    assert field_of(role="root") == "role"
    assert field_of(password="short") == "password"
    assert field_of(partner_id="bank") == "partner"  # help desk staff belong to the help desk
    assert field_of(role="admin") == "partner"
    env.run("add_user", username="bob", role="helpdesk", partner_id="helpdesk", password=PASSWORD)
    assert field_of() == "username"


def test_csrf_token_is_bound_to_the_session() -> None:
    verify_csrf("session-a", csrf_token_for("session-a"))
    for presented in (None, "", csrf_token_for("session-b")):
        with pytest.raises(PermissionDeniedError) as caught:
            verify_csrf("session-a", presented)
        assert caught.value.reasons == ("csrf-mismatch",)
