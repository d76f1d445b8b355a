"""The listening socket: a busy port is a clear error naming ``--port``; forwarded headers
count only when they come from the configured proxy's address."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request

from gateway.config import load_settings
from gateway.errors import ConfigurationError
from gateway.server import BackgroundServer, bind_listener


def test_a_port_in_use_is_refused_with_the_option_to_change_it() -> None:
    first = bind_listener("127.0.0.1", 0)
    try:
        port = int(first.getsockname()[1])
        with pytest.raises(ConfigurationError) as refused:
            bind_listener("127.0.0.1", port)
        assert refused.value.field == "port"
        assert "--port" in str(refused.value)
        assert f"PORT={port + 1}" in str(refused.value)
    finally:
        first.close()
    bind_listener("127.0.0.1", port).close()  # free again once the first one is gone


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def _echo_app() -> FastAPI:
    app = FastAPI()

    @app.get("/seen")
    def seen(request: Request) -> dict[str, str]:
        client = request.client.host if request.client else ""
        return {"scheme": request.url.scheme, "client": client}

    return app


def _seen(forwarded_allow_ips: list[str]) -> dict[str, str]:
    with BackgroundServer(_echo_app(), forwarded_allow_ips=forwarded_allow_ips) as server:
        answer: dict[str, str] = httpx.get(f"{server.url}/seen", headers=FORWARDED).json()
        return answer


def test_forwarded_headers_are_ignored_unless_a_proxy_is_configured() -> None:
    # uvicorn alone would trust them from 127.0.0.1: a local client could claim https.
    assert _seen([]) == {"scheme": "http", "client": "127.0.0.1"}


def test_forwarded_headers_from_the_configured_proxy_are_applied() -> None:
    assert _seen(["127.0.0.1"]) == {"scheme": "https", "client": "203.0.113.7"}


def test_forwarded_headers_from_another_address_are_ignored() -> None:
    assert _seen(["192.0.2.10"]) == {"scheme": "http", "client": "127.0.0.1"}


def test_the_proxy_setting_takes_addresses_only() -> None:
    assert load_settings(forwarded_allow_ips=["10.0.0.0/8", "::1"]).forwarded_allow_ips
    with pytest.raises(ConfigurationError, match="FORWARDED_ALLOW_IPS"):
        load_settings(forwarded_allow_ips=["proxy.example"])
