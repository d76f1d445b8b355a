"""HAProxy on a loopback port in front of several gateway processes (Debian's ``haproxy``).

The configuration is the one docs/scaling.md shows: round robin over the gateways, a health
check on ``/health`` every 500 ms, and a connection that fails before a request reached a
gateway (refused: the process is gone) is retried on another one. A request already inside
a gateway that dies is answered 502: the connector retries it with its Idempotency-Key.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gateway.server import free_port

HAPROXY_CONFIG = """\
global
    maxconn 1024

defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    retries 2
    option redispatch
    retry-on conn-failure

frontend gateway
    bind 127.0.0.1:{port}
    default_backend gateways

backend gateways
    balance roundrobin
    http-reuse never
    option httpchk GET /health
    http-check expect status 200
{servers}
"""


def available() -> str | None:
    return None if shutil.which("haproxy") else "HAProxy is not installed (Debian: haproxy)"


@dataclass
class Haproxy:
    backends: Sequence[int]  # the gateways' loopback ports
    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ppsgate-ha-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        servers = "\n".join(
            f"    server gateway{n} 127.0.0.1:{port} check inter 500ms fall 2 rise 2"
            for n, port in enumerate(self.backends, start=1)
        )
        return HAPROXY_CONFIG.format(port=self.port, servers=servers)

    def start(self, timeout: float = 30) -> Haproxy:
        path = self.directory / "haproxy.cfg"
        path.write_text(self.config(), encoding="utf-8")
        log = (self.directory / "haproxy.log").open("ab")
        self.process = subprocess.Popen(["haproxy", "-f", str(path), "-db"], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.directory / "haproxy.log").read_text()
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"HAProxy did not answer on {self.url}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        shutil.rmtree(self.directory, ignore_errors=True)
