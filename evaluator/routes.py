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
from evaluator.proofs import record_use
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


def authenticated(
    request: Request,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
    dpop: Annotated[str | None, Header(alias="DPoP")] = None,
) -> Caller:
    """The gateway's token names the client; with pinned client keys, its proof must match."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise UnauthenticatedError(
            "send the gateway's access token as 'Authorization: Bearer <token>'",
            field="Authorization",
            code="token-missing",
        )
    token = authorization.split(" ", 1)[1].strip()
    caller = state.verifier.verify(token)
    if state.proofs is not None:
        proof = state.proofs.verify(
            dpop,
            caller=caller,
            access_token=token,
            method=request.method,
            url=_own_url(state, request),
        )
        record_use(state.session_factory, proof, now=int(state.clock()))
    return caller


def _own_url(state: EvaluatorState, request: Request) -> str:
    """The URL the partner called: its pinned URL (the token audience) plus the path.

    Behind a proxy the request's own URL may name an internal host, so the configured
    audience — this evaluator's URL as pinned — is preferred when there is one.
    """
    if state.settings.token_audience:
        return f"{state.settings.token_audience}{request.url.path}"
    return str(request.url).split("?", 1)[0]


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
