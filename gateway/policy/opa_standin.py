"""STAND-IN for an OPA server — for tests and demos only, never a production component.

The OPA binary cannot be downloaded on our machines, so the OPA path
(:class:`~gateway.policy.opa_engine.OpaServerEngine` via ``opa-python-client``) is tested
against this local stand-in. It serves the part of OPA's REST API the gateway and the
client use — ``/health``, ``/v1/data/{path}`` (GET, POST, PUT, DELETE) and
``/v1/policies/{id}`` (GET, PUT, DELETE) — and answers the way OPA does: an undefined
document is HTTP 200 with no ``result`` key, a policy that does not compile is HTTP 400
with OPA's error shape. Evaluation is done by the embedded regorus engine, so the
stand-in proves the HTTP path and fail-closed handling, not OPA's own evaluator.

All handlers are ``async`` so that they run on the server's single event-loop thread:
regorus engines may only be used by the thread that created them.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import regorus
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.policy.bundle import PolicyBundle
from gateway.policy.regorus_engine import engine_error_text

_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _rego_ref(path: str) -> str:
    """``a/b-c/d`` -> ``data.a["b-c"].d`` (bracket form for segments that are not names)."""
    ref = "data"
    for segment in (part for part in path.split("/") if part):
        ref += f".{segment}" if _SEGMENT.match(segment) else f"[{json.dumps(segment)}]"
    return ref


@dataclass
class StandInState:
    """What the stand-in holds: policies by id and the data document (like OPA's store)."""

    policies: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    # Test hook: seconds to wait before answering a data query (simulates a slow OPA).
    delay_seconds: float = 0.0
    _engine: regorus.Engine | None = None
    _error: str | None = None
    _stale: bool = False

    @classmethod
    def from_bundle(cls, bundle: PolicyBundle | None) -> StandInState:
        """Activate a bundle as ``opa run --server --bundle`` would (tests included)."""
        if bundle is None:
            return cls()
        return cls(
            policies={module.path: module.text for module in bundle.modules},
            data=bundle.engine_data(),
        )

    def invalidate(self) -> None:
        """Recompile before the next query (safe to call from any thread)."""
        self._stale = True

    def release(self) -> None:
        """Drop the engine; only on the event-loop thread that built it."""
        self._engine = None
        self._error = None
        self._stale = False

    def engine(self) -> regorus.Engine | None:
        """The compiled engine, built on the event-loop thread; ``None`` if it fails."""
        if self._stale:
            self.release()
        if self._engine is None and self._error is None:
            try:
                self._engine = self._compile(self.policies)
            except Exception as exc:  # noqa: BLE001 - reported like OPA: not activated
                self._error = engine_error_text(exc)
        return self._engine

    def _compile(self, policies: dict[str, str]) -> regorus.Engine:
        engine = regorus.Engine()
        for policy_id in sorted(policies):
            engine.add_policy(policy_id, policies[policy_id])
        engine.add_data_json(json.dumps(self.data))
        return engine

    def try_compile(self, policies: dict[str, str]) -> str | None:
        try:
            self._compile(policies)
        except Exception as exc:  # noqa: BLE001 - becomes OPA's 400 compile error
            return engine_error_text(exc)
        return None


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status)


def _policy_document(policy_id: str, raw: str) -> dict[str, Any]:
    match = _PACKAGE.search(raw)
    package = match.group(1).split(".") if match else []
    path = [{"type": "var", "value": "data"}] + [
        {"type": "string", "value": part} for part in package
    ]
    return {"id": policy_id, "raw": raw, "ast": {"package": {"path": path}, "rules": []}}


class _Api:
    """The REST handlers over one :class:`StandInState`."""

    def __init__(self, state: StandInState) -> None:
        self.state = state

    async def health(self, _: Request) -> Response:
        if self.state.engine() is None or not self.state.policies:
            return JSONResponse(
                {"error": self.state._error or "no bundle activated"}, status_code=500
            )
        return JSONResponse({})

    async def query(self, request: Request) -> Response:
        path = request.path_params.get("path", "")
        input_document: Any = None
        if request.method == "POST":
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
            except json.JSONDecodeError as exc:
                return _error(400, "invalid_parameter", f"body is not JSON: {exc}")
            if not isinstance(body, dict):
                return _error(400, "invalid_parameter", "body must be an object")
            input_document = body.get("input")
        if self.state.delay_seconds:
            await asyncio.sleep(self.state.delay_seconds)
        engine = self.state.engine()
        if engine is None:
            return JSONResponse({})  # nothing activated: every document is undefined
        try:
            if input_document is not None:
                engine.set_input_json(json.dumps(input_document))
            else:
                engine.set_input_json("{}")
            answer = json.loads(engine.eval_query_as_json(_rego_ref(path)))
        except Exception as exc:  # noqa: BLE001 - OPA reports evaluation errors as 500
            return _error(500, "internal_error", engine_error_text(exc))
        rows = answer.get("result") or []
        if not rows:
            return JSONResponse({})
        return JSONResponse({"result": rows[0]["expressions"][0]["value"]})

    async def put_data(self, request: Request) -> Response:
        segments = [part for part in request.path_params.get("path", "").split("/") if part]
        try:
            value = json.loads(await request.body())
        except json.JSONDecodeError as exc:
            return _error(400, "invalid_parameter", f"body is not JSON: {exc}")
        if not segments:
            if not isinstance(value, dict):
                return _error(400, "invalid_parameter", "root document must be an object")
            self.state.data = value
        else:
            node = self.state.data
            for part in segments[:-1]:
                node = node.setdefault(part, {})
            node[segments[-1]] = value
        self.state.invalidate()
        return Response(status_code=204)

    async def delete_data(self, request: Request) -> Response:
        segments = [part for part in request.path_params.get("path", "").split("/") if part]
        node: Any = self.state.data
        for part in segments[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not segments or not isinstance(node, dict) or segments[-1] not in node:
            return _error(404, "resource_not_found", "storage_not_found_error: document missing")
        del node[segments[-1]]
        self.state.invalidate()
        return Response(status_code=204)

    async def list_policies(self, _: Request) -> Response:
        return JSONResponse(
            {
                "result": [
                    _policy_document(pid, raw) for pid, raw in sorted(self.state.policies.items())
                ]
            }
        )

    async def policy(self, request: Request) -> Response:
        policy_id = request.path_params["policy_id"]
        if request.method == "GET":
            if policy_id not in self.state.policies:
                return _error(404, "resource_not_found", f"storage_not_found_error: {policy_id}")
            return JSONResponse(
                {"result": _policy_document(policy_id, self.state.policies[policy_id])}
            )
        if request.method == "DELETE":
            if self.state.policies.pop(policy_id, None) is None:
                return _error(404, "resource_not_found", f"storage_not_found_error: {policy_id}")
            self.state.invalidate()
            return JSONResponse({})
        raw = (await request.body()).decode("utf-8", errors="replace")
        candidate = {**self.state.policies, policy_id: raw}
        problem = self.state.try_compile(candidate)
        if problem is not None:
            return _error(
                400,
                "invalid_parameter",
                "error(s) occurred while compiling module(s)",
                errors=[{"code": "rego_parse_error", "message": problem}],
            )
        self.state.policies = candidate
        self.state.invalidate()
        return JSONResponse({})


def build_app(state: StandInState) -> Starlette:
    """The stand-in's ASGI app over ``state``."""
    api = _Api(state)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        # Drop the engine on the loop thread that built it (regorus engines are unsendable).
        state.release()

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/health", api.health, methods=["GET"]),
            Route("/v1/policies", api.list_policies, methods=["GET"]),
            Route("/v1/policies/", api.list_policies, methods=["GET"]),
            Route("/v1/policies/{policy_id:path}", api.policy, methods=["GET", "PUT", "DELETE"]),
            Route("/v1/data", api.query, methods=["GET", "POST"]),
            Route("/v1/data/{path:path}", api.query, methods=["GET", "POST"]),
            Route("/v1/data/{path:path}", api.put_data, methods=["PUT"]),
            Route("/v1/data/{path:path}", api.delete_data, methods=["DELETE"]),
        ],
    )


@dataclass
class StandInServer:
    """A running stand-in: its base URL and state (tests may change ``state.delay_seconds``)."""

    url: str
    state: StandInState
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Stop serving; afterwards connections to ``url`` are refused."""
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_standin(state: StandInState, *, host: str = "127.0.0.1") -> StandInServer:
    """Serve the STAND-IN on a free loopback port in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(build_app(state), log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="opa-standin", daemon=True
    )
    thread.start()
    for _ in range(500):
        if server.started:
            break
        if not thread.is_alive():
            raise RuntimeError("the OPA stand-in failed to start")
        threading.Event().wait(0.01)
    else:
        server.should_exit = True
        raise RuntimeError("the OPA stand-in did not start within 5 s")
    return StandInServer(url=f"http://{host}:{port}", state=state, server=server, thread=thread)


@contextmanager
def running_standin(state: StandInState) -> Iterator[StandInServer]:
    """Context manager around :func:`start_standin` that always stops the server."""
    server = start_standin(state)
    try:
        yield server
    finally:
        server.stop()
