"""Structured logging with a request id bound to every line.

Log lines carry counts, codes and ids, never identifiers or tokens; the request id ties a
log line to its audit entry. No credential reaches the log at any level: libraries that log
credentials at DEBUG (Authlib logs every issued token) are held at INFO, and every line the
gateway's handler writes passes :class:`CredentialRedactor`, which replaces JWTs (access
tokens, client assertions), bearer tokens, session cookies and password, TOTP or assertion
form fields with ``[redacted]``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


REDACTED = "[redacted]"
# Libraries that log credentials below INFO: Authlib's grants log "Issue token {...}".
CREDENTIAL_LOGGING_LIBRARIES = ("authlib", "joserfc")
_CREDENTIALS = re.compile(
    r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*"  # JWS compact: tokens, assertions
    r"|(?i:bearer|dpop)\s+[A-Za-z0-9._~+/=-]+"  # Authorization header values
    r"|(?i:__Host-ppsgate-session|__Host-ppsgate-signin)=[^;\s'\"]+"  # console cookies
    r"|(?i:password|totp|client_assertion|access_token|secret|csrf_token|signin_token)"
    r"""['"]?\s*[:=]\s*(?:'[^']*'|"[^"]*"|[^\s&'",};]+)"""  # form or dict fields
)


def redact(text: str) -> str:
    """``text`` with every credential-looking part replaced by ``[redacted]``."""
    return _CREDENTIALS.sub(REDACTED, text)


class CredentialRedactor(logging.Filter):
    """Rewrite a record so that its message and traceback hold no credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update(fields)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, sort_keys=True, default=str)


class RateLimitedLog:
    """At most one line per ``interval_seconds``; the lines in between are only counted.

    For events an unauthenticated caller can trigger at will (refused token requests): the
    audit log records every one, the process log must not become a flooding lever.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval_seconds = interval_seconds
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._last: float | None = None
        self._suppressed = 0

    def log(self, level: int, message: str, *args: object) -> None:
        with self._lock:
            now = self.monotonic()
            if self._last is not None and now - self._last < self.interval_seconds:
                self._suppressed += 1
                return
            suppressed, self._suppressed, self._last = self._suppressed, 0, now
        self.logger.log(level, message + " (%d more since the last such line)", *args, suppressed)


def configure_logging(level: str, *, as_json: bool) -> None:
    """Configure the root logger once per process (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_ppsgate", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler._ppsgate = True  # type: ignore[attr-defined]
    handler.addFilter(_RequestIdFilter())
    handler.addFilter(CredentialRedactor())
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)
    # Client libraries log every request URL at INFO; the gateway's own lines are enough.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for library in CREDENTIAL_LOGGING_LIBRARIES:
        logging.getLogger(library).setLevel(logging.INFO)
