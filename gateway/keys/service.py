"""Key custody at the gateway: the custodian's key, epoch states, handing out envelopes.

Every change is flushed in the caller's transaction together with its audit entry; refusals
are audited too. Uploads (new epochs and supplements) are verified in
:mod:`gateway.keys.uploads`, which builds on :class:`KeyCustody`. An envelope is served only
to the client it was sealed to, after the policy agrees once more (``keys:fetch`` for purpose
``key_distribution``). The gateway never opens an envelope and holds nothing that could.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit_trail.events import Actor, AuditTag
from gateway.auth.principal import Principal
from gateway.epochs.models import EpochState, KeyEpoch
from gateway.epochs.validity import aware
from gateway.errors import (
    ConflictError,
    GatewayError,
    NotFoundError,
    PermissionDeniedError,
)
from gateway.indicators.schemas import Receipt
from gateway.keys import manifest as mf
from gateway.keys.eligibility import KindDecisions, decide_kinds
from gateway.keys.models import CustodianKey, CustodianStatus, KeyEnvelope, KeyManifest
from gateway.keys.schemas import EpochOut
from gateway.keys.validity import retire
from gateway.policy.refusals import refusal
from gateway.services import Services


@dataclass(frozen=True, slots=True)
class Upload:
    """What an upload did; ``receipt`` is ``None`` when it repeated an accepted manifest."""

    epoch: KeyEpoch
    envelopes: int
    manifest_sha256: str
    receipt: Receipt | None


@dataclass(frozen=True, slots=True)
class StateChange:
    epoch: KeyEpoch
    retired: list[int]
    purged: dict[str, int]
    receipt: Receipt


@dataclass(frozen=True, slots=True)
class Fetched:
    envelope: KeyEnvelope
    epoch: KeyEpoch
    manifest: KeyManifest
    receipt: Receipt


def epoch_out(
    row: KeyEpoch, envelope: KeyEnvelope | None = None, *, caller: bool = False
) -> EpochOut:
    return EpochOut(
        epoch=row.epoch,
        state=row.state,
        spec=row.spec,
        custodian_key_id=row.custodian_key_id,
        created_at=aware(row.created_at),
        activated_at=_maybe(row.activated_at),
        retiring_at=_maybe(row.retiring_at),
        overlap_ends_at=_maybe(row.overlap_ends_at),
        retired_at=_maybe(row.retired_at),
        envelope=(envelope is not None) if caller else None,
        kinds=envelope.kinds.split(",") if envelope is not None else None,
    )


def _maybe(moment: datetime | None) -> datetime | None:
    return aware(moment) if moment is not None else None


class KeyCustody:
    """The keys area's operations within one session; each flushes and audits, none commits."""

    def __init__(self, session: Session, services: Services, actor: Actor) -> None:
        self.session = session
        self.services = services
        self.actor = actor

    # -- audit ------------------------------------------------------------------------------

    def _record(
        self,
        tag: AuditTag,
        *,
        decision: str = "allow",
        reasons: tuple[str, ...] = (),
        counts: dict[str, int] | None = None,
        detail: dict[str, object] | None = None,
        policy_digest: str | None = None,
    ) -> Receipt:
        receipt = self.services.audit.record(
            self.session,
            self.actor.event(
                tag,
                purpose="key_distribution" if tag.startswith("key:envelope") else None,
                decision=decision,
                reason_codes=reasons,
                policy_digest=policy_digest or self.services.policy.digest,
                counts=counts or {},
                detail=detail,
            ),
        )
        return Receipt(leaf_index=receipt.leaf_index, policy_digest=self.services.policy.digest)

    def _refuse(self, tag: AuditTag, error: GatewayError, code: str, **counts: int) -> GatewayError:
        """Audit a refusal in this transaction (nothing else was flushed before it)."""
        self._record(
            tag,
            decision="deny",
            reasons=(code,),
            counts=counts,
            detail={"field": error.field or "", "reason": error.reason[:300]},
        )
        error.audited = True
        return error

    # -- the custodian ----------------------------------------------------------------------

    def active_custodian(self) -> CustodianKey | None:
        return self.session.scalar(
            select(CustodianKey).where(CustodianKey.status == CustodianStatus.ACTIVE.value)
        )

    def register_custodian(
        self, client_id: str, public_key_text: str, proof_b64: str
    ) -> CustodianKey:
        """Register the calling custody client's Ed25519 key, proven by a signature."""
        public_key = mf.parse_custodian_key(public_key_text)
        proof = mf.b64decode(proof_b64, field="proof")
        statement = mf.registration_statement(client_id, public_key)
        if not mf.verify_signature(public_key, mf.CUSTODIAN_KEY_CONTEXT, statement, proof):
            raise self._refuse(
                AuditTag.KEY_CUSTODIAN_REGISTER,
                PermissionDeniedError(
                    "is not a valid signature of the registration statement by this key",
                    field="proof",
                    reasons=("custodian-proof-invalid",),
                ),
                "custodian-proof-invalid",
            )
        key_id = mf.custodian_key_id(public_key)
        current = self.active_custodian()
        if current is not None:
            if current.key_id == key_id and current.client_id == client_id:
                return current  # a repeated registration changes nothing
            raise ConflictError(
                f"a custodian key ({current.key_id[:16]}…) is registered already; the gateway "
                "operator must revoke it first (`ppsgate keys revoke-custodian`)",
                field="public_key",
            )
        if self.session.get(CustodianKey, key_id) is not None:
            raise ConflictError(
                "this key was revoked and cannot be registered again", field="public_key"
            )
        row = CustodianKey(
            key_id=key_id,
            public_key=public_key,
            client_id=client_id,
            status=CustodianStatus.ACTIVE.value,
            created_at=self.services.clock.now(),
        )
        self.session.add(row)
        self.session.flush()
        self._record(
            AuditTag.KEY_CUSTODIAN_REGISTER, detail={"key_id": key_id, "client_id": client_id}
        )
        return row

    def revoke_custodian(self) -> CustodianKey:
        """The operator's act after a custodian compromise or hand-over (audited)."""
        current = self.active_custodian()
        if current is None:
            raise NotFoundError("no custodian key is registered", field="custodian")
        current.status = CustodianStatus.REVOKED.value
        current.revoked_at = self.services.clock.now()
        self.session.flush()
        self._record(AuditTag.KEY_CUSTODIAN_REVOKE, detail={"key_id": current.key_id})
        return current

    def _custodian_for(self, client_id: str) -> CustodianKey:
        current = self.active_custodian()
        if current is None:
            raise PermissionDeniedError(
                "no custodian key is registered; run `ppsgate-connector custodian init` first",
                field="custodian",
                reasons=("custodian-unregistered",),
            )
        if current.client_id != client_id:
            raise PermissionDeniedError(
                "this client is not the registered key custodian",
                field="client_id",
                reasons=("custodian-mismatch",),
            )
        return current

    # -- states -----------------------------------------------------------------------------

    def _epoch(self, number: int) -> KeyEpoch:
        row = self.session.get(KeyEpoch, number)
        if row is None:
            raise NotFoundError(f"no epoch {number}", field="epoch")
        return row

    def activate(self, client_id: str | None, number: int, overlap_days: int | None) -> StateChange:
        """pending -> active; the previous active epoch starts its overlap window."""
        if client_id is not None:
            self._custodian_for(client_id)
        row = self._epoch(number)
        if row.state != EpochState.PENDING:
            raise ConflictError(f"epoch {number} is {row.state}, not pending", field="epoch")
        retiring = self.session.scalar(
            select(KeyEpoch).where(KeyEpoch.state == EpochState.RETIRING.value)
        )
        if retiring is not None:
            raise ConflictError(
                f"epoch {retiring.epoch} is still in its overlap window; retire it first "
                "(`ppsgate-connector custodian retire`) or wait until the window ends",
                field="epoch",
            )
        now = self.services.clock.now()
        days = (
            self.services.settings.key_epoch_overlap_days if overlap_days is None else overlap_days
        )
        previous = self.session.scalar(
            select(KeyEpoch).where(KeyEpoch.state == EpochState.ACTIVE.value)
        )
        row.state = EpochState.ACTIVE.value
        row.activated_at = now
        if previous is not None:
            previous.state = EpochState.RETIRING.value
            previous.retiring_at = now
            previous.overlap_ends_at = now + timedelta(days=days)
        self.session.flush()
        receipt = self._record(
            AuditTag.KEY_EPOCH_ACTIVATE,
            counts={"epoch": number, "overlap_days": days},
            detail={
                "retiring": previous.epoch if previous is not None else None,
                "overlap_ends_at": previous.overlap_ends_at.isoformat()
                if previous is not None and previous.overlap_ends_at
                else None,
            },
        )
        retired: list[int] = []
        purged: dict[str, int] = {}
        if previous is not None and days == 0:
            purged, _leaf = retire(
                self.session,
                self.services,
                previous,
                actor=self.actor,
                why="overlap-skipped",
            )
            retired.append(previous.epoch)
        return StateChange(row, retired, purged, receipt)

    def retire_now(self, client_id: str | None, number: int) -> StateChange:
        """End a retiring epoch's window early (suspected leak) or cancel a pending epoch."""
        if client_id is not None:
            self._custodian_for(client_id)
        row = self._epoch(number)
        if row.state == EpochState.ACTIVE:
            raise ConflictError(
                f"epoch {number} is active; create and activate its successor first, then "
                "retire it (with --overlap-days 0 to do both at once)",
                field="epoch",
            )
        if row.state == EpochState.RETIRED:
            raise ConflictError(f"epoch {number} is retired already", field="epoch")
        why = "cancelled" if row.state == EpochState.PENDING else "retired-early"
        counts, leaf = retire(
            self.session,
            self.services,
            row,
            actor=self.actor,
            why=why,
        )
        receipt = Receipt(leaf_index=leaf, policy_digest=self.services.policy.digest)
        return StateChange(row, [number], counts, receipt)

    # -- reading ----------------------------------------------------------------------------

    def list_epochs(self, client_id: str | None) -> list[EpochOut]:
        rows = self.session.scalars(select(KeyEpoch).order_by(KeyEpoch.epoch)).all()
        mine: dict[int, KeyEnvelope] = {}
        if client_id is not None:
            mine = {
                e.epoch: e
                for e in self.session.scalars(
                    select(KeyEnvelope).where(KeyEnvelope.client_id == client_id)
                )
            }
        return [epoch_out(row, mine.get(row.epoch), caller=client_id is not None) for row in rows]

    def _issued_envelope(self, principal: Principal, number: int) -> KeyEnvelope:
        """The envelope sealed to the calling client in epoch ``number``; its lack is audited."""
        assert principal.client_id is not None
        envelope = self.session.scalar(
            select(KeyEnvelope).where(
                KeyEnvelope.epoch == number, KeyEnvelope.client_id == principal.client_id
            )
        )
        if envelope is None:
            raise self._refuse(
                AuditTag.KEY_ENVELOPE_DENY,
                NotFoundError(
                    f"the custodian issued no envelope for this client in epoch {number} "
                    "(not eligible when the epoch was made, or joined later: ask the custodian "
                    "to run `custodian issue`)",
                    field="epoch",
                ),
                "envelope-not-issued",
                epoch=number,
            )
        return envelope

    def _allowed_kinds(
        self, principal: Principal, number: int, kinds: tuple[str, ...]
    ) -> tuple[KindDecisions, str]:
        """The policy's decisions and digest for ``kinds`` now; a denial is audited and raised."""
        decisions = decide_kinds(
            self.services.policy,
            principal.partner_id,
            "active",
            kinds,
            partner_sector=principal.sector,
        )
        digest = next(iter(decisions.decisions.values())).policy_digest
        denial = decisions.denial(kinds)
        if denial is not None:
            self._record(
                AuditTag.KEY_ENVELOPE_DENY,
                decision="deny",
                reasons=denial[0],
                counts={"epoch": number},
                detail={"kinds": list(kinds)},
                policy_digest=digest,
            )
            raise refusal(
                tuple(decisions.decisions.values()),
                f"the policy no longer allows these keys: {denial[1]}",
                field="kinds",
                reasons=denial[0],
            )
        return decisions, digest

    def fetch_envelope(self, principal: Principal, number: int) -> Fetched:
        """The caller's own envelope, after the policy agrees again; audited either way."""
        row = self._epoch(number)
        if row.state == EpochState.RETIRED:
            raise NotFoundError(f"epoch {number} is retired; its envelopes are gone", field="epoch")
        envelope = self._issued_envelope(principal, number)
        kinds = tuple(envelope.kinds.split(","))
        decisions, digest = self._allowed_kinds(principal, number, kinds)
        manifest = self.session.get(KeyManifest, envelope.manifest_id)
        assert manifest is not None
        if envelope.fetched_at is None:
            envelope.fetched_at = self.services.clock.now()
            self.session.flush()
        receipt = self._record(
            AuditTag.KEY_ENVELOPE_FETCH,
            reasons=tuple(
                sorted({c for d in decisions.decisions.values() for c in d.reason_codes})
            ),
            counts={"epoch": number, "kinds": len(kinds)},
            detail={"envelope_sha256": envelope.sha256, "kinds": list(kinds)},
            policy_digest=digest,
        )
        return Fetched(envelope, row, manifest, receipt)


def refusal_code(error: GatewayError) -> str:
    reasons = getattr(error, "reasons", ())
    if reasons:
        return str(reasons[0])
    return f"invalid:{error.field or 'request'}"[:128]
