"""HTTP routes of key custody (scope ``keys:custody``) and envelope delivery (``keys:read``).

The custodian's client registers its Ed25519 key, asks who may receive which kinds, uploads
signed epochs (and supplements), and activates or retires epochs. Partners' connectors list
epochs and download their own envelope; an envelope is served only to the client it is
sealed to. No route can reveal what an envelope contains: the gateway does not know.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from gateway.audit_trail.events import Actor
from gateway.auth.deps import require_scopes
from gateway.auth.principal import Principal
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.keys.eligibility import candidates, recipient_key_id
from gateway.keys.manifest import b64encode
from gateway.keys.schemas import (
    ActivateRequest,
    CustodianOut,
    CustodianRegistration,
    EnvelopeOut,
    EpochChange,
    EpochList,
    EpochUpload,
    Excluded,
    Recipient,
    RecipientList,
)
from gateway.keys.service import KeyCustody, epoch_out
from gateway.keys.uploads import EpochUploads
from gateway.scopes import Scope

router = APIRouter(prefix="/v1/keys", tags=["keys"])
Custodian = Annotated[Principal, Depends(require_scopes(Scope.KEYS_CUSTODY.value))]
Reader = Annotated[Principal, Depends(require_scopes(Scope.KEYS_READ.value))]
ReaderOrCustodian = Annotated[
    Principal, Depends(require_scopes(any_of=(Scope.KEYS_READ.value, Scope.KEYS_CUSTODY.value)))
]
EpochNumber = Annotated[int, Path(ge=1, le=1_000_000, description="Salt epoch number")]


@router.put("/custodian", response_model=CustodianOut, summary="Register the custodian's key")
def register_custodian(
    body: CustodianRegistration,
    principal: Custodian,
    services: ServicesDep,
    request_id: RequestIdDep,
) -> CustodianOut:
    """Register the Ed25519 public key that must sign every epoch (proof of possession)."""
    assert principal.client_id is not None
    with transaction(services.session_factory) as session:
        row = KeyCustody(session, services, principal.actor(request_id)).register_custodian(
            principal.client_id, body.public_key, body.proof
        )
        return CustodianOut(
            key_id=row.key_id,
            client_id=row.client_id,
            status=row.status,
            created_at=row.created_at,
        )


@router.get("/recipients", response_model=RecipientList, summary="Who may receive which kinds")
def recipients(principal: Custodian, services: ServicesDep) -> RecipientList:
    """Eligible clients with the kinds the policy allows, and why others are left out.

    The custodian seals only to clients whose X25519 keys it has pinned itself: this list
    says what the gateway and the policy allow, not whom to trust.
    """
    del principal
    with transaction(services.session_factory) as session:
        found = candidates(session, services.policy)
        listed: list[Recipient] = []
        excluded: list[Excluded] = []
        digest: str | None = None
        for candidate in found:
            client = candidate.client
            digest = candidate.policy_digest or digest
            if candidate.excluded is not None:
                excluded.append(
                    Excluded(
                        client_id=client.id, partner_id=client.partner_id, reason=candidate.excluded
                    )
                )
                continue
            listed.append(
                Recipient(
                    client_id=client.id,
                    partner_id=client.partner_id,
                    sector=client.partner.sector,
                    recipient_key_id=recipient_key_id(client) or "",
                    encryption_jwk=json.loads(client.encryption_jwk or "{}"),
                    kinds=list(candidate.kinds),
                )
            )
        return RecipientList(recipients=listed, excluded=excluded, policy_digest=digest)


@router.post(
    "/epochs",
    response_model=EpochChange,
    response_model_exclude_none=True,
    summary="Upload a new epoch (signed manifest and sealed envelopes)",
)
def upload_epoch(
    body: EpochUpload, principal: Custodian, services: ServicesDep, request_id: RequestIdDep
) -> EpochChange:
    """Verified before anything is stored; the epoch starts pending."""
    assert principal.client_id is not None
    with transaction(services.session_factory) as session:
        done = EpochUploads(session, services, principal.actor(request_id)).upload_epoch(
            principal.client_id, body
        )
        return EpochChange(
            epoch=epoch_out(done.epoch),
            envelopes=done.envelopes,
            manifest_sha256=done.manifest_sha256,
            receipt=done.receipt,
        )


@router.post(
    "/epochs/{n}/envelopes",
    response_model=EpochChange,
    response_model_exclude_none=True,
    summary="Add envelopes to an epoch",
)
def add_envelopes(
    n: EpochNumber,
    body: EpochUpload,
    principal: Custodian,
    services: ServicesDep,
    request_id: RequestIdDep,
) -> EpochChange:
    """A signed supplement for clients that joined or rotated their key mid-epoch."""
    assert principal.client_id is not None
    with transaction(services.session_factory) as session:
        done = EpochUploads(session, services, principal.actor(request_id)).add_envelopes(
            principal.client_id, n, body
        )
        return EpochChange(
            epoch=epoch_out(done.epoch),
            envelopes=done.envelopes,
            manifest_sha256=done.manifest_sha256,
            receipt=done.receipt,
        )


@router.post(
    "/epochs/{n}/activate",
    response_model=EpochChange,
    response_model_exclude_none=True,
    summary="Activate a pending epoch",
)
def activate(
    n: EpochNumber,
    principal: Custodian,
    services: ServicesDep,
    request_id: RequestIdDep,
    body: ActivateRequest | None = None,
) -> EpochChange:
    """The previous epoch stays valid for the overlap window (0 days: retired at once)."""
    with transaction(services.session_factory) as session:
        done = KeyCustody(session, services, principal.actor(request_id)).activate(
            principal.client_id, n, body.overlap_days if body else None
        )
        return EpochChange(
            epoch=epoch_out(done.epoch),
            retired=done.retired,
            purged=done.purged,
            receipt=done.receipt,
        )


@router.post(
    "/epochs/{n}/retire",
    response_model=EpochChange,
    response_model_exclude_none=True,
    summary="Retire an epoch now",
)
def retire(
    n: EpochNumber, principal: Custodian, services: ServicesDep, request_id: RequestIdDep
) -> EpochChange:
    """End a retiring epoch's overlap early (its data are purged) or cancel a pending one."""
    with transaction(services.session_factory) as session:
        done = KeyCustody(session, services, principal.actor(request_id)).retire_now(
            principal.client_id, n
        )
        return EpochChange(
            epoch=epoch_out(done.epoch),
            retired=done.retired,
            purged=done.purged,
            receipt=done.receipt,
        )


@router.get(
    "/epochs",
    response_model=EpochList,
    response_model_exclude_none=True,
    summary="List salt epochs and whether an envelope waits for you",
)
def list_epochs(principal: ReaderOrCustodian, services: ServicesDep) -> EpochList:
    with transaction(services.session_factory) as session:
        custody = KeyCustody(session, services, Actor(request_id="-"))
        reader = Scope.KEYS_READ.value in principal.scopes
        return EpochList(epochs=custody.list_epochs(principal.client_id if reader else None))


@router.get(
    "/epochs/{n}/envelope",
    response_model=EnvelopeOut,
    summary="Download your own sealed envelope for an epoch",
)
def fetch_envelope(
    n: EpochNumber, principal: Reader, services: ServicesDep, request_id: RequestIdDep
) -> EnvelopeOut:
    """Only the calling client's envelope; the download is audited."""
    with transaction(services.session_factory) as session:
        done = KeyCustody(session, services, principal.actor(request_id)).fetch_envelope(
            principal, n
        )
        envelope = done.envelope
        return EnvelopeOut(
            epoch=done.epoch.epoch,
            state=done.epoch.state,
            client_id=envelope.client_id,
            partner_id=envelope.partner_id,
            recipient_key_id=envelope.recipient_key_id,
            kinds=envelope.kinds.split(","),
            sealed=b64encode(envelope.sealed),
            sha256=envelope.sha256,
            manifest=b64encode(done.manifest.body),
            manifest_signature=b64encode(done.manifest.signature),
            custodian_key_id=done.manifest.custodian_key_id,
            receipt=done.receipt,
        )
