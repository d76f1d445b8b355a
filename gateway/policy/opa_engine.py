"""The OPA server engine: decisions from an OPA sidecar over its REST API.

Used when ``PPSGATE_OPA_URL`` is set. The server runs the bundle ``ppsgate policy bundle``
wrote, whose data carries the bundle digest (``data.ppsgate.bundle``) and the reason catalog
(``data.ppsgate.reasons``); every decision document names the digest of the bundle that
made it, and the catalog is fetched again whenever that digest changes.

OPA answers an undefined decision with HTTP 200 and no ``result`` key; that, a transport
error, a timeout (``policy_timeout_seconds``, no retries) or a malformed document is a deny
with ``engine-unavailable``. Only a literal ``true`` allows.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gateway.errors import ConfigurationError
from gateway.policy.catalog import ReasonCatalog
from gateway.policy.decision import Decision, DecisionRequest
from gateway.policy.document import (
    UNAVAILABLE_DIGEST,
    MalformedDecisionError,
    read_decision,
    request_input,
    unavailable,
)
from gateway.policy.errors import PolicyBundleError, PolicyEngineError

if TYPE_CHECKING:
    from opa_client import OpaClient

logger = logging.getLogger(__name__)

# The per-request entry point (generated decisions plus the request's own checks); bundles
# from before it have only the full composition, which is asked for when it is undefined.
FAST_PACKAGE = "gateway/fast"
DECISION_PACKAGE = "gateway/decision"
DECISION_RULE_NAME = "decision"


def parse_opa_url(url: str) -> tuple[str, int, bool]:
    """(host, port, tls) of an OPA base URL such as ``http://127.0.0.1:8181``."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigurationError("must be an http(s) URL with a host", field="PPSGATE_OPA_URL")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ConfigurationError(
            "must be the server's base URL without a path (the /v1 API is added)",
            field="PPSGATE_OPA_URL",
        )
    tls = parts.scheme == "https"
    try:
        port = parts.port or (443 if tls else 8181)
    except ValueError:
        raise ConfigurationError("has an invalid port", field="PPSGATE_OPA_URL") from None
    return parts.hostname, port, tls


class OpaServerEngine:
    """A :class:`~gateway.policy.decision.PolicyEngine` backed by an OPA server."""

    def __init__(self, url: str, *, timeout_seconds: float = 1.0) -> None:
        self._host, self._port, self._tls = parse_opa_url(url)
        self.url = url.rstrip("/")
        self._timeout = timeout_seconds
        self._local = threading.local()
        self._lock = threading.Lock()
        self._catalog: ReasonCatalog | None = None
        self._digest = UNAVAILABLE_DIGEST
        try:
            self._refresh_catalog()
        except Exception as exc:  # noqa: BLE001 - the server may start after us; decide retries
            logger.warning("OPA at %s not ready yet: %s", self.url, exc)

    def _client(self) -> OpaClient:
        client: OpaClient | None = getattr(self._local, "client", None)
        if client is None:
            # Imported here: opa-python-client brings aiohttp and requests (~0.25 s), which
            # every gateway process and command paid while only an OPA deployment uses them.
            from opa_client import OpaClient  # noqa: PLC0415

            client = OpaClient(
                host=self._host,
                port=self._port,
                ssl=self._tls,
                timeout=self._timeout,
                retries=0,
            )
            self._local.client = client
        return client

    @property
    def digest(self) -> str:
        """Digest of the bundle the server last reported (``unavailable`` before that)."""
        return self._digest

    @property
    def catalog(self) -> ReasonCatalog | None:
        return self._catalog

    def _get(self, path: str) -> Any:
        body = self._client().get_data(path)
        return body["result"]

    def _refresh_catalog(self) -> None:
        bundle = self._get("ppsgate/bundle")
        reasons = self._get("ppsgate/reasons")
        if not isinstance(bundle, dict) or not isinstance(bundle.get("digest"), str):
            raise PolicyBundleError("data.ppsgate.bundle.digest is missing", field=self.url)
        if not isinstance(reasons, dict):
            raise PolicyBundleError("data.ppsgate.reasons is missing", field=self.url)
        catalog = ReasonCatalog.from_data(reasons)
        with self._lock:
            self._catalog = catalog
            self._digest = bundle["digest"]

    def evaluate(self, rule: str, input_document: dict[str, Any] | None = None) -> Any:
        """Evaluate any rule on the server (``data.a.b`` form); ``None`` when undefined."""
        path = rule.removeprefix("data.").replace(".", "/")
        try:
            body = self._client().query_rule(input_document or {}, path)
        except Exception as exc:  # noqa: BLE001 - reported to the operator as one error
            raise PolicyEngineError(f"OPA at {self.url}: {exc}") from None
        return body.get("result") if isinstance(body, dict) else None

    def _query(self, document: dict[str, Any]) -> Any:
        """The fast entry point's answer, or the full composition's for an older bundle."""
        client = self._client()
        body = client.query_rule(document, FAST_PACKAGE, DECISION_RULE_NAME)
        if isinstance(body, dict) and "result" in body:
            return body
        return client.query_rule(document, DECISION_PACKAGE, DECISION_RULE_NAME)

    def decide(self, request: DecisionRequest) -> Decision:
        """Decide one request; never raises, denies with ``engine-unavailable`` on failure."""
        started = time.perf_counter()
        try:
            body = self._query(request_input(request))
            if not isinstance(body, dict) or "result" not in body:
                raise MalformedDecisionError("undefined decision (no result from OPA)")
            result = body["result"]
            named = result.get("policy_digest") if isinstance(result, dict) else None
            if self._catalog is None or (isinstance(named, str) and named != self._digest):
                self._refresh_catalog()
            catalog = self._catalog
            if catalog is None or named != self._digest:
                raise MalformedDecisionError("decision digest does not match the server's bundle")
            decision = read_decision(result, catalog=catalog, expected_digest=None)
            elapsed = time.perf_counter() - started
            if elapsed > self._timeout:
                raise MalformedDecisionError(
                    f"decision took {elapsed:.3f}s, over the {self._timeout}s limit"
                )
            return decision
        except MalformedDecisionError as exc:
            return unavailable(self.digest, self._catalog, detail=str(exc), request=request)
        except Exception as exc:  # noqa: BLE001 - transport, HTTP and client errors fail closed
            detail = f"{type(exc).__name__}: {exc}"[:300]
            return unavailable(self.digest, self._catalog, detail=detail, request=request)
