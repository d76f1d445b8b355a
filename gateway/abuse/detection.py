"""Spotting dictionary-style querying: many distinct tokens, nearly all misses, per window.

A partner that tests guessed identifiers asks many tokens it has not asked before in the
window, and almost none of them hit. Screening its own customers looks alike at small
volume, so the thresholds are per purpose (and per partner where agreed) in the policy
data: at least ``min_distinct`` distinct tokens and at most ``max_hit_ratio`` of the items
hitting. Tokens are pseudorandom, so sequential guesses (NL..0001, NL..0002) cannot be seen
in them by design; distinct volume and the hit ratio are what the gateway can observe.
Disputes are watched the same way, with a hit ratio of 1 in the policy data, so their alert
(``mass-dispute-filing``) is raised by volume alone.

Distinct tokens are counted exactly with one short fingerprint per token and window
(:class:`~gateway.abuse.models.ProbeFingerprint`), inserted with ``ON CONFLICT DO NOTHING``;
the rows that come back are the new ones. The totals live on the partner's usage row. The
fingerprints and the totals are written together in a short counter transaction of their
own (:mod:`gateway.abuse.counters`), so one partner's concurrent requests do not wait for
each other's commit; a request that fails after its lookup still counts in the window's
statistics (its tokens were looked up), which can only make an alert likelier.

The first request that crosses the thresholds in a window raises one alert: it claims the
window's ``alerted`` flag with a conditional update *in the request's transaction*, with the
``abuse:enumeration:detect`` audit entry and the alert row the console lists for the
partnership's DPO, so the three commit together; a request that rolls back releases the
claim for the next one. Detection alerts; the quota is what refuses.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Connection, LargeBinary, bindparam, text, update
from sqlalchemy.orm import Session

from gateway.abuse.counters import counter_statement, counter_transaction, dialect_insert
from gateway.abuse.models import (
    FINGERPRINT_BYTES,
    AlertStatus,
    EnumerationAlert,
    ProbeFingerprint,
    QuotaScope,
    QuotaUsage,
)
from gateway.abuse.quotas import Charge
from gateway.audit_trail.events import Actor, AuditTag
from gateway.services import Services

logger = logging.getLogger(__name__)

DICTIONARY_QUERYING = "dictionary-querying"
FINGERPRINT_CHUNK = 1000


def fingerprint(window_start: int, token_hash: bytes) -> bytes:
    """A short per-window fingerprint of a peppered token, for counting distinct tokens."""
    return hashlib.sha256(window_start.to_bytes(8, "big") + token_hash).digest()[:FINGERPRINT_BYTES]


@cache
def _fingerprint_insert(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING``, built once per dialect."""
    return (
        dialect_insert(dialect)(ProbeFingerprint)
        .on_conflict_do_nothing(
            index_elements=["partner_id", "purpose", "window_start", "fingerprint"]
        )
        .returning(ProbeFingerprint.fingerprint)
    )


_PARTNER_ROW = (
    QuotaUsage.scope == QuotaScope.PARTNER.value,
    QuotaUsage.subject == bindparam("row_partner"),
    QuotaUsage.purpose == bindparam("row_purpose"),
    QuotaUsage.window_start == bindparam("row_window"),
)
_ADD_TO_TOTALS = (
    update(QuotaUsage)
    .where(*_PARTNER_ROW)
    .values(
        distinct_tokens=QuotaUsage.distinct_tokens + bindparam("new_tokens"),
        hits=QuotaUsage.hits + bindparam("new_hits"),
    )
    .returning(QuotaUsage.used, QuotaUsage.distinct_tokens, QuotaUsage.hits, QuotaUsage.alerted)
)
_CLAIM_ALERT = (
    update(QuotaUsage)
    .where(*_PARTNER_ROW, QuotaUsage.alerted.is_(False))
    .values(alerted=True)
    .returning(QuotaUsage.alerted)
    .execution_options(synchronize_session=False)
)


# PostgreSQL: the fingerprints and the totals in one statement, atomic without a
# transaction around it. The fingerprints come as one bytea of sorted 8-byte values, split by
# the server (a bytea[] parameter is encoded element by element in Python), and are inserted
# in that order, the same lock order for every request.
_PG_ADD_TO_TOTALS = text(
    """
    WITH new AS (
        INSERT INTO abuse_probe_fingerprints (partner_id, purpose, window_start, fingerprint)
        SELECT :row_partner, :row_purpose, :row_window,
               substring(:prints FROM n * :width + 1 FOR :width)
        FROM generate_series(0, length(:prints) / :width - 1) AS n
        ORDER BY n
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    UPDATE abuse_quota_usage
    SET distinct_tokens = distinct_tokens + (SELECT count(*) FROM new),
        hits = hits + :new_hits
    WHERE scope = 'partner' AND subject = :row_partner AND purpose = :row_purpose
      AND window_start = :row_window
    RETURNING used, distinct_tokens, hits, alerted
    """
).bindparams(bindparam("prints", type_=LargeBinary()))


def _row_key(charge: Charge) -> dict[str, Any]:
    return {
        "row_partner": charge.partner_id,
        "row_purpose": charge.purpose,
        "row_window": charge.window.start,
    }


def _count_new(connection: Connection, charge: Charge, prints: list[bytes]) -> int:
    """Record the window's fingerprints of these tokens; how many were not there yet."""
    key = {
        "partner_id": charge.partner_id,
        "purpose": charge.purpose,
        "window_start": charge.window.start,
    }
    rows = [{**key, "fingerprint": print_} for print_ in prints]
    statement = _fingerprint_insert(connection.dialect.name)
    if len(rows) == 1:  # a single match: a plain execute, not the executemany machinery
        return len(connection.execute(statement, rows[0]).all())
    new = 0
    for start in range(0, len(rows), FINGERPRINT_CHUNK):
        new += len(connection.execute(statement, rows[start : start + FINGERPRINT_CHUNK]).all())
    return new


def _add_to_totals(
    session: Session, services: Services, charge: Charge, token_hashes: Iterable[bytes], hits: int
) -> tuple[int, int, int, bool]:
    """Record the fingerprints and add to the window's totals, committed at once; the totals."""
    prints = sorted({fingerprint(charge.window.start, h) for h in token_hashes})
    if session.get_bind().dialect.name == "postgresql":
        with counter_statement(services) as connection:
            row = connection.execute(
                _PG_ADD_TO_TOTALS,
                {
                    **_row_key(charge),
                    "prints": b"".join(prints),
                    "width": FINGERPRINT_BYTES,
                    "new_hits": hits,
                },
            ).one()
    else:
        with counter_transaction(services) as connection:
            new = _count_new(connection, charge, prints)
            row = connection.execute(
                _ADD_TO_TOTALS, {**_row_key(charge), "new_tokens": new, "new_hits": hits}
            ).one()
    used, distinct, all_hits, alerted = row
    return int(used), int(distinct), int(all_hits), bool(alerted)


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
    kind: str = DICTIONARY_QUERYING,
) -> EnumerationAlert | None:
    """Add this request to the window's statistics; raise the window's alert once.

    ``token_hashes`` are the peppered tokens asked (one per item), ``hits`` how many items
    had any evidence (before disclosure rules: the gateway's own view, never returned).
    ``kind`` names the alert and its reason code: ``dictionary-querying`` for matches,
    ``mass-dispute-filing`` for disputes (whose threshold ignores hits).
    """
    probe = charge.quota.enumeration
    if probe is None:
        return None
    used, distinct, all_hits, alerted = _add_to_totals(
        session, services, charge, token_hashes, hits
    )
    if alerted or not looks_like_enumeration(
        used=used,
        distinct=distinct,
        hits=all_hits,
        min_distinct=probe.min_distinct,
        max_hit_ratio=probe.max_hit_ratio,
    ):
        return None
    claimed = session.execute(_CLAIM_ALERT, _row_key(charge)).first()
    if claimed is None:
        return None  # another request raised this window's alert meanwhile
    totals = {"items": used, "distinct_tokens": distinct, "hits": all_hits}
    return _raise_alert(session, services, charge, kind, totals, request_id=request_id)


def _raise_alert(
    session: Session,
    services: Services,
    charge: Charge,
    kind: str,
    totals: dict[str, int],
    *,
    request_id: str,
) -> EnumerationAlert:
    """Audit the suspicion, store the alert for the DPO, and log it (never a token)."""
    probe = charge.quota.enumeration
    counts = {
        **totals,
        "window_seconds": charge.window.seconds,
        "min_distinct": probe.min_distinct if probe else 0,
    }
    actor = Actor(request_id, charge.partner_id, charge.client_id)
    event = actor.event(
        AuditTag.ABUSE_ENUMERATION_DETECT,
        purpose=charge.purpose,
        reason_codes=(kind,),
        counts=counts,
    )
    receipt = services.audit.record(session, event)
    alert = EnumerationAlert(
        partner_id=charge.partner_id,
        client_id=charge.client_id,
        purpose=charge.purpose,
        kind=kind,
        window_start=charge.window.start,
        window_seconds=charge.window.seconds,
        items=totals["items"],
        distinct_tokens=totals["distinct_tokens"],
        hits=totals["hits"],
        request_id=request_id,
        audit_seq=receipt.leaf_index,
        raised_at=services.clock.now(),
        status=AlertStatus.OPEN.value,
    )
    session.add(alert)
    session.flush()
    logger.warning(
        "%s suspected: partner=%s purpose=%s window_start=%d "
        "items=%d distinct=%d hits=%d (alert %d, audit entry %d)",
        kind,
        charge.partner_id,
        charge.purpose,
        charge.window.start,
        alert.items,
        alert.distinct_tokens,
        alert.hits,
        alert.id,
        receipt.leaf_index,
    )
    return alert
