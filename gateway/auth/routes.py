"""HTTP routes of the authorization server: token endpoint, JWKS and server metadata.

The token endpoint answers refusals with a problem+json body that also carries the RFC 6749
``error`` / ``error_description`` members, so standard OAuth clients and people reading the
body both learn what went wrong (``reasons`` holds our stable reason code). Scope refusals
are answered 403 rather than RFC 6749's 400: the client is known, it is just not allowed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from gateway.auth.deps import TokenKeyDep
from gateway.auth.server import AUTH_METHOD, GRANT_TYPE
from gateway.auth.token_endpoint import TokenOutcome, audit_request_refusal, issue_token
from gateway.deps import RequestIdDep, ServicesDep
from gateway.errors import InvalidRequestError
from gateway.problems import problem
from gateway.scopes import Scope

router = APIRouter(tags=["authentication"])

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
TOKEN_FORM_FIELDS = frozenset(
    {"grant_type", "scope", "client_id", "client_assertion", "client_assertion_type", "resource"}
)
MAX_FIELD_LENGTH = 8192
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a path, not a secret)


async def _read_token_form(request: Request, seen: dict[str, str]) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE:
        raise InvalidRequestError(
            f"the token request must be {FORM_CONTENT_TYPE}", field="Content-Type"
        )
    form = await request.form()
    for name, value in form.multi_items():
        if not isinstance(value, str):
            raise InvalidRequestError("file uploads are not accepted", field=name)
        if name in seen:
            raise InvalidRequestError("parameters must not be repeated", field=name)
        if len(value) > MAX_FIELD_LENGTH:
            raise InvalidRequestError(f"longer than {MAX_FIELD_LENGTH} characters", field=name)
        if "\x00" in value:
            raise InvalidRequestError("must not contain a NUL character", field=name)
        if name in TOKEN_FORM_FIELDS:
            seen[name] = value
    return seen


async def _token_form(
    request: Request, services: ServicesDep, request_id: RequestIdDep
) -> dict[str, str]:
    """The token request's form; a refused form is audited like any token refusal."""
    seen: dict[str, str] = {}
    try:
        return await _read_token_form(request, seen)
    except InvalidRequestError as exc:
        await run_in_threadpool(
            audit_request_refusal, services, request_id, "invalid-request", claimed=seen
        )
        exc.audited = True
        raise


TokenForm = Annotated[dict[str, str], Depends(_token_form)]


def _response(outcome: TokenOutcome) -> JSONResponse:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if outcome.reason_code is None:
        return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)
    error = str(outcome.body.get("error", "invalid_request"))
    description = str(outcome.body.get("error_description", "")) or error
    if outcome.status == 401:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_client"'
    return problem(
        outcome.status,
        "unauthenticated" if outcome.status == 401 else "token-refused",
        "Authentication failed" if outcome.status == 401 else "Token request refused",
        description,
        field=outcome.field,
        extra={"error": error, "error_description": description, "reasons": [outcome.reason_code]},
        headers=headers,
    )


@router.post(
    TOKEN_PATH,
    summary="Get an access token (client credentials, private_key_jwt)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                FORM_CONTENT_TYPE: {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type", "client_assertion_type", "client_assertion"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": [GRANT_TYPE]},
                            "scope": {"type": "string"},
                            "client_assertion_type": {"type": "string"},
                            "client_assertion": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def token(
    form: TokenForm,
    request: Request,
    services: ServicesDep,
    key: TokenKeyDep,
    request_id: RequestIdDep,
) -> JSONResponse:
    """RFC 6749 client-credentials grant; the client signs an RFC 7523 assertion (ES256).

    The assertion's ``iss`` and ``sub`` are the client id, ``aud`` is this endpoint's URL,
    ``exp`` at most a few minutes ahead and ``jti`` unique: a replayed assertion is refused.
    """
    outcome = await run_in_threadpool(
        issue_token,
        session_factory=services.session_factory,
        settings=services.settings,
        key=key,
        audit=services.audit,
        clock=services.clock,
        request_id=request_id,
        form=form,
        headers=dict(request.headers),
    )
    return _response(outcome)


@router.get("/.well-known/jwks.json", summary="Public keys that sign access tokens")
def jwks(key: TokenKeyDep) -> dict[str, Any]:
    return key.jwks()


@router.get(
    "/.well-known/oauth-authorization-server",
    summary="Authorization server metadata (RFC 8414)",
)
def metadata(services: ServicesDep) -> dict[str, Any]:
    settings = services.settings
    return {
        "issuer": settings.public_url,
        "token_endpoint": settings.token_endpoint_url,
        "jwks_uri": f"{settings.public_url}/.well-known/jwks.json",
        "grant_types_supported": [GRANT_TYPE],
        "token_endpoint_auth_methods_supported": [AUTH_METHOD],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
        "scopes_supported": sorted(str(scope) for scope in Scope),
        "response_types_supported": [],
    }
