"""Issuing access tokens: one transaction holding the used ``jti`` and the audit entry.

Whatever the outcome, the audit entry (``auth:token:issue`` or ``auth:token:deny`` with the
reason code) is written in the same transaction as the assertion id that was burnt, and that
transaction commits; a database or audit failure aborts the whole request, so no token ever
leaves without its audit entry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gateway.audit_trail.events import Actor, AuditEvent, AuditSink, AuditTag
from gateway.auth.assertions import unverified_subject
from gateway.auth.errors import describe_oauth_error
from gateway.auth.keys import TokenSigningKey
from gateway.auth.server import TokenResult, TokenServer
from gateway.clock import Clock
from gateway.config import Settings
from gateway.db import transaction
from gateway.logging import RateLimitedLog
from gateway.partners.models import PartnerClient
from gateway.services import Services

# Anyone can send refused token requests: each is audited, the log shows a sample.
_refusals = RateLimitedLog(logging.getLogger(__name__))


@dataclass(frozen=True)
class TokenOutcome:
    """The HTTP answer to give, with the reason code of a refusal."""

    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]
    reason_code: str | None = None
    field: str | None = None


def issue_token(
    *,
    session_factory: sessionmaker[Session],
    settings: Settings,
    key: TokenSigningKey,
    audit: AuditSink,
    clock: Clock,
    request_id: str,
    form: Mapping[str, str],
    headers: Mapping[str, str],
) -> TokenOutcome:
    """Run the client-credentials grant for one request and audit its outcome."""
    with transaction(session_factory) as session:
        server = TokenServer(session=session, settings=settings, key=key, now=clock.now)
        result = server.respond(form, headers)
        if result.error is None:
            audit.record(session, _issue_event(result, request_id))
            return TokenOutcome(result.status, result.body, result.headers)
        status, code, field = describe_oauth_error(result.error)
        audit.record(session, _deny_event(result, request_id, code))
        _refusals.log(logging.INFO, "token request refused: %s", code)
        return TokenOutcome(status, result.body, result.headers, reason_code=code, field=field)


def audit_request_refusal(
    services: Services, request_id: str, code: str, *, claimed: Mapping[str, str]
) -> None:
    """Audit a token request refused before the grant ran (422 form, 413 body).

    The client is named when the request claims a registered one (``client_id`` or the
    unverified ``sub`` of the assertion): free text from an unauthenticated caller never
    enters the audit log.
    """
    with transaction(services.session_factory) as session:
        client = _claimed_client(session, claimed)
        actor = Actor(request_id, client.partner_id, client.id) if client else Actor(request_id)
        event = actor.event(
            AuditTag.AUTH_TOKEN_DENY,
            decision="deny",
            reason_codes=(code,),
            detail={"stage": "request", "assertion_verified": False},
        )
        services.audit.record(session, event)
    _refusals.log(logging.INFO, "token request refused: %s", code)


def _claimed_client(session: Session, claimed: Mapping[str, str]) -> PartnerClient | None:
    candidates = [claimed.get("client_id"), unverified_subject(claimed.get("client_assertion"))]
    for candidate in candidates:
        if candidate and 0 < len(candidate) <= 64 and "\x00" not in candidate:
            row = session.get(PartnerClient, candidate)
            if row is not None:
                return row
    return None


def _issue_event(result: TokenResult, request_id: str) -> AuditEvent:
    assert result.client is not None
    actor = Actor(request_id, result.client.partner.id, result.client.get_client_id())
    return actor.event(
        AuditTag.AUTH_TOKEN_ISSUE,
        decision="allow",
        detail={
            "scope": str(result.body.get("scope", "")),
            "expires_in": int(result.body.get("expires_in", 0)),
            "key_version": result.client.row.key_version,
            **({"audience": result.audience} if result.audience else {}),
        },
    )


def _deny_event(result: TokenResult, request_id: str, code: str) -> AuditEvent:
    # Name the client only when the claimed id is registered: free text from an
    # unauthenticated caller never enters the audit log.
    client = result.client
    actor = Actor(request_id, client.partner.id, client.get_client_id()) if client else None
    return (actor or Actor(request_id)).event(
        AuditTag.AUTH_TOKEN_DENY,
        decision="deny",
        reason_codes=(code,),
        detail={"stage": "token", "assertion_verified": result.claims is not None},
    )
