"""HTTP client for one evaluator: ``POST /v2/evaluate`` with the partner's access token.

The evaluator trusts access tokens issued by the gateway's token endpoint, so the connector
reuses its gateway credentials (:class:`connectors.client.GatewayClient` is an
:class:`AccessTokenSource`); asking the gateway for a token carrying only the evaluator
scope keeps a token shown to an evaluator useless at the gateway's own API. This client
only moves bytes; the evaluators' proofs are checked, and the blinds held, by
:mod:`connectors.oprf.chunks` (in this process or in a crypto worker).

With ``proof_key`` (the connector's own ES256 signing key) every request also carries a
proof of possession in RFC 9449's DPoP format, bound to the evaluator's URL and to the access
token: an evaluator that pins the partner's key (``PPSGATE_EVALUATOR_CLIENT_KEYS_FILE``)
then knows the partner's connector is asking, which a token minted by the gateway's operator
alone could not show.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

from connectors.canonical import Kind
from connectors.oprf.errors import (
    EvaluatorError,
    EvaluatorQuotaError,
    EvaluatorRefusedError,
    EvaluatorUnavailableError,
)
from connectors.oprf.pins import EvaluatorPin
from connectors.oprf.suite import ELEMENT_BYTES, PROOF_BYTES, decode_blob, encode_packed

EVALUATE_PATH = "/v2/evaluate"
TRANSIENT_STATUSES = frozenset({502, 503, 504})


class AccessTokenSource(Protocol):
    """Where bearer tokens come from (the connector's gateway client, or a test issuer)."""

    def access_token(self) -> str:
        """A currently valid access token."""
        ...

    def invalidate_token(self) -> None:
        """Forget the cached token (it was refused); the next call fetches a new one."""
        ...


@dataclass(frozen=True)
class EvaluatedBatch:
    """An evaluator's answer to one batch: the evaluated elements and one batched proof."""

    evaluated: bytes
    proof: bytes


def possession_proof(key: ECKey, *, method: str, url: str, access_token: str, now: float) -> str:
    """A single-use DPoP proof (RFC 9449 §4.2): this key's holder sends this request now."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    claims = {
        "jti": secrets.token_urlsafe(18),
        "htm": method,
        "htu": url,
        "iat": int(now),
        "ath": base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"),
    }
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": dict(key.as_dict(private=False))}
    return str(jwt.encode(header, claims, key, algorithms=["ES256"]))


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("retry-after", "").strip()
    return int(value) if value.isdigit() else None


class EvaluatorClient:
    """Thread-safe client for one pinned evaluator (several batches may be in flight)."""

    def __init__(
        self,
        pin: EvaluatorPin,
        tokens: AccessTokenSource,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout_seconds: float = 60.0,
        max_attempts: int = 3,
        backoff_seconds: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
        proof_key: ECKey | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.pin = pin
        self._tokens = tokens
        self._proof_key = proof_key
        self._clock = clock
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=pin.url,
            transport=transport,
            timeout=timeout_seconds,
            headers={"User-Agent": "ppsgate-connector"},
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
        )

    @property
    def name(self) -> str:
        return self.pin.name

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EvaluatorClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def evaluate(self, epoch: int, kind: Kind, blinded: list[bytes]) -> EvaluatedBatch:
        """Send one batch of blinded elements; returns the evaluator's unverified answer."""
        return self.evaluate_packed(epoch, kind, b"".join(blinded))

    def evaluate_packed(self, epoch: int, kind: Kind, packed: bytes) -> EvaluatedBatch:
        """:meth:`evaluate` for elements already concatenated (32 bytes each, as on the wire).

        The tokeniser's crypto workers hand blinded elements over in this form, so a batch
        is never split into thousands of small objects only to be joined again.
        """
        if not packed or len(packed) % ELEMENT_BYTES:
            raise ValueError(f"packed elements must be a non-empty multiple of {ELEMENT_BYTES}")
        body = {"epoch": epoch, "kind": kind.value, "blinded_elements": encode_packed(packed)}
        response = self._post(body)
        if response.status_code == 200:
            return self._parse(response, epoch, kind, len(packed) // ELEMENT_BYTES)
        problem = _problem(response)
        detail = str(problem.get("detail") or response.reason_phrase or "refused")
        if response.status_code == 429:
            raise EvaluatorQuotaError(
                self.name,
                f"quota for this partner is exhausted ({detail})",
                retry_after_seconds=_retry_after(response),
            )
        if response.status_code >= 500:
            raise EvaluatorUnavailableError(self.name, f"HTTP {response.status_code}: {detail}")
        raise EvaluatorRefusedError(
            self.name,
            response.status_code,
            detail,
            code=str(problem["code"]) if problem.get("code") else None,
            field=str(problem["field"]) if problem.get("field") else None,
        )

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        renewed = False
        attempt = 0
        while True:
            headers = self._headers()
            last: httpx.Response | None = None
            try:
                last = self._http.post(EVALUATE_PATH, json=body, headers=headers)
            except httpx.TransportError as exc:
                failure = type(exc).__name__
            else:
                if last.status_code == 401 and not renewed:
                    self._tokens.invalidate_token()  # rotated key or expired token: once
                    renewed = True
                    continue
                if last.status_code not in TRANSIENT_STATUSES:
                    return last
                failure = f"HTTP {last.status_code}"
            attempt += 1
            if attempt >= self._max_attempts:
                if last is not None:
                    return last
                raise EvaluatorUnavailableError(
                    self.name, f"no answer after {attempt} attempt(s) ({failure})"
                )
            ceiling = self._backoff_seconds * 2 ** (attempt - 1)
            self._sleep(ceiling * (0.5 + secrets.randbelow(1001) / 2000))

    def _headers(self) -> dict[str, str]:
        """The bearer token and, with a proof key, a fresh proof (one per attempt)."""
        token = self._tokens.access_token()
        headers = {"Authorization": f"Bearer {token}"}
        if self._proof_key is not None:
            headers["DPoP"] = possession_proof(
                self._proof_key,
                method="POST",
                url=f"{self.pin.url}{EVALUATE_PATH}",
                access_token=token,
                now=self._clock(),
            )
        return headers

    def _parse(
        self, response: httpx.Response, epoch: int, kind: Kind, count: int
    ) -> EvaluatedBatch:
        body = _problem(response)
        if body.get("epoch") != epoch or body.get("kind") != kind.value:
            raise EvaluatorError(self.name, "answered for another epoch or type")
        try:
            evaluated = decode_blob(
                str(body.get("evaluated_elements", "")),
                unit=ELEMENT_BYTES,
                field="evaluated_elements",
            )
            proof = decode_blob(str(body.get("proof", "")), unit=PROOF_BYTES, field="proof")
        except ValueError as exc:
            raise EvaluatorError(self.name, f"malformed answer: {exc}") from None
        if len(evaluated) != count * ELEMENT_BYTES or len(proof) != PROOF_BYTES:
            raise EvaluatorError(
                self.name,
                f"answered {len(evaluated) // ELEMENT_BYTES} element(s) for {count} sent",
            )
        return EvaluatedBatch(evaluated=evaluated, proof=proof)
