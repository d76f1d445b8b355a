"""Test helpers: gateway-format access tokens and running evaluators.

Tokens are minted by the gateway's own issuing code (``gateway.auth.server``'s
``AccessTokenGenerator``, the class its token endpoint uses), with a signing key generated
per test run; the evaluator only ever sees the public JWKS — there is no bypass.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def evaluator_settings(
    directory: Path,
    name: str,
    issuer: GatewayTokenIssuer,
    *,
    epochs: tuple[int, ...] = (1,),
    **overrides: Any,
) -> Any:
    """Settings for one evaluator in ``directory``: its own seed file, database and JWKS."""
    from evaluator.config import load_evaluator_settings
    from evaluator.seeds import add_epoch

    directory.mkdir(parents=True, exist_ok=True)
    seed_file = directory / "seeds"
    for epoch in epochs:
        add_epoch(seed_file, epoch)
    values: dict[str, Any] = {
        "env": "test",
        "name": name,
        "data_dir": directory,
        "seed_file": seed_file,
        "token_issuer": issuer.public_url,
        "token_jwks_file": issuer.write_jwks(directory / "gateway-jwks.json"),
        "log_level": "WARNING",
    }
    values.update(overrides)
    return load_evaluator_settings(**values)


def pin_for(settings: Any, url: str) -> Any:
    """The pins entry partners would publish for this evaluator (public keys only)."""
    from connectors.canonical import Kind
    from connectors.oprf.pins import EvaluatorPin
    from evaluator.keyring import KeyRing

    ring = KeyRing(settings.effective_seed_file)
    keys = {
        (epoch, Kind(kind)): bytes.fromhex(hex_key)
        for epoch_text, by_kind in ring.public_keys().items()
        for kind, hex_key in by_kind.items()
        for epoch in [int(epoch_text)]
    }
    return EvaluatorPin(name=settings.name, url=url, public_keys=keys)
