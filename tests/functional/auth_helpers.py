"""Shared pieces of the authentication tests: a real app, real keys, real assertions.

The app is the gateway's own ``create_app`` (real audit trail, real database of the
parametrised backend) with the auth router mounted when the app does not mount it yet, plus
two tiny protected routes that exercise the dependencies exactly as the API routes use them.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import select

from connectors.keystore import ConnectorKeys
from gateway.app import create_app
from gateway.audit_trail.events import Actor
from gateway.audit_trail.models import AuditEntry
from gateway.auth.deps import CurrentClient, require_scopes
from gateway.auth.principal import Principal
from gateway.auth.routes import router as auth_router
from gateway.bootstrap import build_services
from gateway.clock import FixedClock
from gateway.config import Settings, load_settings
from gateway.db import transaction
from gateway.partners.service import PartnerRegistry
from gateway.services import Services

PUBLIC_URL = "https://gateway.test"
TOKEN_URL = f"{PUBLIC_URL}/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    return load_settings(
        env="test",
        data_dir=data_dir,
        database_url=database_url,
        public_url=PUBLIC_URL,
        **overrides,
    )


def build_app(settings: Settings, clock: FixedClock) -> tuple[FastAPI, Services]:
    services = build_services(settings, clock=clock)
    app = create_app(settings, services=services)
    if "/oauth/token" not in app.openapi()["paths"]:
        app.include_router(auth_router)
        app.openapi_schema = None

    @app.get("/test-only/whoami")
    def whoami(principal: CurrentClient) -> dict[str, Any]:
        return {
            "partner_id": principal.partner_id,
            "client_id": principal.client_id,
            "sector": principal.sector,
            "scopes": sorted(principal.scopes),
        }

    @app.get("/test-only/audit")
    def audit_reader(
        principal: Annotated[Principal, Depends(require_scopes("audit:read"))],
    ) -> dict[str, str]:
        return {"partner_id": principal.partner_id}

    return app, services


@dataclass
class Client:
    partner_id: str
    client_id: str
    keys: ConnectorKeys


def onboard(
    services: Services,
    partner_id: str,
    sector: str,
    scopes: str,
    *,
    keys: ConnectorKeys | None = None,
) -> Client:
    keys = keys or ConnectorKeys.generate()
    with transaction(services.session_factory) as session:
        registry = PartnerRegistry(
            session,
            services.audit,
            actor=Actor(request_id="test-setup", user="test"),
            clock=services.clock,
        )
        registry.add_partner(name=partner_id.title(), sector=sector, partner_id=partner_id)
        client = registry.add_client(
            partner_id=partner_id,
            jwk=keys.public_jwks(),
            scopes=scopes,
            client_id=f"{partner_id}-1",
        )
    return Client(partner_id, client.id, keys)


def registry_call(services: Services, method: str, *args: Any) -> Any:
    with transaction(services.session_factory) as session:
        registry = PartnerRegistry(
            session,
            services.audit,
            actor=Actor(request_id="test-admin", user="test"),
            clock=services.clock,
        )
        return getattr(registry, method)(*args)


def assertion(
    client: Client,
    now: datetime,
    *,
    key: Any = None,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    t = int(now.timestamp())
    payload: dict[str, Any] = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": TOKEN_URL,
        "iat": t,
        "exp": t + 60,
        "jti": secrets.token_urlsafe(16),
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    header = header or {"alg": "ES256", "kid": client.keys.key_id}
    return jwt.encode(header, payload, key or client.keys.signing_key, algorithms=[header["alg"]])


def unsigned_token(header: dict[str, Any], payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def token_request(http: TestClient, signed: str, **extra: str) -> Any:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        **extra,
    }
    return http.post("/oauth/token", data=form)


def get_token(http: TestClient, client: Client, now: datetime, **extra: str) -> str:
    response = token_request(http, assertion(client, now), **extra)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def audit_entries(services: Services, tag: str) -> list[dict[str, Any]]:
    with transaction(services.session_factory) as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.tag == tag).order_by(AuditEntry.seq)
        ).all()
        return [json.loads(row.body) for row in rows]


def other_key() -> ECKey:
    return ConnectorKeys.generate().signing_key


@contextmanager
def serve(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver") as http:
        yield http
