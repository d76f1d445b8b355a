"""The slice of the gateway client the workflows need, as a Protocol (tests can fake it)."""

from __future__ import annotations

from typing import Any, Protocol


class GatewayApi(Protocol):
    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one authenticated request and return the decoded JSON body.

        Raises :class:`connectors.errors.ConnectorError` (with the gateway's problem detail)
        for refusals; writes carry ``idempotency_key`` so a retry never acts twice.
        """
        ...
