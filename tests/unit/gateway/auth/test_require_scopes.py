"""``require_scopes``: all of ``*scopes`` and, with ``any_of``, at least one of those.

The dependency (a coroutine function) is run directly with a stand-in for the services: it
only opens a transaction and records the refusal, which is what these tests look at.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pytest

from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.auth.deps import require_scopes
from gateway.auth.errors import ScopeRefusedError
from gateway.auth.principal import Principal
from gateway.services import Services


class _Session:
    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


class _Audit:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, session: object, event: AuditEvent) -> None:
        assert isinstance(session, _Session)
        self.events.append(event)


class _Services:
    def __init__(self) -> None:
        self.audit = _Audit()

    def session_factory(self) -> _Session:
        return _Session()


def _principal(*scopes: str) -> Principal:
    return Principal(
        partner_id="bank-a",
        client_id="bank-a-c1",
        user=None,
        sector="bank",
        scopes=frozenset(scopes),
        roles=frozenset(),
    )


def _call(
    dependency: Callable[..., Awaitable[Principal]], principal: Principal
) -> tuple[Any, _Audit]:
    services = _Services()
    coroutine = dependency(principal, cast(Services, services), "req-1")
    try:
        # On a thread of its own: an earlier test in the session (a browser driven through
        # Playwright's sync API) may leave an event loop marked running on this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            result: Any = pool.submit(asyncio.run, coroutine).result()
    except ScopeRefusedError as refusal:
        result = refusal
    return result, services.audit


EITHER_KEYS = require_scopes(any_of=("keys:read", "keys:custody"))
MATCH_AND_EITHER_KEYS = require_scopes("match:query", any_of=("keys:read", "keys:custody"))


@pytest.mark.parametrize("held", ["keys:read", "keys:custody"])
def test_any_of_is_satisfied_by_either_scope(held: str) -> None:
    principal = _principal(held)
    result, audit = _call(EITHER_KEYS, principal)
    assert result is principal
    assert audit.events == []


def test_any_of_refuses_a_token_with_none_of_them_and_audits_it() -> None:
    refusal, audit = _call(EITHER_KEYS, _principal("match:query", "indicators:write"))
    assert isinstance(refusal, ScopeRefusedError)
    assert refusal.reasons == ("scope-missing",)
    assert refusal.field == "scope"
    assert refusal.audited
    assert "one of keys:custody keys:read" in str(refusal)
    [event] = audit.events
    assert event.tag == AuditTag.AUTH_TOKEN_DENY
    assert event.decision == "deny"
    assert event.reason_codes == ("scope-missing",)
    assert (event.actor_partner, event.actor_client) == ("bank-a", "bank-a-c1")
    assert event.request_id == "req-1"
    assert event.detail == {
        "stage": "scope",
        "missing": [],
        "any_of": ["keys:custody", "keys:read"],
    }


def test_any_of_does_not_replace_the_required_scopes() -> None:
    refusal, audit = _call(MATCH_AND_EITHER_KEYS, _principal("keys:read"))
    assert isinstance(refusal, ScopeRefusedError)
    assert refusal.reasons == ("scope-missing",)
    assert "match:query" in str(refusal)
    assert "one of" not in str(refusal)
    [event] = audit.events
    assert event.detail == {"stage": "scope", "missing": ["match:query"]}


def test_required_and_one_of_together_pass() -> None:
    principal = _principal("match:query", "keys:custody")
    result, audit = _call(MATCH_AND_EITHER_KEYS, principal)
    assert result is principal
    assert audit.events == []


def test_both_lacking_names_both() -> None:
    refusal, audit = _call(MATCH_AND_EITHER_KEYS, _principal("alerts:read"))
    assert isinstance(refusal, ScopeRefusedError)
    assert str(refusal) == (
        "this endpoint needs scope(s) match:query and one of keys:custody keys:read, "
        "which the token lacks"
    )
    [event] = audit.events
    assert event.detail == {
        "stage": "scope",
        "missing": ["match:query"],
        "any_of": ["keys:custody", "keys:read"],
    }


def test_all_of_refusal_is_unchanged() -> None:
    refusal, audit = _call(require_scopes("match:query", "alerts:read"), _principal("alerts:read"))
    assert isinstance(refusal, ScopeRefusedError)
    assert str(refusal) == "this endpoint needs scope(s) match:query, which the token lacks"
    [event] = audit.events
    assert event.detail == {"stage": "scope", "missing": ["match:query"]}


def test_unknown_scopes_fail_when_the_dependency_is_built() -> None:
    with pytest.raises(ValueError, match="keys:reed"):
        require_scopes(any_of=("keys:reed",))
