"""FastAPI dependencies for the app-wide services; routes never construct services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", "-"))


ServicesDep = Annotated[Services, Depends(get_services)]
RequestIdDep = Annotated[str, Depends(get_request_id)]
