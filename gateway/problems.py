"""RFC 9457 problem+json responses for every error the API can return.

Domain errors map by their class attributes; request-validation errors name the first
offending field (``items.3.token``) and the reason, without echoing the submitted value,
because that value could be an identifier a partner sent by mistake.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from gateway.errors import (
    GatewayError,
    PermissionDeniedError,
    StorageUnavailableError,
    TooManyRequestsError,
)
from gateway.logging import request_id_var

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger(__name__)


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    field: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://ppsgate.local/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id_var.get(),
    }
    if field:
        body["field"] = field
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _gateway_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GatewayError)
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    reasons = getattr(exc, "reasons", ())
    if reasons:
        extra["reasons"] = list(reasons)
    if isinstance(exc, PermissionDeniedError) and exc.references:
        extra["legal_references"] = exc.legal_references()
    if isinstance(exc, TooManyRequestsError):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, StorageUnavailableError) and exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        # RFC 6750 section 3: a refused bearer token is answered with a challenge.
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'

    if exc.status >= 500:
        logger.warning("request failed: %s", exc.diagnostics())
    # A refused credential always concerns the Authorization header (RFC 6750).
    field = exc.field or ("Authorization" if exc.status == 401 else None)
    return problem(
        exc.status, exc.code, exc.title, exc.reason, field=field, extra=extra, headers=headers
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if _is_json_body_in_other_media_type(request, exc):
        return problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "the body must be JSON; send it with Content-Type: application/json",
            field="Content-Type",
        )
    errors = [
        {"field": _field_path(error.get("loc", ())), "reason": error.get("msg", "")}
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "reason": "invalid request"}
    return problem(
        422,
        "invalid-request",
        "Invalid request",
        f"{first['field']}: {first['reason']}",
        field=first["field"],
        extra={"errors": errors[:50]},
    )


def _is_json_body_in_other_media_type(request: Request, exc: RequestValidationError) -> bool:
    """A JSON body route got a body declared as something else (form, text, ...)."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not content_type or content_type == "application/json" or content_type.endswith("+json"):
        return False
    return any(tuple(error.get("loc", ())) == ("body",) for error in exc.errors())


# A body FastAPI could not parse at all: malformed JSON, not UTF-8, or nested too deeply.
_UNPARSABLE_BODY = "There was an error parsing the body"

# What a framework-level refusal is about: an unparsable body (400), an unknown path (404),
# a method the path does not have (405), a missing credential (401).
_HTTP_ERROR_FIELDS = {400: "body", 401: "Authorization", 404: "path", 405: "method"}


def _flat_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, including those of included routers."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat_routes(inner.routes)
        else:
            yield route


def allowed_methods(app: Any, path: str) -> list[str]:
    """Every method some route of ``path`` answers (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in _flat_routes(app.router.routes):
        pattern = getattr(route, "path_regex", None)
        route_methods = getattr(route, "methods", None)
        if pattern is not None and route_methods and pattern.match(path):
            methods.update(route_methods)
    return sorted(methods)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = allowed_methods(request.app, request.url.path)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    code = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated"}.get(
        exc.status_code, "http-error"
    )
    detail = str(exc.detail)
    if exc.status_code == 400 and detail == _UNPARSABLE_BODY:
        code, detail = "unparsable-body", "the body is not UTF-8 JSON, or is nested too deeply"
    return problem(
        exc.status_code,
        code,
        str(exc.detail),
        detail,
        field=_HTTP_ERROR_FIELDS.get(exc.status_code),
        headers=headers,
    )


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    logger.error("unexpected error %s", type(exc).__name__, exc_info=exc)
    return problem(500, "internal-error", "Internal error", "unexpected error; see the gateway log")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
