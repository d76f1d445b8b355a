"""What happened to this identifier? Entries by token, by request id, and related entries.

A token (a partner's 64-hex token of one salt epoch) is peppered with the gateway's key of
that epoch, exactly as the gateway stores it, and found through the index of peppered
tokens that detail records name; the token itself is never stored or logged. A request id
finds every entry written for that request. An entry's related entries are those of the
same request and those naming one of its peppered tokens (the match, the alerts and
retraction notices it caused, disputes about it), while their details are retained.
Everything is limited to the reader's scope.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit_trail.models import AuditDetailToken, AuditEntry
from gateway.errors import InvalidRequestError

TOKEN = re.compile(r"[0-9a-f]{64}")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
LIMIT = 200


@dataclass(frozen=True, slots=True)
class Found:
    seq: int
    entry: dict[str, Any]
    why: str  # "token" | "request" | "both"


def checked_token(value: str) -> str:
    token = value.strip().lower()
    if not TOKEN.fullmatch(token):
        raise InvalidRequestError("must be a token of 64 hexadecimal characters", field="token")
    return token


def checked_request_id(value: str) -> str:
    text = value.strip()
    if not REQUEST_ID.fullmatch(text):
        raise InvalidRequestError(
            "must be a request id (letters, digits, . _ : -; at most 128)", field="request_id"
        )
    return text


def _entries(session: Session, query: Any, scope: str | None) -> list[tuple[int, dict[str, Any]]]:
    if scope is not None:
        query = query.where(AuditEntry.actor_partner == scope)
    rows = session.execute(query.order_by(AuditEntry.seq).limit(LIMIT))
    return [(int(seq), json.loads(bytes(body))) for seq, body in rows]


def by_token_hash(session: Session, token_hash: bytes, scope: str | None) -> list[Found]:
    """Entries whose retained detail names the peppered token."""
    query = (
        select(AuditEntry.seq, AuditEntry.body)
        .join(AuditDetailToken, AuditDetailToken.seq == AuditEntry.seq)
        .where(AuditDetailToken.token_hash == token_hash)
    )
    return [Found(seq, entry, "token") for seq, entry in _entries(session, query, scope)]


def by_request_id(session: Session, request_id: str, scope: str | None) -> list[Found]:
    query = select(AuditEntry.seq, AuditEntry.body).where(AuditEntry.request_id == request_id)
    return [Found(seq, entry, "request") for seq, entry in _entries(session, query, scope)]


def related(session: Session, seq: int, scope: str | None) -> list[Found]:
    """Other entries of the same request or naming one of the entry's peppered tokens."""
    request_id = session.scalar(select(AuditEntry.request_id).where(AuditEntry.seq == seq))
    hashes = list(
        session.scalars(select(AuditDetailToken.token_hash).where(AuditDetailToken.seq == seq))
    )
    found: dict[int, Found] = {}
    if request_id:
        for item in by_request_id(session, request_id, scope):
            found[item.seq] = item
    if hashes:
        query = (
            select(AuditEntry.seq, AuditEntry.body)
            .join(AuditDetailToken, AuditDetailToken.seq == AuditEntry.seq)
            .where(AuditDetailToken.token_hash.in_(hashes))
            .distinct()
        )
        for other, entry in _entries(session, query, scope):
            why = "both" if other in found else "token"
            found[other] = Found(other, entry, why)
    found.pop(seq, None)
    return sorted(found.values(), key=lambda item: item.seq)
