"""The evaluator's application factory: every service built here from settings."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm import sessionmaker

from evaluator.auth import AccessTokenVerifier, TokenKeys
from evaluator.client_keys import ClientKeys
from evaluator.config import EvaluatorSettings, load_evaluator_settings
from evaluator.errors import (
    EvaluatorServiceError,
    PayloadTooLargeError,
    QuotaExceededError,
    UnauthenticatedError,
)
from evaluator.keyring import KeyRing
from evaluator.proofs import ProofVerifier
from evaluator.routes import router
from evaluator.service import EvaluatorState
from evaluator.storage import build_engine, create_schema

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def problem(error: EvaluatorServiceError) -> JSONResponse:
    """RFC 9457 problem+json naming the field and a stable reason code."""
    headers: dict[str, str] = {}
    if isinstance(error, QuotaExceededError):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, UnauthenticatedError):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    body = {
        "type": "about:blank",
        "title": error.title,
        "status": error.status,
        "detail": error.reason,
        "code": error.code,
        "reasons": [error.code],
        "field": error.field,
    }
    return JSONResponse(
        body, status_code=error.status, headers=headers, media_type="application/problem+json"
    )


class BodyLimit:
    """Refuse bodies over the limit before they are read into memory (FastAPI sets none)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = PayloadTooLargeError(
            f"the request body exceeds {self.max_body_bytes} bytes; send smaller batches",
            field="body",
        )
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body_bytes:
                await problem(too_large)(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body_bytes:
                raise too_large
            return message

        await self.app(scope, limited, send)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(EvaluatorServiceError)
    async def _service_error(_request: Request, exc: EvaluatorServiceError) -> JSONResponse:
        return problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        location = [str(part) for part in first.get("loc", ()) if part != "body"]
        error = EvaluatorServiceError(
            str(first.get("msg", "invalid request")), field=".".join(location) or None
        )
        error.status, error.code, error.title = 400, "invalid-request", "Invalid request"
        return problem(error)


def create_app(
    settings: EvaluatorSettings,
    *,
    token_keys: TokenKeys | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """Create one evaluator service; fails at start on a missing seed file or token key."""
    logging.basicConfig(level=settings.log_level)
    engine = build_engine(settings.effective_database_url)
    create_schema(engine)
    keys = token_keys or TokenKeys(
        jwks_file=settings.token_jwks_file, jwks_url=settings.token_jwks_url
    )
    state = EvaluatorState(
        settings=settings,
        keyring=KeyRing(settings.effective_seed_file),
        verifier=AccessTokenVerifier(
            keys,
            issuer=settings.token_issuer,
            audience=settings.audience,
            required_scope=settings.required_scope,
            clock=clock,
        ),
        session_factory=sessionmaker(engine, expire_on_commit=False),
        clock=clock,
        proofs=(
            ProofVerifier(ClientKeys(settings.client_keys_file), clock=clock)
            if settings.client_keys_file is not None
            else None
        ),
    )
    app = FastAPI(
        title="ppsgate evaluator",
        version="0.1.0",
        summary="RFC 9497 VOPRF key server for ppsgate hashing specification v2",
    )
    app.state.evaluator = state
    _install_handlers(app)
    app.include_router(router)
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)
    return app


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` (what ``ppsgate evaluator serve`` runs)."""
    return create_app(load_evaluator_settings())
