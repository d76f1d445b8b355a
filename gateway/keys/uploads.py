"""Accepting the custodian's uploads: a new epoch, or a supplement to one.

Nothing is stored before everything is verified: the manifest's Ed25519 signature against
the registered custodian key, its canonical form, each sealed blob's SHA-256 against the
manifest, each recipient's X25519 key id against the client's registration, and each kind
against the policy (``keys:fetch``, purpose ``key_distribution``). A refusal is audited with
the reason; the stored manifest is byte for byte what the custodian signed, so connectors
can verify it again with the custodian key they pinned.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from gateway.audit_trail.events import AuditTag
from gateway.epochs.models import EpochState, KeyEpoch
from gateway.errors import ConflictError, InvalidRequestError, PermissionDeniedError
from gateway.keys import manifest as mf
from gateway.keys.eligibility import KindDecisions, decide_kinds, exclusion, recipient_key_id
from gateway.keys.models import CustodianKey, KeyEnvelope, KeyManifest, ManifestKind
from gateway.keys.pepper_binding import bind_epoch
from gateway.keys.schemas import EnvelopeIn, EpochUpload
from gateway.keys.service import KeyCustody, Upload, refusal_code
from gateway.partners.models import PartnerClient
from gateway.policy.refusals import refusal


class EpochUploads(KeyCustody):
    """Upload operations within one session; each flushes and audits, none commits."""

    def _verified(self, body: EpochUpload, custodian: CustodianKey) -> mf.Manifest:
        manifest_bytes = mf.b64decode(body.manifest, field="manifest")
        signature = mf.b64decode(body.signature, field="signature")
        if not mf.verify_signature(
            custodian.public_key, mf.MANIFEST_CONTEXT, manifest_bytes, signature
        ):
            raise PermissionDeniedError(
                "the manifest's signature does not verify with the registered custodian key "
                "(forged, altered, or signed with another key); nothing was stored",
                field="signature",
                reasons=("manifest-signature-invalid",),
            )
        manifest = mf.parse_manifest(manifest_bytes)
        if manifest.custodian_key_id != custodian.key_id:
            raise InvalidRequestError(
                "names another custodian key than the registered one",
                field="manifest.custodian_key_id",
            )
        return manifest

    @staticmethod
    def _blobs(manifest: mf.Manifest, uploaded: list[EnvelopeIn]) -> dict[str, bytes]:
        """The uploaded sealed boxes by client: one each, none the manifest does not list."""
        blobs: dict[str, bytes] = {}
        for index, item in enumerate(uploaded):
            if item.client_id in blobs:
                raise InvalidRequestError("lists a client twice", field=f"envelopes.{index}")
            blobs[item.client_id] = mf.b64decode(item.sealed, field=f"envelopes.{index}.sealed")
        listed = {entry.client_id for entry in manifest.entries}
        extra = sorted(set(blobs) - listed)
        if extra:
            raise InvalidRequestError(
                f"envelope(s) for client(s) the manifest does not list: {', '.join(extra)}",
                field="envelopes",
            )
        return blobs

    @staticmethod
    def _check_sealed(entry: mf.ManifestEntry, sealed: bytes | None, where: str) -> bytes:
        """The entry's uploaded box: present, of a plausible size, the one the manifest signs."""
        if sealed is None:
            raise InvalidRequestError("has no uploaded envelope", field=where)
        if not 48 < len(sealed) <= mf.MAX_SEALED_BYTES:
            raise InvalidRequestError(
                "is not a sealed box of a plausible size", field=f"{where}.sealed"
            )
        if hashlib.sha256(sealed).hexdigest() != entry.sha256:
            raise InvalidRequestError(
                "the uploaded envelope does not match the SHA-256 in the signed manifest "
                "(altered after signing)",
                field=f"{where}.sha256",
            )
        return sealed

    def _recipient(self, entry: mf.ManifestEntry, where: str) -> PartnerClient:
        """The entry's client: registered to its partner, eligible, with the pinned key."""
        client = self.session.get(
            PartnerClient, entry.client_id, options=[joinedload(PartnerClient.partner)]
        )
        if client is None or client.partner_id != entry.partner_id:
            raise InvalidRequestError(
                "is not a registered client of that partner", field=f"{where}.client_id"
            )
        reason = exclusion(client)
        if reason is not None:
            raise InvalidRequestError(f"gets no envelope: {reason}", field=f"{where}.client_id")
        if recipient_key_id(client) != entry.recipient_key_id:
            raise InvalidRequestError(
                "is not the X25519 key registered for this client (the client rotated its "
                "key, or the custodian pinned another one)",
                field=f"{where}.recipient_key_id",
            )
        return client

    def _check_kinds(
        self,
        client: PartnerClient,
        kinds: tuple[str, ...],
        where: str,
        decided: dict[str, KindDecisions],
    ) -> None:
        """Refuse kinds the policy denies the client's partner (asked once per partner)."""
        decisions = decided.get(client.partner_id)
        if decisions is None:
            decisions = decide_kinds(
                self.services.policy,
                client.partner_id,
                client.partner.status,
                partner_sector=client.partner.sector,
            )
            decided[client.partner_id] = decisions
        denial = decisions.denial(kinds)
        if denial is not None:
            raise refusal(
                tuple(decisions.decisions.values()),
                f"the policy refuses keys of these kinds to {client.partner_id}: {denial[1]}",
                field=f"{where}.kinds",
                reasons=("kind-not-allowed",) + denial[0],
                audited=False,
            )

    def _envelopes(self, manifest: mf.Manifest, uploaded: list[EnvelopeIn]) -> list[KeyEnvelope]:
        """Check every entry and blob; build the rows (not yet added)."""
        blobs = self._blobs(manifest, uploaded)
        now = self.services.clock.now()
        rows: list[KeyEnvelope] = []
        decided: dict[str, KindDecisions] = {}
        for index, entry in enumerate(manifest.entries):
            where = f"manifest.envelopes.{index}"
            sealed = self._check_sealed(entry, blobs.get(entry.client_id), where)
            client = self._recipient(entry, where)
            self._check_kinds(client, entry.kinds, where, decided)
            rows.append(
                KeyEnvelope(
                    epoch=manifest.epoch,
                    client_id=client.id,
                    partner_id=client.partner_id,
                    recipient_key_id=entry.recipient_key_id,
                    kinds=",".join(entry.kinds),
                    sealed=sealed,
                    sha256=entry.sha256,
                    created_at=now,
                )
            )
        return rows

    def _store_manifest(
        self, manifest: mf.Manifest, signature: bytes, rows: list[KeyEnvelope]
    ) -> KeyManifest:
        stored = KeyManifest(
            epoch=manifest.epoch,
            kind=manifest.kind,
            body=manifest.body,
            signature=signature,
            sha256=manifest.sha256,
            custodian_key_id=manifest.custodian_key_id,
            created_at=self.services.clock.now(),
        )
        self.session.add(stored)
        self._flush()
        for row in rows:
            row.manifest_id = stored.id
        self.session.add_all(rows)
        self._flush()
        return stored

    def _flush(self) -> None:
        """Flush; a concurrent upload that won the same epoch or client is a conflict."""
        try:
            self.session.flush()
        except IntegrityError:
            raise ConflictError(
                "a concurrent upload for this epoch or client was stored first; list the "
                "epochs and retry if needed",
                field="manifest",
            ) from None

    def _existing_manifest(self, manifest_b64: str) -> KeyManifest | None:
        body = mf.b64decode(manifest_b64, field="manifest")
        return self.session.scalar(
            select(KeyManifest).where(KeyManifest.sha256 == hashlib.sha256(body).hexdigest())
        )

    def upload_epoch(self, client_id: str, body: EpochUpload) -> Upload:
        """Accept a new epoch (state pending) after verifying everything in it."""
        repeated = self._existing_manifest(body.manifest)
        if repeated is not None and repeated.kind == ManifestKind.EPOCH:
            row = self._epoch(repeated.epoch)
            return Upload(row, len(self._envelopes_of(repeated.id)), repeated.sha256, None)
        try:
            custodian = self._custodian_for(client_id)
            manifest = self._verified(body, custodian)
            if manifest.kind != ManifestKind.EPOCH:
                raise InvalidRequestError(
                    "a supplement goes to /v1/keys/epochs/{epoch}/envelopes", field="manifest.kind"
                )
            self._check_new_number(manifest.epoch)
            rows = self._envelopes(manifest, body.envelopes)
        except (InvalidRequestError, PermissionDeniedError) as error:
            raise self._refuse(
                AuditTag.KEY_EPOCH_DENY, error, refusal_code(error), envelopes=len(body.envelopes)
            ) from None
        epoch = KeyEpoch(
            epoch=manifest.epoch,
            state=EpochState.PENDING.value,
            spec=manifest.spec,
            custodian_key_id=custodian.key_id,
            created_at=self.services.clock.now(),
        )
        bind_epoch(epoch, self.services.pepper)
        self.session.add(epoch)
        self._flush()
        signature = mf.b64decode(body.signature, field="signature")
        self._store_manifest(manifest, signature, rows)
        receipt = self._record(
            AuditTag.KEY_EPOCH_CREATE,
            counts={"epoch": manifest.epoch, "envelopes": len(rows)},
            detail={
                "manifest_sha256": manifest.sha256,
                "custodian_key_id": custodian.key_id,
                "recipients": sorted(f"{r.partner_id}/{r.client_id}:{r.kinds}" for r in rows),
            },
        )
        return Upload(epoch, len(rows), manifest.sha256, receipt)

    def add_envelopes(self, client_id: str, epoch_number: int, body: EpochUpload) -> Upload:
        """A supplement: envelopes for clients that joined (or rotated keys) mid-epoch."""
        row = self._epoch(epoch_number)
        repeated = self._existing_manifest(body.manifest)
        if repeated is not None and repeated.epoch == epoch_number:
            return Upload(row, len(self._envelopes_of(repeated.id)), repeated.sha256, None)
        try:
            custodian = self._custodian_for(client_id)
            manifest = self._verified(body, custodian)
            if manifest.kind != ManifestKind.SUPPLEMENT or manifest.epoch != epoch_number:
                raise InvalidRequestError(
                    f"must be a supplement for epoch {epoch_number}", field="manifest.kind"
                )
            if row.state not in {EpochState.PENDING, EpochState.ACTIVE}:
                raise ConflictError(
                    f"epoch {epoch_number} is {row.state}; envelopes are only added to a "
                    "pending or active epoch",
                    field="epoch",
                )
            rows = self._envelopes(manifest, body.envelopes)
        except (InvalidRequestError, PermissionDeniedError, ConflictError) as error:
            raise self._refuse(
                AuditTag.KEY_EPOCH_DENY,
                error,
                refusal_code(error),
                epoch=epoch_number,
                envelopes=len(body.envelopes),
            ) from None
        replaced = 0
        for new in rows:
            old = self.session.scalar(
                select(KeyEnvelope).where(
                    KeyEnvelope.epoch == epoch_number, KeyEnvelope.client_id == new.client_id
                )
            )
            if old is not None:
                if old.recipient_key_id == new.recipient_key_id:
                    raise ConflictError(
                        f"client {new.client_id} already has an envelope for epoch "
                        f"{epoch_number} sealed to the same key",
                        field="manifest.envelopes",
                    )
                self.session.delete(old)
                replaced += 1
        self.session.flush()
        signature = mf.b64decode(body.signature, field="signature")
        self._store_manifest(manifest, signature, rows)
        receipt = self._record(
            AuditTag.KEY_ENVELOPE_ISSUE,
            counts={"epoch": epoch_number, "envelopes": len(rows), "replaced": replaced},
            detail={
                "manifest_sha256": manifest.sha256,
                "recipients": sorted(f"{r.partner_id}/{r.client_id}:{r.kinds}" for r in rows),
            },
        )
        return Upload(row, len(rows), manifest.sha256, receipt)

    def _envelopes_of(self, manifest_id: int) -> list[KeyEnvelope]:
        return list(
            self.session.scalars(select(KeyEnvelope).where(KeyEnvelope.manifest_id == manifest_id))
        )

    def _check_new_number(self, number: int) -> None:
        highest = self.session.scalar(select(func.max(KeyEpoch.epoch)))
        if highest is not None and number != highest + 1:
            raise ConflictError(
                f"the next epoch must be {highest + 1} (epochs are numbered in order)",
                field="manifest.epoch",
            )
        pending = self.session.scalar(
            select(KeyEpoch.epoch).where(KeyEpoch.state == EpochState.PENDING.value)
        )
        if pending is not None:
            raise ConflictError(
                f"epoch {pending} is still pending; activate or cancel it first",
                field="manifest.epoch",
            )
