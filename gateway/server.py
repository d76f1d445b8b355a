"""Serving the app with uvicorn's standard extras, in the foreground or a background thread.

The background form serves the demo's own HTTP calls and the end-to-end tests: the same
server a deployment runs, on a loopback port, so nothing in between is simulated.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import uvicorn

from gateway.errors import ConfigurationError

if TYPE_CHECKING:
    from fastapi import FastAPI

# uvicorn's supervisor kills a worker that does not answer its ping within this many seconds
# (uvicorn's default: 5) and starts another; a cold worker importing and building the app on
# a busy machine takes longer and was killed and restarted for ever, never serving.
WORKER_PING_SECONDS = 60


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def bind_listener(host: str, port: int) -> socket.socket:
    """The listening socket, bound now: a port in use is a clear error before anything starts.

    Binding before the data directory or database is touched means a second gateway or demo
    on a busy port stops without harming the one that is serving; the socket is then handed
    to uvicorn, so nothing else can take the port in between.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(2048)
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigurationError(
                f"port {port} on {host} is in use (another gateway or demo is serving there); "
                f"choose another with --port (make demo PORT={_another(port)})",
                field="port",
            ) from None
        raise ConfigurationError(
            f"cannot listen on {host}:{port}: {exc.strerror}", field="host"
        ) from None
    listener.set_inheritable(True)
    return listener


def _another(port: int) -> int:
    return port + 1 if port < 65535 else 8001


def proxy_options(forwarded_allow_ips: Sequence[str]) -> dict[str, Any]:
    """uvicorn's forwarded-header options: trusted only from the listed proxy addresses.

    uvicorn on its own trusts ``X-Forwarded-*`` from 127.0.0.1 (or ``$FORWARDED_ALLOW_IPS``);
    the gateway trusts them from nobody unless ``PPSGATE_FORWARDED_ALLOW_IPS`` names the
    TLS-terminating proxy, so a client that reaches the socket directly cannot claim https
    or another address.
    """
    if not forwarded_allow_ips:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(forwarded_allow_ips)}


def _config(
    app: FastAPI, host: str, port: int, forwarded_allow_ips: Sequence[str] = ()
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="on",
        **proxy_options(forwarded_allow_ips),
    )


class BackgroundServer:
    """uvicorn in a daemon thread; ``start`` returns once the socket accepts connections."""

    def __init__(
        self,
        app: FastAPI,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        listener: socket.socket | None = None,
        forwarded_allow_ips: Sequence[str] = (),
    ) -> None:
        self.host = host
        if listener is not None:
            self.port = int(listener.getsockname()[1])
        else:
            self.port = port or free_port(host)
        self._server = uvicorn.Server(_config(app, self.host, self.port, forwarded_allow_ips))
        sockets = [listener] if listener is not None else None
        self._thread = threading.Thread(
            target=self._server.run, args=(sockets,), name="ppsgate-server", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigurationError(f"gateway could not start on {self.host}:{self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def serve_forever(
    app: FastAPI, host: str, port: int, forwarded_allow_ips: Sequence[str] = ()
) -> None:
    """Serve in the foreground until Ctrl-C (a port in use is a clear error first)."""
    listener = bind_listener(host, port)
    try:
        uvicorn.Server(_config(app, host, port, forwarded_allow_ips)).run(sockets=[listener])
    finally:
        listener.close()
