"""HTTP routes for indicator submission."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from sqlalchemy.exc import IntegrityError

from gateway import idempotency
from gateway.db import transaction
from gateway.errors import ConflictError
from gateway.indicators.retraction import RetractRequest, RetractResponse, retract
from gateway.indicators.schemas import SubmitRequest, SubmitResponse
from gateway.indicators.service import submit_batch
from gateway.pipeline import Caller, caller

router = APIRouter(prefix="/v1/indicators", tags=["indicators"])
Writer = Annotated[Caller, Depends(caller("indicators:write"))]


@router.post("", response_model=SubmitResponse, summary="Submit a batch of indicators")
def submit(
    body: SubmitRequest,
    writer: Writer,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Response:
    """Store up to 10,000 indicators; the batch and its audit entry are atomic.

    With an ``Idempotency-Key`` a retry returns the first answer and changes nothing.
    """
    if idempotency_key is None:
        with writer.transaction(body.purpose, body.legal_basis) as ctx:
            payload = submit_batch(ctx, body).model_dump_json()
        return Response(payload, media_type="application/json")
    partner_id = writer.principal.partner_id

    idempotency.check_key(idempotency_key)
    digest = idempotency.body_digest(body.model_dump_json().encode())
    try:
        with writer.transaction(body.purpose, body.legal_basis) as ctx:
            stored = idempotency.replay(ctx.session, partner_id, idempotency_key, digest)
            if stored is None:
                stored = (200, submit_batch(ctx, body).model_dump_json())
                idempotency.remember(
                    ctx.session,
                    partner_id,
                    idempotency_key,
                    digest,
                    status=stored[0],
                    body=stored[1],
                )
    except IntegrityError:
        # Two concurrent requests with one key: the loser replays the winner's answer.
        with transaction(writer.services.session_factory) as session:
            stored = idempotency.replay(session, partner_id, idempotency_key, digest)
        if stored is None:
            raise ConflictError(
                "a concurrent request with this Idempotency-Key failed; retry",
                field="Idempotency-Key",
            ) from None
    return Response(stored[1], status_code=stored[0], media_type="application/json")


@router.post("/retract", response_model=RetractResponse, summary="Retract your own indicators")
def retract_indicators(body: RetractRequest, writer: Writer) -> RetractResponse:
    """Everyone who was told about a retracted indicator receives a retraction notice."""
    return writer.act(retract, body)
