"""Gateway-format access tokens and evaluator processes, for benchmarks and tests.

Not production code: :class:`GatewayTokenIssuer` signs with a key generated per run, so the
evaluators under measurement (or under test) are given its public JWKS instead of a real
gateway's. Tokens are minted by the gateway's own issuing code (``gateway.auth.server``'s
``AccessTokenGenerator``, the class its token endpoint uses); the evaluator only ever sees
the public JWKS — there is no bypass. :func:`evaluator_command` is what ``ppsgate evaluator
serve`` runs, as a process of its own.

Benchmarks import this module; tests may import it too, but nothing under ``bench/`` imports
``tests`` (``tests/unit/bench/test_no_test_imports.py`` checks).
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.fixture import uvicorn_command
from gateway.auth.keys import TokenSigningKey
from gateway.auth.server import AccessTokenGenerator, RegisteredClient
from gateway.config import load_settings
from gateway.partners.models import Partner, PartnerClient

EVALUATE_SCOPE = "oprf:evaluate"
_P256_ORDER = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)


def _scalar() -> bytes:
    while True:
        candidate = secrets.token_bytes(32)
        if 0 < int.from_bytes(candidate, "big") < _P256_ORDER:
            return candidate


class GatewayTokenIssuer:
    """The gateway's access-token issuer with a fresh key, minting for any client."""

    def __init__(self, public_url: str = "http://127.0.0.1:8000", lifetime: int = 300) -> None:
        self.public_url = public_url
        self.key = TokenSigningKey.from_scalar(_scalar())
        settings = load_settings(
            public_url=public_url, access_token_lifetime_seconds=lifetime, env="test"
        )
        # The aud of minted tokens: the issuer, or an evaluator's own URL (RFC 8707) when set.
        self.audience: str | None = None
        self._generator = AccessTokenGenerator(
            key=self.key,
            settings=settings,
            now=lambda: datetime.now(tz=UTC),
            resource=lambda: self.audience,
        )

    def jwks(self) -> dict[str, Any]:
        return self.key.jwks()

    def write_jwks(self, path: Path) -> Path:
        path.write_text(json.dumps(self.jwks()), encoding="utf-8")
        return path

    def mint(
        self, partner_id: str, client_id: str | None = None, scope: str = EVALUATE_SCOPE
    ) -> str:
        client_id = client_id or f"{partner_id}-connector"
        row = PartnerClient(id=client_id, partner_id=partner_id, key_version=1, scopes=scope)
        partner = Partner(id=partner_id, name=partner_id, sector="bank")
        token = self._generator.generate(
            "client_credentials",
            RegisteredClient(row, partner),
            scope=scope,
            include_refresh_token=False,
        )
        return str(token["access_token"])


@dataclass
class PartnerTokens:
    """An AccessTokenSource for one partner (what GatewayClient is in production)."""

    issuer: GatewayTokenIssuer
    partner_id: str
    scope: str = EVALUATE_SCOPE
    fetched: int = 0
    invalidated: int = 0
    _token: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def access_token(self) -> str:
        with self._lock:
            if self._token is None:
                self._token = self.issuer.mint(self.partner_id, scope=self.scope)
                self.fetched += 1
            return self._token

    def invalidate_token(self) -> None:
        with self._lock:
            self._token = None
            self.invalidated += 1


def evaluator_command(port: int, *, workers: int = 1) -> list[str]:
    """What ``ppsgate evaluator serve`` runs, as a process: uvicorn with the app factory."""
    return uvicorn_command("evaluator.app:app_from_environment", port, workers)
