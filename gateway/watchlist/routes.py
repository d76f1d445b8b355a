"""HTTP routes for watch lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from gateway.pipeline import Caller, caller
from gateway.watchlist.schemas import UnwatchRequest, UnwatchResponse, WatchRequest, WatchResponse
from gateway.watchlist.service import add_entries, remove_entries

router = APIRouter(prefix="/v1/watchlist", tags=["watch lists"])
Watcher = Annotated[Caller, Depends(caller("watchlist:write"))]


@router.put(
    "",
    response_model=WatchResponse,
    response_model_exclude_none=True,
    summary="Watch tokens of your own customers",
)
def watch(body: WatchRequest, watcher: Watcher) -> WatchResponse:
    """Adding an entry that exists is harmless (status ``existing``): PUT is idempotent."""
    return watcher.act(add_entries, body)


@router.delete("", response_model=UnwatchResponse, summary="Stop watching entries")
def unwatch(body: UnwatchRequest, watcher: Watcher) -> UnwatchResponse:
    with watcher.transaction() as ctx:
        return remove_entries(ctx, body)
