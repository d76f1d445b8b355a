"""Adding and pruning K_gw keys: the two edits of the pepper ring, with their safety checks.

Kept apart from the CLI so the same checks run wherever the ring is edited, and so tests can
drive them on a gateway's own clock. A key is added only for epochs not yet issued (an
existing epoch's tokens are already peppered with the current key); a key is pruned only when
nothing stored still depends on it. Both edits are audited with key ids and epochs only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from gateway.audit_trail.events import Actor, AuditEvent, AuditTag
from gateway.db import transaction
from gateway.errors import ConflictError, InvalidRequestError
from gateway.keys.pepper_binding import KeyUse, key_uses, newest_epoch
from gateway.pepper import PEPPER_BYTES, pepper_path, ring_keys, write_ring
from gateway.services import Services


@dataclass(frozen=True, slots=True)
class PruneReport:
    uses: list[KeyUse]
    pruned: list[str]
    kept: int


def _event(services: Services, actor: str, tag: AuditTag, counts: dict[str, int]) -> AuditEvent:
    return Actor(f"cli-{secrets.token_hex(6)}", user=actor).event(
        tag,
        decision="allow",
        policy_digest=services.policy.digest,
        counts=counts,
    )


def uses(services: Services) -> list[KeyUse]:
    with transaction(services.session_factory) as session:
        return key_uses(
            session,
            services.pepper,
            detail_retention_days=services.settings.audit_detail_retention_days,
        )


def add_key(services: Services, from_epoch: int, *, actor: str) -> str:
    """Append a fresh key for epochs from ``from_epoch`` on; returns its key id."""
    path = pepper_path(services.settings)
    keys = ring_keys(path)
    with transaction(services.session_factory) as session:
        newest = newest_epoch(session)
        if from_epoch <= newest:
            raise ConflictError(
                f"epoch {newest} already exists and its tokens are peppered with the current "
                f"key; a new key must start at epoch {newest + 1} or later",
                field="from_epoch",
            )
        if from_epoch <= keys[-1][0]:
            raise InvalidRequestError(
                f"the ring already has a key from epoch {keys[-1][0]}; a new key must start "
                "after it",
                field="from_epoch",
            )
        # Audit first: a failed file write rolls the entry back with it.
        services.audit.record(
            session,
            _event(
                services,
                actor,
                AuditTag.KEY_PEPPER_ADD,
                {"from_epoch": from_epoch, "keys": len(keys) + 1},
            ),
        )
        write_ring(path, [*keys, (from_epoch, secrets.token_bytes(PEPPER_BYTES))])
    services.pepper.reload()
    return services.pepper.newest.key_id


def prune_keys(services: Services, *, actor: str, dry_run: bool = False) -> PruneReport:
    """Destroy the keys nothing depends on any more (see ``KeyUse.blocker``)."""
    path = pepper_path(services.settings)
    services.pepper.reload()
    keys = ring_keys(path)
    current = uses(services)
    now = services.clock.now()
    gone = [
        use.key_id
        for position, use in enumerate(current)
        if use.blocker(now, newest=position == len(current) - 1) is None
    ]
    if not gone or dry_run:
        return PruneReport(current, gone if dry_run else [], len(keys))
    kept = [
        (start, key)
        for (start, key), entry in zip(keys, services.pepper.entries, strict=True)
        if entry.key_id not in gone
    ]
    with transaction(services.session_factory) as session:
        services.audit.record(
            session,
            _event(
                services, actor, AuditTag.KEY_PEPPER_PRUNE, {"pruned": len(gone), "kept": len(kept)}
            ),
        )
        write_ring(path, kept)
    services.pepper.reload()
    return PruneReport(current, gone, len(kept))
