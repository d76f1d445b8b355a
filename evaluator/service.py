"""Evaluating one batch: check it, charge the quota, evaluate with one batched proof."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker
from voprf import ristretto

from connectors.canonical import Kind
from connectors.oprf.suite import (
    ELEMENT_BYTES,
    SUITE,
    decode_blob,
    split_binding_batch,
    split_elements,
)
from evaluator.auth import AccessTokenVerifier, Caller
from evaluator.config import EvaluatorSettings
from evaluator.errors import BadRequestError, PayloadTooLargeError, QuotaExceededError
from evaluator.keyring import KeyRing
from evaluator.proofs import ProofVerifier
from evaluator.quota import Charge, charge_quota

logger = logging.getLogger("evaluator")


class EvaluateRequest(BaseModel):
    """A batch of blinded elements of one type for one epoch."""

    model_config = ConfigDict(extra="forbid")

    epoch: Annotated[int, Field(ge=0, le=2**31 - 1)]
    kind: Kind
    blinded_elements: str = Field(
        description="Standard base64 of the concatenated 32-byte ristretto255 encodings."
    )


class EvaluateResponse(BaseModel):
    """The evaluated elements in request order and one DLEQ proof over the whole batch."""

    suite: str
    evaluator: str
    epoch: int
    kind: Kind
    count: int
    evaluated_elements: str
    proof: str


@dataclass
class EvaluatorState:
    """Everything a request needs; built once in ``create_app``."""

    settings: EvaluatorSettings
    keyring: KeyRing
    verifier: AccessTokenVerifier
    session_factory: sessionmaker[Session]
    clock: Callable[[], float]
    proofs: ProofVerifier | None = None  # set when partners' keys are pinned here


def _blinded_inputs(text: str, max_batch: int) -> list[ristretto.BlindedInput]:
    if len(text) > 4 * ((max_batch * ELEMENT_BYTES + 2) // 3):
        raise PayloadTooLargeError(
            f"more than {max_batch} elements in one request; split the batch",
            field="blinded_elements",
        )
    try:
        raw = decode_blob(text, unit=ELEMENT_BYTES, field="blinded_elements")
    except ValueError as exc:
        raise BadRequestError(str(exc).split(": ", 1)[1], field="blinded_elements") from None
    elements = split_elements(raw)
    if len(elements) > max_batch:
        raise PayloadTooLargeError(
            f"{len(elements)} elements exceed the limit of {max_batch} per request",
            field="blinded_elements",
        )
    inputs = []
    for index, element in enumerate(elements):
        try:
            inputs.append(ristretto.BlindedInput.deserialize(element))
        except ValueError:
            raise BadRequestError(
                f"element {index} is not a valid ristretto255 element (or is the identity)",
                field="blinded_elements",
            ) from None
    return inputs


def evaluate_batch(
    state: EvaluatorState, caller: Caller, request_id: str, request: EvaluateRequest
) -> EvaluateResponse:
    """Refuse before charging anything if the epoch is unknown or an element is invalid."""
    settings = state.settings
    evaluator = state.keyring.evaluator(request.epoch, request.kind)
    inputs = _blinded_inputs(request.blinded_elements, settings.max_batch)
    charge = Charge(
        caller=caller,
        request_id=request_id,
        epoch=request.epoch,
        kind=request.kind.value,
        count=len(inputs),
    )
    now = state.clock()
    try:
        charge_quota(
            state.session_factory,
            charge,
            limit=settings.quota_for(caller.partner_id),
            window_seconds=settings.quota_window_seconds,
            now=now,
        )
    except QuotaExceededError:
        logger.info(
            "refused partner=%s client=%s epoch=%d kind=%s count=%d request_id=%s",
            caller.partner_id,
            caller.client_id,
            request.epoch,
            request.kind.value,
            len(inputs),
            request_id,
        )
        raise
    evaluated, proof = split_binding_batch(evaluator.evaluate_batch(inputs).serialize())
    logger.info(
        "evaluated partner=%s client=%s epoch=%d kind=%s count=%d request_id=%s",
        caller.partner_id,
        caller.client_id,
        request.epoch,
        request.kind.value,
        len(inputs),
        request_id,
    )
    return EvaluateResponse(
        suite=SUITE,
        evaluator=settings.name,
        epoch=request.epoch,
        kind=request.kind,
        count=len(inputs),
        evaluated_elements=base64.b64encode(evaluated).decode("ascii"),
        proof=base64.b64encode(proof).decode("ascii"),
    )
