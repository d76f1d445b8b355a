"""EvaluatorClient's own retry and error mapping (httpx.MockTransport, as STYLE allows)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest

from connectors.canonical import Kind
from connectors.oprf.client import EvaluatorClient
from connectors.oprf.errors import (
    EvaluatorError,
    EvaluatorQuotaError,
    EvaluatorRefusedError,
    EvaluatorUnavailableError,
)
from connectors.oprf.pins import EvaluatorPin

ELEMENT = b"\x01" * 32


class Tokens:
    def __init__(self) -> None:
        self.issued = 0
        self.invalidated = 0

    def access_token(self) -> str:
        self.issued += 1
        return f"token-{self.issued}"

    def invalidate_token(self) -> None:
        self.invalidated += 1


def _ok(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    count = len(base64.b64decode(body["blinded_elements"])) // 32
    return httpx.Response(
        200,
        json={
            "epoch": body["epoch"],
            "kind": body["kind"],
            "count": count,
            "evaluated_elements": base64.b64encode(b"\x02" * 32 * count).decode(),
            "proof": base64.b64encode(b"\x03" * 64).decode(),
        },
    )


def _client(
    handler: Callable[[httpx.Request], httpx.Response], tokens: Tokens | None = None
) -> EvaluatorClient:
    pin = EvaluatorPin("alpha", "http://alpha.test", {})
    return EvaluatorClient(
        pin, tokens or Tokens(), transport=httpx.MockTransport(handler), sleep=lambda _s: None
    )


def test_transient_failures_are_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused")
        if len(calls) == 2:
            return httpx.Response(503)
        return _ok(request)

    batch = _client(handler).evaluate(4, Kind.PHONE, [ELEMENT, ELEMENT])
    assert len(calls) == 3
    assert batch.evaluated == b"\x02" * 64
    assert batch.proof == b"\x03" * 64


def test_unavailable_after_every_attempt() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(EvaluatorUnavailableError, match="3 attempt"):
        _client(handler).evaluate(4, Kind.PHONE, [ELEMENT])


def test_401_renews_the_token_once() -> None:
    tokens = Tokens()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return _ok(request) if len(seen) > 1 else httpx.Response(401)

    _client(handler, tokens).evaluate(4, Kind.PHONE, [ELEMENT])
    assert seen == ["Bearer token-1", "Bearer token-2"]
    assert tokens.invalidated == 1


def test_429_is_reported_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(
            429,
            headers={"Retry-After": "1800"},
            json={
                "detail": "this partner's quota of 10 elements is used up",
                "code": "quota-exceeded",
            },
        )

    with pytest.raises(EvaluatorQuotaError) as caught:
        _client(handler).evaluate(4, Kind.PHONE, [ELEMENT])
    assert calls == [1]
    assert caught.value.retry_after_seconds == 1800
    assert caught.value.diagnostics() == (
        "Evaluator quota exhausted: evaluator 'alpha': quota for this partner is exhausted "
        "(this partner's quota of 10 elements is used up); try again in 1800 s"
    )


def test_refusal_carries_the_problem_details() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            404, json={"detail": "no key for epoch 4", "code": "epoch-unknown", "field": "epoch"}
        )

    with pytest.raises(EvaluatorRefusedError) as caught:
        _client(handler).evaluate(4, Kind.PHONE, [ELEMENT])
    assert caught.value.status == 404
    assert caught.value.code == "epoch-unknown"
    assert caught.value.field == "epoch"


def test_answer_with_wrong_count_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        response = _ok(request)
        body = response.json()
        body["evaluated_elements"] = base64.b64encode(b"\x02" * 32).decode()
        return httpx.Response(200, json=body)

    with pytest.raises(EvaluatorError, match="1 element"):
        _client(handler).evaluate(4, Kind.PHONE, [ELEMENT, ELEMENT])
