"""ASGI middleware that must act before any body is parsed.

The body limit is enforced while the body streams in (FastAPI sets none), so an oversized
upload is refused without being buffered; the request id is bound for logs and echoed in a
header so partners can quote it to the operator.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from gateway.errors import GatewayError
from gateway.logging import request_id_var

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: Told of every request the middleware itself refuses: (path, request id, reason code).
RefusalHook = Callable[[str, str, str], Awaitable[None]]

logger = logging.getLogger(__name__)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]

# The console's pages: scripts, styles and images only from the gateway itself (no inline
# script or style), no framing, forms post only back to it, no referrer.
CONSOLE_PREFIX = "/console"
CONSOLE_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]


class _BodyTooLargeError(BaseException):
    """Raised from ``receive`` when a streamed body passes the limit.

    A ``BaseException`` on purpose: FastAPI turns any ``Exception`` raised while it reads a
    body into a 400 "error parsing the body"; this must reach the middleware as a 413.
    """


class GatewayMiddleware:
    """Request id, security headers and the body-size limit, in one pass."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, on_refused: RefusalHook | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        token = request_id_var.set(request_id)
        path = str(scope.get("path", ""))
        console = path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")
        scope.setdefault("state", {})["request_id"] = request_id
        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                await self._too_large(send, request_id, path)
                return
            nul_field = _nul_field(scope)
            if nul_field is not None:
                await self._refused(path, request_id, "invalid-request")
                await _refuse(send, request_id, _nul_problem(nul_field))
                return
            received = 0

            async def limited_receive() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body_bytes:
                        raise _BodyTooLargeError
                return message

            started = False

            async def send_with_headers(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                    headers = list(message.get("headers", []))
                    headers.append((b"x-request-id", request_id.encode()))
                    existing = {name.lower() for name, _ in headers}
                    headers.extend(h for h in SECURITY_HEADERS if h[0] not in existing)
                    if console:
                        headers.extend(h for h in CONSOLE_HEADERS if h[0] not in existing)
                    message["headers"] = headers
                await send(message)

            try:
                await self.app(scope, limited_receive, send_with_headers)
            except _BodyTooLargeError:
                if not started:
                    await self._too_large(send, request_id, path)
        finally:
            request_id_var.reset(token)

    async def _refused(self, path: str, request_id: str, code: str) -> None:
        """Tell the hook (which audits); the refusal is answered even if auditing fails."""
        if self.on_refused is None:
            return
        try:
            await self.on_refused(path, request_id, code)
        except GatewayError as exc:  # e.g. storage down; the refused request has no effect
            logger.warning("refusal %s at %s not audited: %s", code, path, exc.code)

    async def _too_large(self, send: Send, request_id: str, path: str) -> None:
        await self._refused(path, request_id, "payload-too-large")
        await _refuse(
            send,
            request_id,
            {
                "type": "https://ppsgate.local/problems/payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "code": "payload-too-large",
                "detail": f"request body exceeds the limit of {self.max_body_bytes} bytes",
                "field": "body",
            },
        )


def _nul_field(scope: Scope) -> str | None:
    """The path or the first query parameter holding a NUL character, if any.

    No text the gateway handles may contain NUL (PostgreSQL cannot store it, and no
    identifier, purpose or name has one); refusing it at the door keeps both databases alike.
    """
    if "\x00" in str(scope.get("path", "")):
        return "path"
    raw = bytes(scope.get("query_string", b""))
    if b"%00" not in raw and b"\x00" not in raw:
        return None
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "") or "query"
    return "query"


def _nul_problem(field: str) -> dict[str, Any]:
    return {
        "type": "https://ppsgate.local/problems/invalid-request",
        "title": "Invalid request",
        "status": 400,
        "code": "invalid-request",
        "detail": f"{field}: must not contain a NUL character",
        "field": field,
    }


async def _refuse(send: Send, request_id: str, problem: dict[str, Any]) -> None:
    """Answer a problem+json before the app sees the request."""
    body = json.dumps({**problem, "request_id": request_id}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": problem["status"],
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
