"""The connector's HTTP client for the gateway API.

It authenticates the way every partner must — OAuth 2 client credentials with a
``private_key_jwt`` assertion (RFC 7523) signed ES256 by the connector's own key, a fresh
``jti`` for every token request — keeps the short-lived access token and fetches a new one
shortly before it expires. Calls that failed for transient reasons (connection errors,
timeouts, 429/502/503/504) are retried with exponential backoff and jitter, honouring
``Retry-After``. Every write carries an ``Idempotency-Key`` (the same one on each retry), so
the gateway answers a retried write with the first answer instead of doing it twice; that is
what makes retrying writes safe.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.oauth2.rfc7523 import private_key_jwt_sign
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from connectors.errors import ConnectorError
from connectors.keystore import ConnectorKeys

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 60.0


class GatewayAPIError(ConnectorError):
    """The gateway refused a request; carries its problem+json details (never identifiers)."""

    title = "Gateway refused the request"

    def __init__(
        self,
        status: int,
        reason: str,
        *,
        field: str | None = None,
        code: str | None = None,
        reasons: tuple[str, ...] = (),
        request_id: str | None = None,
        references: tuple[tuple[str, tuple[str, ...]], ...] = (),
    ) -> None:
        super().__init__(f"HTTP {status}: {reason}", field=field)
        self.status = status
        self.detail = reason
        self.code = code
        self.reasons = reasons
        self.request_id = request_id
        self.references = references

    def diagnostics(self) -> str:
        """The refusal, and the legal references each of its reasons rests on."""
        cited = "; ".join(f"{code}: {', '.join(refs)}" for code, refs in self.references)
        line = super().diagnostics()
        return f"{line} (rests on {cited})" if cited else line

    @classmethod
    def from_response(cls, response: httpx.Response) -> GatewayAPIError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        reasons = body.get("reasons") or ()
        return cls(
            response.status_code,
            str(body.get("detail") or body.get("error_description") or response.reason_phrase),
            field=body.get("field"),
            code=body.get("code") or body.get("error"),
            reasons=tuple(str(reason) for reason in reasons),
            request_id=response.headers.get("x-request-id") or body.get("request_id"),
            references=_references(body.get("legal_references")),
        )


def _references(member: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The problem's ``legal_references`` member, read defensively."""
    if not isinstance(member, list):
        return ()
    return tuple(
        (str(entry["code"]), tuple(str(ref) for ref in entry["references"]))
        for entry in member
        if isinstance(entry, dict) and "code" in entry and isinstance(entry.get("references"), list)
    )


class GatewayUnavailableError(ConnectorError):
    """The gateway could not be reached or stayed unavailable through every retry."""

    title = "Gateway unavailable"


@dataclass
class _Token:
    value: str
    expires_at: float
    lifetime: float


def _as_signing_key(key: ECKey | ConnectorKeys | ec.EllipticCurvePrivateKey) -> ECKey:
    if isinstance(key, ConnectorKeys):
        return key.signing_key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        imported = ECKey.import_key(key)
        return ECKey.import_key(imported.as_dict(private=True), {"kid": imported.thumbprint()})
    return key


class GatewayClient:
    """A thread-safe client for one connector installation (one OAuth client id)."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        signing_key: ECKey | ConnectorKeys | ec.EllipticCurvePrivateKey,
        *,
        scopes: Iterable[str] | None = None,
        resource: str | None = None,
        token_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        timeout_seconds: float = 10.0,
        max_attempts: int = 4,
        backoff_seconds: float = 0.25,
        max_backoff_seconds: float = 8.0,
        refresh_margin_seconds: float = 30.0,
        assertion_lifetime_seconds: int = 60,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_attempts < 1:
            raise ConnectorError("must be at least 1", field="max_attempts")
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.token_url = token_url or f"{self.base_url}/oauth/token"
        self.scopes = " ".join(sorted(set(scopes))) if scopes else None
        # RFC 8707: tokens for one resource server (a VOPRF evaluator) name it as audience.
        self.resource = resource.rstrip("/") if resource else None
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.refresh_margin_seconds = refresh_margin_seconds
        self.assertion_lifetime_seconds = assertion_lifetime_seconds
        self._key = _as_signing_key(signing_key)
        self._sleep = sleep
        self._clock = clock
        self._token: _Token | None = None
        self._lock = threading.Lock()
        # A caller-provided client (custom TLS, proxies, an in-process app) stays theirs.
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout_seconds,
            headers={"User-Agent": "ppsgate-connector"},
        )

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # -- tokens -----------------------------------------------------------------------------

    def client_assertion(self) -> str:
        """A fresh signed assertion: iss = sub = client id, aud = token endpoint, new jti."""
        now = int(self._clock())
        header: dict[str, Any] = {"typ": "JWT"}
        if self._key.kid:
            header["kid"] = self._key.kid
        return str(
            private_key_jwt_sign(
                self._key,
                client_id=self.client_id,
                token_endpoint=self.token_url,
                alg="ES256",
                claims={"jti": secrets.token_urlsafe(24)},
                header=header,
                issued_at=now,
                expires_at=now + self.assertion_lifetime_seconds,
            )
        )

    def access_token(self) -> str:
        """The current access token, fetched anew when missing or about to expire."""
        with self._lock:
            token = self._token
            if token is not None:
                margin = min(self.refresh_margin_seconds, token.lifetime / 2)
                if self._clock() < token.expires_at - margin:
                    return token.value
            self._token = self._fetch_token()
            return self._token.value

    def invalidate_token(self) -> None:
        with self._lock:
            self._token = None

    def _fetch_token(self) -> _Token:
        def build() -> dict[str, Any]:
            form = {
                "grant_type": "client_credentials",
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                # Signed per attempt: the gateway refuses a jti it has seen.
                "client_assertion": self.client_assertion(),
            }
            if self.scopes:
                form["scope"] = self.scopes
            if self.resource:
                form["resource"] = self.resource
            return {"data": form}

        response = self._send_with_retries("POST", self.token_url, build)
        if response.status_code != 200:
            raise self._token_refusal(GatewayAPIError.from_response(response))
        body = response.json()
        lifetime = float(body.get("expires_in", 0))
        if not body.get("access_token") or lifetime <= 0:
            raise GatewayAPIError(response.status_code, "token response lacks a token or lifetime")
        return _Token(str(body["access_token"]), self._clock() + lifetime, lifetime)

    def _token_refusal(self, error: GatewayAPIError) -> GatewayAPIError:
        """Name the URL the connector used when the gateway expects another one."""
        if "assertion-audience" not in (*error.reasons, error.code):
            return error
        # The gateway's detail names the URL it expects; the operator needs both side by side
        # (a connector pointed at an internal address behind a TLS proxy, a wrong host).
        return GatewayAPIError(
            error.status,
            f"the connector signed its assertion for {self.token_url} (gateway URL "
            f"{self.base_url}) but the gateway expects another token endpoint: "
            f"{error.detail}; set the gateway URL to the gateway's "
            "public https URL (PPSGATE_PUBLIC_URL on the gateway)",
            field=error.field,
            code=error.code,
            reasons=error.reasons,
            request_id=error.request_id,
        )

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Call the API; raises :class:`GatewayAPIError` for 4xx/5xx answers.

        Writes get an ``Idempotency-Key`` (``idempotency_key`` or a new UUID) that stays the
        same across retries; reads are retried as they are.
        """
        method = method.upper()
        extra = dict(headers or {})
        if method in WRITE_METHODS:
            extra["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        elif idempotency_key:
            extra["Idempotency-Key"] = idempotency_key
        renewed = False
        while True:
            token = self.access_token()

            def build(token: str = token) -> dict[str, Any]:
                return {
                    "json": json,
                    "params": params,
                    "headers": {**extra, "Authorization": f"Bearer {token}"},
                }

            response = self._send_with_retries(method, f"{self.base_url}{path}", build)
            if response.status_code == 401 and not renewed:
                # The token may have been voided (key rotation); one fresh token, one retry.
                self.invalidate_token()
                renewed = True
                continue
            if response.status_code >= 400:
                raise GatewayAPIError.from_response(response)
            return response

    def get_json(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def post_json(self, path: str, body: Any, *, idempotency_key: str | None = None) -> Any:
        return self.request("POST", path, json=body, idempotency_key=idempotency_key).json()

    def submit_indicators(
        self, batch: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Any:
        """POST /v1/indicators (scope ``indicators:write``)."""
        return self.post_json("/v1/indicators", batch, idempotency_key=idempotency_key)

    def match(self, query: Mapping[str, Any]) -> Any:
        """POST /v1/match (scope ``match:query``); a read, safe to retry."""
        return self.post_json("/v1/match", query)

    # -- transport --------------------------------------------------------------------------

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            retry_after = response.headers.get("retry-after", "")
            if retry_after.isdigit():
                return min(float(retry_after), MAX_RETRY_AFTER_SECONDS)
        ceiling = min(self.max_backoff_seconds, self.backoff_seconds * 2.0**attempt)
        return ceiling * (0.5 + secrets.randbelow(1001) / 2000)  # full-ish jitter, 50-100 %

    def _send_with_retries(
        self, method: str, url: str, build: Callable[[], dict[str, Any]]
    ) -> httpx.Response:
        """Send, retrying transient failures; every write here carries an Idempotency-Key
        (token requests a fresh assertion), so a retry can never act twice."""
        last_error: Exception | None = None
        response: httpx.Response | None = None
        for attempt in range(self.max_attempts):
            response = None
            try:
                response = self._http.request(method, url, **build())
            except httpx.TransportError as exc:
                last_error = exc
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
            if attempt < self.max_attempts - 1:
                self._sleep(self._delay(attempt, response))
        if response is not None:
            return response
        raise GatewayUnavailableError(
            f"{method} {url} failed after {self.max_attempts} attempt(s): "
            f"{type(last_error).__name__}"
        )
