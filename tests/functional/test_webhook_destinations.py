"""Webhooks cannot point the gateway at its own network (server-side request forgery).

Registration refuses internal destinations; delivery resolves the name again, checks every
address and connects to the checked one, so a name that later resolves to an internal
address (DNS rebinding) is refused at delivery too. Loopback is reachable only with the
test-only ``unsafe_webhook_loopback`` setting, which production refuses.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from connectors.client import GatewayAPIError
from gateway.alerts.destinations import DestinationRefusedError, refuse_address, resolve
from gateway.alerts.models import Alert, WebhookEndpoint
from gateway.alerts.webhooks import deliver_due
from gateway.config import load_settings
from gateway.db import transaction
from gateway.errors import ConfigurationError
from tests.support.gateway import Gateway, running_gateway

REFUSED_URLS = [
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/hook",
    "https://172.16.3.4/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://[::ffff:169.254.169.254]/hook",
    "https://[::ffff:7f00:1]/hook",
    "https://[fd00::1]/hook",
    "https://[fe80::1]/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://240.0.0.1/hook",
    "https://user:secret@hooks.bank.example/hook",
    "https://hooks.bank.example@127.0.0.1/hook",
    "http://127.0.0.1:9/hook",
    "http://localhost:9/hook",
    "http://hooks.bank.example/hook",
    "https://hooks.bank.example/\x00x",
    "https://hooks.bank.example:0/hook",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_internal_destinations_are_refused_by_default(url: str) -> None:
    with pytest.raises(DestinationRefusedError) as refused:
        resolve(url, allow_loopback=False)
    assert refused.value.field == "url"


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_the_unsafe_setting_opens_loopback_only(address: str) -> None:
    refuse_address(ipaddress.ip_address(address), allow_loopback=True)
    for internal in ("10.0.0.1", "169.254.169.254", "fd00::1", "::ffff:10.0.0.1"):
        with pytest.raises(DestinationRefusedError):
            refuse_address(ipaddress.ip_address(internal), allow_loopback=True)


def test_production_refuses_the_unsafe_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="PPSGATE_UNSAFE_WEBHOOK_LOOPBACK"):
        load_settings(
            env="production",
            data_dir=tmp_path,
            database_url="postgresql+psycopg://u@db/x",
            pepper_file=tmp_path / "p",
            audit_signing_key_file=tmp_path / "a",
            token_signing_key_file=tmp_path / "t",
            public_url="https://gateway.example",
            unsafe_webhook_loopback=True,
        )


def _fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, str]) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_resolving_inside_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"metadata.bank.example": "169.254.169.254"})
    with pytest.raises(DestinationRefusedError, match=r"169\.254\.169\.254"):
        resolve("https://metadata.bank.example/hook", allow_loopback=False)


def test_delivery_pins_the_checked_address_and_keeps_the_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fake_dns(monkeypatch, {"hooks.bank.example": "93.184.216.34"})
    target = resolve("https://hooks.bank.example:8443/in?x=1", allow_loopback=False)
    assert target.url == "https://93.184.216.34:8443/in?x=1"
    assert target.hostname == "hooks.bank.example"
    assert target.host_header == "hooks.bank.example:8443"


@pytest.mark.parametrize("url", ["https://10.1.2.3/hook", "http://127.0.0.1:9/hook"])
def test_registration_refuses_internal_destinations(gateway: Gateway, url: str) -> None:
    bank = gateway.partner("bank-a")
    with pytest.raises(GatewayAPIError) as refused:
        bank.call("PUT", "/v1/alerts/webhook", {"url": url})
    assert refused.value.status == 422
    assert refused.value.field == "url"
    assert refused.value.code == "webhook-destination-refused"


class _Receiver(BaseHTTPRequestHandler):
    hits: list[str]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).hits.append(self.headers["Host"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[HTTPServer, list[str]]]:
    hits: list[str] = []
    handler = type("Receiver", (_Receiver,), {"hits": hits})
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server, hits
    finally:
        server.shutdown()


def test_delivery_checks_the_destination_again(
    database_url: str,
    tmp_path: Path,
    receiver: tuple[HTTPServer, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A name that resolved to loopback at registration and to metadata later is refused."""
    server, hits = receiver
    port = server.server_port
    with running_gateway(database_url, tmp_path / "d", unsafe_webhook_loopback=True) as gateway:
        services = gateway.services
        bank = gateway.partner("bank-a")
        url = f"http://localhost:{port}/hook"
        bank.call("PUT", "/v1/alerts/webhook", {"url": url})
        _alert(gateway, "bank-a")
        with httpx.Client(timeout=5) as http:
            assert deliver_due(services, http) == 1
            assert hits == [f"localhost:{port}"]
            _fake_dns(monkeypatch, {"localhost": "169.254.169.254"})
            _alert(gateway, "bank-a")
            gateway.clock.current += timedelta(hours=2)
            assert deliver_due(services, http) == 0
        with transaction(services.session_factory) as session:
            endpoint = session.get(WebhookEndpoint, "bank-a")
            assert endpoint is not None
            assert "destination refused" in (endpoint.last_error or "")
        assert len(hits) == 1


def _alert(gateway: Gateway, partner_id: str) -> None:
    with transaction(gateway.services.session_factory) as session:
        last = session.scalars(select(Alert.seq).order_by(Alert.seq.desc()).limit(1)).first()
        session.add(
            Alert(
                seq=(last or 0) + 1,
                partner_id=partner_id,
                type="alert",
                token_hash=bytes(32),
                kind="iban",
                purpose="watchlist_alerts",
                disclosed="{}",
                created_at=gateway.clock.now(),
            )
        )
