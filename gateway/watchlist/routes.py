"""HTTP routes for watch lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from gateway.auth.deps import require_scopes
from gateway.auth.principal import Principal
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.watchlist.schemas import UnwatchRequest, UnwatchResponse, WatchRequest, WatchResponse
from gateway.watchlist.service import add_entries, remove_entries

router = APIRouter(prefix="/v1/watchlist", tags=["watch lists"])
Watcher = Annotated[Principal, Depends(require_scopes("watchlist:write"))]


@router.put(
    "",
    response_model=WatchResponse,
    response_model_exclude_none=True,
    summary="Watch tokens of your own customers",
)
def watch(
    body: WatchRequest, principal: Watcher, services: ServicesDep, request_id: RequestIdDep
) -> WatchResponse:
    """Adding an entry that exists is harmless (status ``existing``): PUT is idempotent."""
    with transaction(services.session_factory) as session:
        return add_entries(session, services, principal, request_id, body)


@router.delete("", response_model=UnwatchResponse, summary="Stop watching entries")
def unwatch(
    body: UnwatchRequest, principal: Watcher, services: ServicesDep, request_id: RequestIdDep
) -> UnwatchResponse:
    with transaction(services.session_factory) as session:
        return remove_entries(session, services, principal, request_id, body)
