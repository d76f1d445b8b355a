"""Crypto worker processes: v2 blinding and proof checks on every core.

Blinding, checking and unblinding are about 90 % of a v2 connector's CPU (one blind, one
batched proof check per evaluator and one unblinding per identifier, about 310 µs with two
evaluators). libsodium releases the GIL while it multiplies, but the Python around each call
holds it, so threads alone leave a core idle. Each :class:`WorkerCrypto` is one spawned
process holding a :class:`~connectors.oprf.chunks.ChunkState`; the tokeniser blinds a chunk in
a worker, sends the elements along the chain from its own threads, has a worker check each
answer, and hands the last answer back to *the same* worker that blinded the chunk, which
alone holds its blinds (they never cross back to the connector). The messages carry inputs,
blinded and evaluated elements, proofs, public keys and tokens: the same things that already
cross the connector's own threads, and nothing that reaches disk.

A worker is a fresh interpreter running :func:`main` with one end of a socket pair, which
imports only the modules a worker runs (not the packages' ``__init__``): never
``fork`` (the connector has threads with open connections), and not ``multiprocessing``'s
``spawn`` either, which re-imports the parent's main module in every worker (a second or
more of CPU when that is a command line importing the gateway). It is stopped by
:meth:`WorkerCrypto.close`, and exits by itself when the connector's end of the pair closes.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from connectors.errors import ConnectorError
from connectors.oprf.answers import MalformedEvaluation, ProofRejected
from connectors.oprf.chunks import ChunkState

_STOP = None
_JOIN_SECONDS = 5.0
_SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding ``connectors``
# The worker's whole program: find this source tree first (as the connector did), then serve.
# ``connectors`` and ``connectors.oprf`` are entered as bare packages, without running their
# ``__init__`` (which import canonicalisation, HTTP and JOSE libraries the worker never uses:
# about 0.4 s of CPU per worker); the worker loads only the modules it runs.
_BOOT = """
import sys, types
root = sys.argv[1]
sys.path.insert(0, root)
for name in ("connectors", "connectors.oprf"):
    package = types.ModuleType(name)
    package.__path__ = [root + "/" + name.replace(".", "/")]
    sys.modules[name] = package
from connectors.oprf.workers import main
sys.exit(main(sys.argv[2:]))
"""


class CryptoWorkerError(ConnectorError):
    """A crypto worker process died or failed unexpectedly; the batch is not tokenised."""

    title = "Tokeniser worker failed"


def serve(conn: Connection) -> None:
    """Worker main loop: one request, one reply, until told to stop or the pipe closes."""
    state = ChunkState()
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is _STOP:
            return
        operation, arguments = message
        try:
            if operation == "blind":
                reply: tuple[Any, ...] = ("ok", state.blind(*arguments))
            elif operation == "verify":
                state.verify(*arguments)
                reply = ("ok", None)
            elif operation == "finalize":
                reply = ("ok", state.finalize(*arguments))
            elif operation == "discard":
                state.discard(*arguments)
                reply = ("ok", None)
            else:
                reply = ("failed", f"unknown operation {operation!r}")
        except MalformedEvaluation as malformed:
            reply = ("malformed", str(malformed))
        except ProofRejected as rejected:
            reply = ("rejected", str(rejected))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
            reply = ("failed", type(exc).__name__)
        conn.send(reply)


class WorkerCrypto:
    """:class:`~connectors.oprf.chunks.ChunkCrypto` in one worker process (thread-safe)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            self._process = subprocess.Popen(  # noqa: S603 - our interpreter, our module, no shell
                [sys.executable, "-c", _BOOT, str(_SOURCE_ROOT), str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
            )
        self._conn = Connection(ours.detach())
        self._lock = threading.Lock()
        self._closed = False

    @property
    def pid(self) -> int:
        return self._process.pid

    def _call(self, operation: str, *arguments: Any) -> Any:
        with self._lock:
            if self._closed:
                raise CryptoWorkerError("the tokeniser was closed")
            try:
                self._conn.send((operation, arguments))
                reply = self._conn.recv()
            except (EOFError, OSError) as exc:
                raise CryptoWorkerError(
                    f"crypto worker {self._process.pid} stopped ({type(exc).__name__}); "
                    f"exit code {self._process.poll()}"
                ) from None
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "malformed":
            raise MalformedEvaluation(reply[1])
        if reply[0] == "rejected":
            raise ProofRejected(reply[1])
        raise CryptoWorkerError(
            f"crypto worker {self._process.pid}: {operation} failed ({reply[1]})"
        )

    def blind(self, inputs: Sequence[bytes]) -> tuple[int, bytes]:
        handle, packed = self._call("blind", list(inputs))
        return int(handle), bytes(packed)

    def verify(self, sent: bytes, evaluated: bytes, proof: bytes, public_key: bytes) -> None:
        self._call("verify", sent, evaluated, proof, public_key)

    def finalize(self, handle: int, evaluated: bytes) -> list[str]:
        tokens: list[str] = self._call("finalize", handle, evaluated)
        return tokens

    def discard(self, handle: int) -> None:
        self._call("discard", handle)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(OSError):  # already gone: nothing to tell it
                self._conn.send(_STOP)
            self._conn.close()
        try:
            self._process.wait(_JOIN_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(_JOIN_SECONDS)


def main(argv: Sequence[str]) -> int:
    """A worker's entry point: serve the socket inherited as file descriptor ``argv[0]``."""
    if len(argv) != 1 or not argv[0].isdigit():
        sys.stderr.write("usage: <worker> FD (the tokeniser starts its workers itself)\n")
        return 2
    with Connection(int(argv[0])) as conn:
        serve(conn)
    return 0
