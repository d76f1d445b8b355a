"""What a delivery of alerts disclosed, recorded for the data subject's access request.

An alert tells its watcher what the policy granted about a watched token (category, number
of reports, sectors, ...); a retraction notice tells a partner that what it was told is
retracted or disputed. Both are disclosures (GDPR Art. 15(1)(c): the recipients of the data),
so every delivery — a partner reading ``GET /v1/alerts`` or the gateway pushing to its
webhook — is audited with a detail record naming each alert's peppered token and exactly
what it said. ``POST /v1/audit/subject-access`` then lists the recipient, what it learned and
when, from the token alone.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from gateway.alerts.models import Alert
from gateway.audit_trail.events import Actor, AuditTag
from gateway.services import Services


def delivery_detail(alerts: Sequence[Alert]) -> dict[str, object] | None:
    """The detail record of a delivery: per peppered token, what each alert disclosed."""
    disclosed: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        said = {
            "alert": alert.type,
            "cursor": alert.seq,
            "purpose": alert.purpose or None,
            **json.loads(alert.disclosed),
        }
        disclosed.setdefault(alert.token_hash.hex(), []).append(said)
    if not disclosed:
        return None
    return {"tokens": sorted(disclosed), "disclosed": disclosed}


def delivery_counts(alerts: Sequence[Alert], start: int) -> dict[str, int]:
    return {"alerts": len(alerts), "from": start, "to": alerts[-1].seq if alerts else start}


def record_webhook_delivery(
    session: Session,
    services: Services,
    partner_id: str,
    alerts: Sequence[Alert],
    *,
    accepted: bool,
) -> None:
    """Audit one push to a partner's webhook (``alert:webhook:deliver``), in its transaction.

    Every attempt is recorded, accepted or not: a receiver that answered an error (or timed
    out) may still have read the body, and a subject access request must err on the side of
    listing a possible recipient.
    """
    start = alerts[0].seq - 1 if alerts else 0
    services.audit.record(
        session,
        Actor(f"webhook-{secrets.token_hex(6)}", partner_id).event(
            AuditTag.ALERT_WEBHOOK_DELIVER,
            decision="allow",
            policy_digest=services.policy.digest,
            counts={**delivery_counts(alerts, start), "accepted": int(accepted)},
            detail=delivery_detail(alerts),
        ),
    )
