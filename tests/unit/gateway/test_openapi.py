"""The OpenAPI document describes the problem responses the gateway really sends."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from gateway.openapi import (
    PROBLEM,
    VALIDATION_PROBLEM,
    add_problem_responses,
    install_problem_responses,
)
from gateway.problems import PROBLEM_JSON


class Body(BaseModel):
    name: str


Token = Annotated[HTTPAuthorizationCredentials, Depends(HTTPBearer())]


def tiny_app() -> FastAPI:
    app = FastAPI()

    @app.post("/secured")
    def secured(body: Body, _token: Token) -> dict[str, str]:
        return {"name": body.name}

    @app.get("/public")
    def public() -> dict[str, str]:
        return {}

    install_problem_responses(app)
    return app


def schema_of(responses: dict[str, Any], status: str) -> str:
    return str(responses[status]["content"][PROBLEM_JSON]["schema"]["$ref"])


def test_every_operation_documents_problems() -> None:
    document = tiny_app().openapi()
    schemas = document["components"]["schemas"]
    assert {PROBLEM, VALIDATION_PROBLEM} <= set(schemas)
    assert "HTTPValidationError" not in schemas
    secured = document["paths"]["/secured"]["post"]["responses"]
    public = document["paths"]["/public"]["get"]["responses"]
    assert schema_of(secured, "422").endswith(VALIDATION_PROBLEM)
    assert {"401", "403", "413", "429", "default"} <= set(secured)
    assert "Retry-After" in secured["429"]["headers"]
    assert schema_of(public, "default").endswith(PROBLEM)
    assert not {"401", "403", "413", "429"} & set(public)
    assert "application/json" in secured["200"]["content"]


def test_rewriting_is_idempotent() -> None:
    document = tiny_app().openapi()
    assert add_problem_responses(document) == tiny_app().openapi()
