"""The OpenAPI document says what errors look like: RFC 9457 problem details everywhere.

FastAPI documents only the success response and a 422 in its own validation shape, while
the gateway answers every refusal as ``application/problem+json`` (``gateway.problems``).
This module rewrites the generated document so that it describes what the gateway really
sends: the 422 as a problem naming the field, 401/403/429 on operations that need an access
token (429 with ``Retry-After``), 413 where a body is accepted, and a problem as the
``default`` for anything else (404, 409, 503, ...). Connectors written against the schema,
and the fuzzer that checks responses against it, then see the same contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from gateway.problems import PROBLEM_JSON

PROBLEM = "Problem"
VALIDATION_PROBLEM = "ValidationProblem"
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": PROBLEM,
    "type": "object",
    "description": "RFC 9457 problem details. `field` names the offending part of the request "
    "(a body path such as `items.3.token`, a parameter or a header) and `detail` says why; "
    "submitted values are never echoed, since they could be identifiers.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable machine-readable error code."},
        "field": {"type": "string"},
        "request_id": {"type": "string", "description": "Quote it to the operator."},
        "reasons": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Policy reason codes of a refusal (see docs/policies.md).",
        },
        "legal_references": {
            "type": "array",
            "description": "What each reason of a policy refusal rests on (GDPR articles, "
            "national law, agreements), from the reason's METADATA, in the order of `reasons`.",
            "items": {
                "type": "object",
                "required": ["code", "references"],
                "properties": {
                    "code": {"type": "string"},
                    "references": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
    "additionalProperties": True,
}

_VALIDATION_SCHEMA: dict[str, Any] = {
    "title": VALIDATION_PROBLEM,
    "allOf": [{"$ref": f"#/components/schemas/{PROBLEM}"}],
    "type": "object",
    "required": ["field"],
    "properties": {
        "errors": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        }
    },
}


def _problem(description: str, schema: str = PROBLEM, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        **extra,
    }


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until the quota window ends.",
        "required": True,
        "schema": {"type": "string", "pattern": r"^[0-9]+$"},
    }
}


def add_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Document the problem responses on every operation (idempotent)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[PROBLEM] = _PROBLEM_SCHEMA
    schemas[VALIDATION_PROBLEM] = _VALIDATION_SCHEMA
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            responses["422"] = _problem(
                "Invalid request: `field` names the offending part; for a malformed body "
                "`errors` lists every problem.",
                VALIDATION_PROBLEM,
            )
            if "requestBody" in operation:
                responses.setdefault("413", _problem("The body exceeds the configured limit."))
            if operation.get("security"):
                responses.setdefault("401", _problem("Missing, invalid or expired access token."))
                responses.setdefault(
                    "403", _problem("Not allowed: the policy's reason codes are in `reasons`.")
                )
                responses.setdefault(
                    "429",
                    _problem("A quota for this purpose is used up.", headers=_RETRY_AFTER),
                )
            responses.setdefault(
                "default",
                _problem("Any other refusal or failure (404, 409, 503, ...), as problem details."),
            )
    return document


def install_problem_responses(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``) describe the problem responses."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        return add_problem_responses(generate())

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
