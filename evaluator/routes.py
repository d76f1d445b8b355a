"""HTTP routes: evaluate a batch, publish public keys, health."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from connectors.canonical import Kind
from connectors.oprf.suite import SUITE, VOPRF_MODE
from evaluator.auth import Caller
from evaluator.errors import UnauthenticatedError
from evaluator.service import EvaluateRequest, EvaluateResponse, EvaluatorState, evaluate_batch

router = APIRouter()
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def get_state(request: Request) -> EvaluatorState:
    state: EvaluatorState = request.app.state.evaluator
    return state


StateDep = Annotated[EvaluatorState, Depends(get_state)]


def request_id(x_request_id: Annotated[str | None, Header()] = None) -> str:
    if x_request_id and _REQUEST_ID.match(x_request_id):
        return x_request_id
    return uuid.uuid4().hex


def authenticated(state: StateDep, authorization: Annotated[str | None, Header()] = None) -> Caller:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise UnauthenticatedError(
            "send the gateway's access token as 'Authorization: Bearer <token>'",
            field="Authorization",
            code="token-missing",
        )
    return state.verifier.verify(authorization.split(" ", 1)[1].strip())


@router.post(
    "/v2/evaluate",
    response_model=EvaluateResponse,
    summary="Evaluate a batch of blinded elements (RFC 9497 VOPRF, one batched proof)",
    tags=["evaluation"],
)
def evaluate(
    body: EvaluateRequest,
    state: StateDep,
    caller: Annotated[Caller, Depends(authenticated)],
    rid: Annotated[str, Depends(request_id)],
) -> EvaluateResponse:
    """Charged to the caller's partner quota; answers 429 with Retry-After when used up."""
    return evaluate_batch(state, caller, rid, body)


@router.get("/v2/keys", summary="This evaluator's public keys per epoch and type", tags=["keys"])
def public_keys(state: StateDep) -> dict[str, Any]:
    """For comparison only: partners must pin keys received out of band, not from here."""
    return {
        "evaluator": state.settings.name,
        "suite": SUITE,
        "mode": VOPRF_MODE,
        "types": [kind.value for kind in Kind],
        "public_keys": state.keyring.public_keys(),
    }


@router.get("/health", summary="Liveness", tags=["operations"])
def health(state: StateDep) -> dict[str, Any]:
    return {"status": "ok", "evaluator": state.settings.name, "epochs": state.keyring.epochs}
