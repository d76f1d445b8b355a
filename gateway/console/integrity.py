"""The audit log's integrity status as the console shows it, and "verify now".

Verifying from the console checks, with the log's public key and without trusting the
stored search columns: the newest checkpoint's Ed25519 signature, that the stored tree has
exactly the signed root at that size, that the newest entries hash to their stored leaves,
and (RFC 6962 consistency proof) that the tree signed now extends the one verified last
time. The result is itself an audit entry, which is where "last verified, by whom" comes
from.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.checkpoint import open_checkpoint
from audit.errors import AuditError
from audit.merkle import leaf_hash, verify_consistency
from gateway.audit_trail import checkpoints, store
from gateway.audit_trail.checkpoints import PublishedCheckpoint
from gateway.audit_trail.errors import AuditIntegrityError
from gateway.audit_trail.events import AuditTag
from gateway.audit_trail.models import AuditEntry
from gateway.audit_trail.service import AuditTrail
from gateway.audit_trail.store import as_utc

VERIFIED = "verified"
LEAF_SAMPLE = 256


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of one check: the codes say what failed (``verified`` when nothing did)."""

    tree_size: int
    previous_size: int
    cosignatures: int
    codes: tuple[str, ...]
    detail: str

    @property
    def ok(self) -> bool:
        return self.codes == (VERIFIED,)


@dataclass(frozen=True, slots=True)
class LastVerification:
    time: datetime
    user: str | None
    partner: str | None
    tree_size: int
    ok: bool
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IntegrityStatus:
    latest: PublishedCheckpoint | None
    root_b64: str
    last: LastVerification | None


def last_verification(session: Session) -> LastVerification | None:
    row = session.execute(
        select(AuditEntry.time, AuditEntry.body)
        .where(AuditEntry.tag == AuditTag.AUDIT_INTEGRITY_VERIFY.value)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    entry: dict[str, Any] = json.loads(bytes(row.body))
    codes = tuple(entry.get("reasons", ()))
    return LastVerification(
        time=as_utc(row.time),
        user=entry["actor"].get("user"),
        partner=entry["actor"].get("partner"),
        tree_size=int(entry.get("counts", {}).get("tree_size", 0)),
        ok=codes == (VERIFIED,),
        codes=codes,
    )


def status(session: Session) -> IntegrityStatus:
    latest = checkpoints.latest(session)
    root = base64.b64encode(latest.root_hash).decode() if latest else ""
    return IntegrityStatus(latest=latest, root_b64=root, last=last_verification(session))


def _previous(session: Session, audit: AuditTrail, size: int) -> tuple[int, bytes] | None:
    """The checkpoint verified last time (re-authenticated by its signature), if stored."""
    last = last_verification(session)
    if last is None or not last.ok or not 0 < last.tree_size <= size:
        return None
    earlier = checkpoints.at_size(session, last.tree_size)
    if earlier is None:
        return None
    signed = open_checkpoint(earlier.note, audit.verifier)
    return signed.checkpoint.size, signed.checkpoint.root_hash


def _leaves_match(session: Session, size: int) -> bool:
    start = max(0, size - LEAF_SAMPLE)
    stored = store.leaf_hashes(session, start, size)
    bodies = store.entry_bodies(session, start, size)
    return len(bodies) == size - start and all(
        stored.get(seq) == leaf_hash(body) for seq, body in bodies
    )


def verify(session: Session, audit: AuditTrail) -> Verification:
    """Check the newest checkpoint against the stored log; never raises for a bad log."""
    latest = checkpoints.latest(session)
    if latest is None:
        return Verification(0, 0, 0, ("no-checkpoint",), "no checkpoint has been signed yet")
    size = latest.tree_size
    try:
        signed = open_checkpoint(latest.note, audit.verifier, witnesses=audit.witness_keys)
    except AuditError as exc:
        return Verification(size, 0, 0, ("signature-invalid",), exc.reason)
    cosigned = len(signed.cosigners)
    try:
        if store.root_at(session, size) != signed.checkpoint.root_hash:
            return Verification(
                size,
                0,
                cosigned,
                ("root-mismatch",),
                "the stored tree's root differs from the signed root",
            )
        if not _leaves_match(session, size):
            return Verification(
                size,
                0,
                cosigned,
                ("leaf-mismatch",),
                "a recent entry does not hash to its stored leaf",
            )
        previous = _previous(session, audit, size)
    except (AuditIntegrityError, AuditError) as exc:
        return Verification(size, 0, cosigned, ("store-inconsistent",), str(exc))
    if previous is None:
        return Verification(size, 0, cosigned, (VERIFIED,), "first verification")
    old_size, old_root = previous
    try:
        proof = store.consistency_proof(session, old_size, size) if old_size < size else []
        verify_consistency(old_size, size, old_root, signed.checkpoint.root_hash, proof)
    except (AuditIntegrityError, AuditError) as exc:
        return Verification(size, old_size, cosigned, ("consistency-failed",), str(exc))
    return Verification(size, old_size, cosigned, (VERIFIED,), "consistent with last check")
