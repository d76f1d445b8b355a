"""Spotting dictionary-style querying: many distinct tokens, nearly all misses, per window.

A partner that tests guessed identifiers asks many tokens it has not asked before in the
window, and almost none of them hit. Screening its own customers looks alike at small
volume, so the thresholds are per purpose (and per partner where agreed) in the policy
data: at least ``min_distinct`` distinct tokens and at most ``max_hit_ratio`` of the items
hitting. Tokens are pseudorandom, so sequential guesses (NL..0001, NL..0002) cannot be seen
in them by design; distinct volume and the hit ratio are what the gateway can observe.

Distinct tokens are counted exactly with one short fingerprint per token and window
(:class:`~gateway.abuse.models.ProbeFingerprint`), inserted with ``ON CONFLICT DO NOTHING``;
the rows that come back are the new ones. The totals live on the partner's usage row, which
the quota charge has already locked in this transaction, so updating them adds no
contention. The first request that crosses the thresholds in a window raises one alert: a
row the console lists for the partnership's DPO and an ``abuse:enumeration:detect`` audit
entry, both in the request's transaction. Detection alerts; the quota is what refuses.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway.abuse.models import (
    FINGERPRINT_BYTES,
    AlertStatus,
    EnumerationAlert,
    ProbeFingerprint,
    QuotaScope,
    QuotaUsage,
)
from gateway.abuse.quotas import Charge
from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.dialect import insert_ignoring_conflicts
from gateway.services import Services

logger = logging.getLogger(__name__)

DICTIONARY_QUERYING = "dictionary-querying"
FINGERPRINT_CHUNK = 1000


def fingerprint(window_start: int, token_hash: bytes) -> bytes:
    """A short per-window fingerprint of a peppered token, for counting distinct tokens."""
    return hashlib.sha256(window_start.to_bytes(8, "big") + token_hash).digest()[:FINGERPRINT_BYTES]


def _count_new(session: Session, charge: Charge, token_hashes: Iterable[bytes]) -> int:
    """Record the window's fingerprints of these tokens; how many were not there yet."""
    rows = [
        {
            "partner_id": charge.partner_id,
            "purpose": charge.purpose,
            "window_start": charge.window.start,
            "fingerprint": print_,
        }
        for print_ in sorted({fingerprint(charge.window.start, h) for h in token_hashes})
    ]
    statement = insert_ignoring_conflicts(
        session,
        ProbeFingerprint,
        ["partner_id", "purpose", "window_start", "fingerprint"],
    ).returning(ProbeFingerprint.fingerprint)
    new = 0
    for start in range(0, len(rows), FINGERPRINT_CHUNK):
        new += len(session.execute(statement, rows[start : start + FINGERPRINT_CHUNK]).all())
    return new


def looks_like_enumeration(
    *, used: int, distinct: int, hits: int, min_distinct: int, max_hit_ratio: float
) -> bool:
    """The detection rule: enough distinct tokens, and hits at most the allowed share."""
    return used > 0 and distinct >= min_distinct and hits <= max_hit_ratio * used


def watch_for_enumeration(
    session: Session,
    services: Services,
    charge: Charge,
    *,
    token_hashes: list[bytes],
    hits: int,
    request_id: str,
) -> EnumerationAlert | None:
    """Add this request to the window's statistics; raise the window's alert once.

    ``token_hashes`` are the peppered tokens asked (one per item), ``hits`` how many items
    had any evidence (before disclosure rules: the gateway's own view, never returned).
    """
    probe = charge.quota.enumeration
    if probe is None:
        return None
    new = _count_new(session, charge, token_hashes)
    totals = session.execute(
        update(QuotaUsage)
        .where(
            QuotaUsage.scope == QuotaScope.PARTNER.value,
            QuotaUsage.subject == charge.partner_id,
            QuotaUsage.purpose == charge.purpose,
            QuotaUsage.window_start == charge.window.start,
        )
        .values(
            distinct_tokens=QuotaUsage.distinct_tokens + new,
            hits=QuotaUsage.hits + hits,
        )
        .returning(QuotaUsage.used, QuotaUsage.distinct_tokens, QuotaUsage.hits, QuotaUsage.alerted)
    ).one()
    used, distinct, all_hits, alerted = totals
    if alerted or not looks_like_enumeration(
        used=used,
        distinct=distinct,
        hits=all_hits,
        min_distinct=probe.min_distinct,
        max_hit_ratio=probe.max_hit_ratio,
    ):
        return None
    session.execute(
        update(QuotaUsage)
        .where(
            QuotaUsage.scope == QuotaScope.PARTNER.value,
            QuotaUsage.subject == charge.partner_id,
            QuotaUsage.purpose == charge.purpose,
            QuotaUsage.window_start == charge.window.start,
        )
        .values(alerted=True)
    )
    counts = {
        "items": used,
        "distinct_tokens": distinct,
        "hits": all_hits,
        "window_seconds": charge.window.seconds,
        "min_distinct": probe.min_distinct,
    }
    receipt = services.audit.record(
        session,
        AuditEvent(
            tag=AuditTag.ABUSE_ENUMERATION_DETECT,
            request_id=request_id,
            actor_partner=charge.partner_id,
            actor_client=charge.client_id,
            purpose=charge.purpose,
            reason_codes=(DICTIONARY_QUERYING,),
            counts=counts,
        ),
    )
    alert = EnumerationAlert(
        partner_id=charge.partner_id,
        client_id=charge.client_id,
        purpose=charge.purpose,
        kind=DICTIONARY_QUERYING,
        window_start=charge.window.start,
        window_seconds=charge.window.seconds,
        items=used,
        distinct_tokens=distinct,
        hits=all_hits,
        request_id=request_id,
        audit_seq=receipt.leaf_index,
        raised_at=services.clock.now(),
        status=AlertStatus.OPEN.value,
    )
    session.add(alert)
    session.flush()
    logger.warning(
        "dictionary-style querying suspected: partner=%s purpose=%s window_start=%d "
        "items=%d distinct=%d hits=%d (alert %d, audit entry %d)",
        charge.partner_id,
        charge.purpose,
        charge.window.start,
        used,
        distinct,
        all_hits,
        alert.id,
        receipt.leaf_index,
    )
    return alert
