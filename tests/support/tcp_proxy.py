"""A TCP relay on a loopback port, to simulate a database outage without touching the server.

The machine's PostgreSQL serves other engineers, so tests never stop it. Instead the gateway
connects through this proxy, and the test cuts and restores the path:

* ``cut("refuse")`` — as when PostgreSQL is stopped: open connections are reset and new ones
  are refused;
* ``cut("stall")`` — as when the server host stops answering: open connections are reset and
  new ones are accepted but never answered, so clients wait for their own timeouts;
* ``restore()`` — relay again on the same port.

It runs its own asyncio loop in a daemon thread and listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, Literal

Mode = Literal["relay", "refuse", "stall"]


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.mode: Mode = "relay"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.connections = 0

    def _run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def start(self) -> TcpProxy:
        self._thread.start()
        self._run(self._listen())
        return self

    def cut(self, mode: Literal["refuse", "stall"]) -> None:
        self._run(self._cut(mode))

    def restore(self) -> None:
        self._run(self._restore())

    def stop(self) -> None:
        self._run(self._cut("refuse"))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self, mode: Literal["refuse", "stall"]) -> None:
        self.mode = mode
        if mode == "refuse" and self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()  # RST, like a server that went away
        self._open.clear()

    async def _restore(self) -> None:
        for writer in list(self._open):  # stalled connections end with the outage
            writer.transport.abort()
        self._open.clear()
        self.mode = "relay"
        if self._server is None:
            await self._listen()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._open.add(writer)
        if self.mode != "relay":
            return  # stall: hold the connection open and say nothing
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            self._open.discard(writer)
            return
        self._open.add(up_writer)
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )
        self._open.discard(writer)
        self._open.discard(up_writer)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
