"""An audit reader's credentials for ``ppsgate audit verify|proof --url``: partner-side code.

A privacy officer verifies the log from their own machine, signing in with their own
connector client (``private_key_jwt``) to read the entries they are entitled to. That needs
their connector key store, which holds keys a gateway must never hold; so, like the demo's
partners, this one module is the connector's code running beside the gateway CLI, and the
served gateway never imports it (``tests/unit/gateway/keys/test_no_decryption.py``).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from connectors.client import GatewayClient
from connectors.errors import ConnectorError
from connectors.keystore import load_keystore
from gateway.errors import InvalidRequestError


class ReaderAuth(httpx.Auth):
    """Bearer tokens of an audit reader's client (``audit:read``), renewed as they expire."""

    def __init__(self, gateway: GatewayClient) -> None:
        self.gateway = gateway

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        try:
            token = self.gateway.access_token()
        except ConnectorError as exc:
            raise InvalidRequestError(
                f"cannot sign in as {self.gateway.client_id}: {exc}", field="--client-id"
            ) from None
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


@contextmanager
def reader_auth(
    url: str, client_id: str, keystore: Path, passphrase: str | None
) -> Iterator[ReaderAuth]:
    """Sign in at ``url`` as the audit reader ``client_id`` with its key store."""
    try:
        keys = load_keystore(keystore, passphrase=passphrase)
    except ConnectorError as exc:
        raise InvalidRequestError(str(exc), field="--keystore") from None
    with GatewayClient(url, client_id, keys, scopes=["audit:read"]) as gateway:
        yield ReaderAuth(gateway)
