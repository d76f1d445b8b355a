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

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.alerts.models import Alert, AlertType, Disclosure, WatchEntry
from gateway.alerts.service import cursor_for_update, next_seq
from gateway.dialect import hash_in
from gateway.indicators.evidence import disclose, is_corroborated, lookup_evidence
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
    now = services.clock.now()
    by_partner: dict[str, list[WatchEntry]] = defaultdict(list)
    for entry in entries:
        by_partner[entry.partner_id].append(entry)
    decisions: dict[tuple[str, str, str, str], Decision] = {}
    created = 0
    for partner_id, own_entries in sorted(by_partner.items()):  # fixed lock order
        registered = session.get(Partner, partner_id)
        sector: dict[str, object] = (
            {"partner_sector": registered.sector} if registered is not None else {}
        )
        evidence = lookup_evidence(
            session,
            sorted({entry.token_hash for entry in own_entries}),
            exclude_partner=partner_id,
            now=now,
        )
        for entry in own_entries:
            found = evidence.get(entry.token_hash)
            if found is None:
                continue
            key = (partner_id, entry.purpose, entry.legal_basis, entry.kind)
            if key not in decisions:
                decisions[key] = services.policy.decide(
                    DecisionRequest(
                        action=Action.ALERTS_READ,
                        partner_id=partner_id,
                        purpose=entry.purpose,
                        legal_basis=entry.legal_basis,
                        kinds=(entry.kind,),
                        context=sector,
                    )
                )
            decision = decisions[key]
            if not decision.allow or not is_corroborated(found, decision):
                continue
            disclosed = disclose(0, found, decision).model_dump(
                mode="json", exclude_none=True, exclude={"row"}
            )
            duties = json.dumps([o.model_dump() for o in obligations_out([decision])])
            previous = _last_alert(session, entry.id)
            payload = json.dumps(disclosed, sort_keys=True)
            if previous is not None and previous.disclosed == payload:
                continue
            cursor = cursor_for_update(session, services, partner_id)
            session.add(
                Alert(
                    partner_id=partner_id,
                    seq=next_seq(cursor),
                    type=(AlertType.ALERT if previous is None else AlertType.UPDATE).value,
                    watch_id=entry.id,
                    token_hash=entry.token_hash,
                    kind=entry.kind,
                    purpose=entry.purpose,
                    disclosed=payload,
                    obligations=duties,
                    created_at=now,
                )
            )
            session.add(
                Disclosure(
                    partner_id=partner_id,
                    token_hash=entry.token_hash,
                    request_id=request_id,
                    row=None,
                    watch_id=entry.id,
                    created_at=now,
                )
            )
            created += 1
    session.flush()
    return created
