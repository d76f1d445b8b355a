"""Raising alerts for watchers when the evidence about a watched token changes.

Called when indicators arrive (submission) and when a partner starts watching a token: a
watcher hears of a token once it is corroborated, disclosed exactly as a match would show
it (:mod:`gateway.indicators.evidence`), and again when what it would be shown changes.
It lives with the indicators because it reads their evidence; the alerts it writes, their
cursors and the watch-list entries are the alerts area's records, below this one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.alerts.models import Alert, AlertType, Disclosure, WatchEntry
from gateway.alerts.service import cursor_for_update, next_seq
from gateway.dialect import hash_in
from gateway.indicators.evidence import Evidence, disclose, is_corroborated, lookup_evidence
from gateway.partners.models import Partner
from gateway.policy.decision import Action, Decision, DecisionRequest
from gateway.policy.obligations import obligations_out
from gateway.services import Services


def _last_alert(session: Session, watch_id: int) -> Alert | None:
    return session.execute(
        select(Alert)
        .where(Alert.watch_id == watch_id, Alert.type != AlertType.RETRACTION.value)
        .order_by(Alert.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def evaluate_watchers(
    session: Session, services: Services, token_hashes: set[bytes], request_id: str
) -> int:
    """Alert every watcher whose watched token is now corroborated; returns alerts created."""
    if not token_hashes:
        return 0
    entries = list(
        session.execute(
            select(WatchEntry).where(hash_in(session, WatchEntry.token_hash, sorted(token_hashes)))
        ).scalars()
    )
    if not entries:
        return 0
    by_partner: dict[str, list[WatchEntry]] = defaultdict(list)
    for entry in entries:
        by_partner[entry.partner_id].append(entry)
    decide = _alert_decisions(session, services)
    created = 0
    for partner_id, own_entries in sorted(by_partner.items()):  # fixed lock order
        evidence = lookup_evidence(
            session,
            sorted({entry.token_hash for entry in own_entries}),
            exclude_partner=partner_id,
            now=services.clock.now(),
        )
        for entry in own_entries:
            found = evidence.get(entry.token_hash)
            decision = decide(entry) if found is not None else None
            if found is not None and decision is not None and is_corroborated(found, decision):
                created += _alert(
                    session, services, entry, found=found, decision=decision, request_id=request_id
                )
    session.flush()
    return created


def _alert_decisions(
    session: Session, services: Services
) -> Callable[[WatchEntry], Decision | None]:
    """Decides whether a watcher may be alerted, once per (partner, purpose, basis, kind),
    with the watcher's registered sector; None when the policy refuses."""
    decisions: dict[tuple[str, str, str, str], Decision] = {}

    def decide(entry: WatchEntry) -> Decision | None:
        key = (entry.partner_id, entry.purpose, entry.legal_basis, entry.kind)
        if key not in decisions:
            registered = session.get(Partner, entry.partner_id)
            sector: dict[str, object] = (
                {"partner_sector": registered.sector} if registered is not None else {}
            )
            decisions[key] = services.policy.decide(
                DecisionRequest(
                    action=Action.ALERTS_READ,
                    partner_id=entry.partner_id,
                    purpose=entry.purpose,
                    legal_basis=entry.legal_basis,
                    kinds=(entry.kind,),
                    context=sector,
                )
            )
        return decisions[key] if decisions[key].allow else None

    return decide


def _alert(
    session: Session,
    services: Services,
    entry: WatchEntry,
    *,
    found: Evidence,
    decision: Decision,
    request_id: str,
) -> int:
    """Queue one alert (or an update, when what may be disclosed changed) and record the
    disclosure; 0 when the watcher was already told exactly this."""
    disclosed = disclose(0, found, decision).model_dump(
        mode="json", exclude_none=True, exclude={"row"}
    )
    previous = _last_alert(session, entry.id)
    payload = json.dumps(disclosed, sort_keys=True)
    if previous is not None and previous.disclosed == payload:
        return 0
    now = services.clock.now()
    cursor = cursor_for_update(session, services, entry.partner_id)
    session.add(
        Alert(
            partner_id=entry.partner_id,
            seq=next_seq(cursor),
            type=(AlertType.ALERT if previous is None else AlertType.UPDATE).value,
            watch_id=entry.id,
            token_hash=entry.token_hash,
            kind=entry.kind,
            purpose=entry.purpose,
            disclosed=payload,
            obligations=json.dumps([o.model_dump() for o in obligations_out([decision])]),
            created_at=now,
        )
    )
    session.add(
        Disclosure(
            partner_id=entry.partner_id,
            token_hash=entry.token_hash,
            request_id=request_id,
            row=None,
            watch_id=entry.id,
            created_at=now,
        )
    )
    return 1
