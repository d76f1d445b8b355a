"""FastAPI dependencies for the app-wide services; routes never construct services.

They are ``async``: FastAPI runs a plain ``def`` dependency in the thread pool, a hand-off
that costs more CPU than these lookups; an ``async`` one runs on the event loop at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.services import Services


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", "-"))


ServicesDep = Annotated[Services, Depends(get_services)]
RequestIdDep = Annotated[str, Depends(get_request_id)]
