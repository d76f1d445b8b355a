"""HTTP routes for indicator submission."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from sqlalchemy.exc import IntegrityError

from gateway import idempotency
from gateway.auth.deps import require_scopes
from gateway.auth.principal import Principal
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.errors import ConflictError
from gateway.indicators.retraction import RetractRequest, RetractResponse, retract
from gateway.indicators.schemas import SubmitRequest, SubmitResponse
from gateway.indicators.service import submit_batch

router = APIRouter(prefix="/v1/indicators", tags=["indicators"])
Writer = Annotated[Principal, Depends(require_scopes("indicators:write"))]


@router.post("", response_model=SubmitResponse, summary="Submit a batch of indicators")
def submit(
    body: SubmitRequest,
    principal: Writer,
    services: ServicesDep,
    request_id: RequestIdDep,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Response:
    """Store up to 10,000 indicators; the batch and its audit entry are atomic.

    With an ``Idempotency-Key`` a retry returns the first answer and changes nothing.
    """
    if idempotency_key is None:
        with transaction(services.session_factory) as session:
            payload = submit_batch(session, services, principal, request_id, body).model_dump_json()
        return Response(payload, media_type="application/json")

    idempotency.check_key(idempotency_key)
    digest = idempotency.body_digest(body.model_dump_json().encode())
    try:
        with transaction(services.session_factory) as session:
            stored = idempotency.replay(session, principal.partner_id, idempotency_key, digest)
            if stored is None:
                result = submit_batch(session, services, principal, request_id, body)
                stored = (200, result.model_dump_json())
                idempotency.remember(
                    session,
                    principal.partner_id,
                    idempotency_key,
                    digest,
                    status=stored[0],
                    body=stored[1],
                )
    except IntegrityError:
        # Two concurrent requests with one key: the loser replays the winner's answer.
        with transaction(services.session_factory) as session:
            stored = idempotency.replay(session, principal.partner_id, idempotency_key, digest)
        if stored is None:
            raise ConflictError(
                "a concurrent request with this Idempotency-Key failed; retry",
                field="Idempotency-Key",
            ) from None
    return Response(stored[1], status_code=stored[0], media_type="application/json")


@router.post("/retract", response_model=RetractResponse, summary="Retract your own indicators")
def retract_indicators(
    body: RetractRequest, principal: Writer, services: ServicesDep, request_id: RequestIdDep
) -> RetractResponse:
    """Everyone who was told about a retracted indicator receives a retraction notice."""
    with transaction(services.session_factory) as session:
        return retract(session, services, principal, request_id, body)
