"""The OAuth 2 token endpoint on Authlib's framework-independent authorization server.

Authlib ships servers for Flask and Django; for FastAPI we subclass its generic
:class:`AuthorizationServer` as its docs describe for custom frameworks: a request adapter
(``create_oauth2_request``), a response hook (``handle_response``), ``query_client`` and
``save_token``. One server is built per token request around that request's database
session, which keeps Authlib's synchronous hooks inside our one-transaction-per-request rule.

Only the client-credentials grant is registered, and its only client authentication method
is ``private_key_jwt``. Access tokens are RFC 9068 JWTs signed ES256 by the gateway key with
the configured lifetime (300 s by default) — Authlib's own default for this grant is 10 days.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc import jwt
from sqlalchemy.orm import Session

from gateway.auth.assertions import PrivateKeyJWTAssertion
from gateway.auth.errors import ScopeRefused, TargetRefused
from gateway.auth.keys import SIGNING_ALGORITHM, TokenSigningKey
from gateway.config import Settings
from gateway.errors import ConfigurationError
from gateway.partners.models import ClientStatus, Partner, PartnerClient, PartnerStatus
from gateway.scopes import PARTNER_SCOPES, Scope, scope_string

GRANT_TYPE = "client_credentials"
AUTH_METHOD = "private_key_jwt"


class RegisteredClient(ClientMixin):  # type: ignore[misc]
    """A registry client as Authlib sees it: no secret, no redirect URIs, one grant type."""

    def __init__(self, row: PartnerClient, partner: Partner) -> None:
        self.row = row
        self.partner = partner

    @property
    def registered_scopes(self) -> frozenset[str]:
        return frozenset(self.row.scopes.split())

    def inactive_reason(self) -> tuple[str, str] | None:
        if self.partner.status != PartnerStatus.ACTIVE:
            return "partner-suspended", f"partner is {self.partner.status}; no tokens are issued"
        if self.row.status != ClientStatus.ACTIVE:
            return "client-suspended", f"client is {self.row.status}; no tokens are issued"
        return None

    def get_client_id(self) -> str:
        return self.row.id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        # Requested scopes were checked against the registration before this point.
        if not scope:
            return scope_string(self.registered_scopes)
        return scope_string(scope.split())

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return False  # there are no client secrets

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == AUTH_METHOD and endpoint == "token"

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == GRANT_TYPE


class GatewayClientCredentialsGrant(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_METHOD]  # noqa: RUF012 (Authlib's class attribute)

    def validate_requested_scope(self) -> None:
        """Refuse (not silently narrow) any scope the client is not registered for."""
        requested = set((self.request.payload.scope or "").split())
        known = {str(scope) for scope in Scope}
        unknown = sorted(requested - known)
        if unknown:
            raise ScopeRefused("scope-unknown", f"unknown scope(s): {' '.join(unknown)}")
        registered = self.request.client.registered_scopes
        excess = sorted(requested - registered)
        if excess:
            raise ScopeRefused(
                "scope-not-registered",
                f"the client is not registered for scope(s): {' '.join(excess)}",
            )
        mixed = sorted((requested or registered) & PARTNER_SCOPES)
        if Scope.KEYS_CUSTODY in registered and mixed:
            raise ScopeRefused(
                "scope-custodian",
                f"a key custodian client gets no partner scopes ({' '.join(mixed)})",
            )
        self._validate_resource(requested)

    def _validate_resource(self, requested: set[str]) -> None:
        """RFC 8707: a token for another resource server is for it alone.

        The evaluators accept gateway-issued tokens; without a resource every token's
        audience is the gateway, so an evaluator could replay a partner's token at the other
        evaluator and use that partner's quota there as an oracle. A ``resource`` from
        ``PPSGATE_TOKEN_RESOURCES`` becomes the token's ``aud`` (the gateway's own API then
        refuses it), and such a token carries the evaluator scope and nothing else.
        """
        resource = self.request.form.get("resource")
        if resource is None:
            return
        server: TokenServer = self.server
        if resource.rstrip("/") not in server.settings.token_resources:
            raise TargetRefused(
                "resource-unknown",
                "the gateway issues no tokens for this resource (PPSGATE_TOKEN_RESOURCES)",
            )
        if requested != {str(Scope.OPRF_EVALUATE)}:
            raise TargetRefused(
                "resource-scope",
                f"a token for a resource carries the scope {Scope.OPRF_EVALUATE} alone; "
                "request it with scope=oprf:evaluate",
            )
        server.resource = resource.rstrip("/")


class AccessTokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 access tokens: signed by the gateway key, audience the gateway itself.

    Authlib's generator supplies the response shape and the claim hooks; the claims are
    built here so that ``iat``/``exp`` come from the gateway's injected clock (the one that
    verifies them) and the header names the signing key's ``kid``.
    """

    def __init__(
        self,
        *,
        key: TokenSigningKey,
        settings: Settings,
        now: Callable[[], datetime],
        resource: Callable[[], str | None] = lambda: None,
    ) -> None:
        super().__init__(
            issuer=settings.public_url,
            alg=SIGNING_ALGORITHM,
            expires_generator=settings.access_token_lifetime_seconds,
        )
        self.key = key
        self.audience = settings.public_url
        self.now = now
        self.resource = resource

    def access_token_generator(self, client: Any, grant_type: str, user: Any, scope: str) -> str:
        issued_at = int(self.now().timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.get_audiences(client, user, scope),
            "sub": client.get_client_id(),
            "client_id": client.get_client_id(),
            "iat": issued_at,
            "exp": issued_at + self._get_expires_in(client, grant_type),
            "jti": self.get_jti(client, grant_type, user, scope),
            "scope": scope,
            **self.get_extra_claims(client, grant_type, user, scope),
        }
        header = {"alg": self.alg, "typ": "at+jwt", "kid": self.key.kid}
        return str(jwt.encode(header, claims, self.key.private, algorithms=[self.alg]))

    def get_jwks(self) -> Any:
        return self.key.private

    def get_audiences(self, client: Any, user: Any, scope: Any) -> str:
        return self.resource() or self.audience

    def get_extra_claims(
        self, client: Any, grant_type: str, user: Any, scope: Any
    ) -> dict[str, Any]:
        registered: RegisteredClient = client
        return {"partner_id": registered.partner.id, "key_version": registered.row.key_version}


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """An already-parsed form POST to the token endpoint, as Authlib wants it."""

    def __init__(self, *, uri: str, form: Mapping[str, str], headers: Mapping[str, str]) -> None:
        super().__init__(method="POST", uri=uri, headers=dict(headers))
        self._form = dict(form)
        self.payload = BasicOAuth2Payload(self._form)

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass
class TokenResult:
    """What the endpoint answered: the response parts, plus facts for the audit entry."""

    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]
    client: RegisteredClient | None = None
    error: Exception | None = None
    claims: dict[str, Any] | None = None
    audience: str | None = None  # an RFC 8707 resource the token was restricted to


class TokenServer(AuthorizationServer):  # type: ignore[misc]
    """One token request's authorization server, bound to its database session."""

    def __init__(
        self,
        *,
        session: Session,
        settings: Settings,
        key: TokenSigningKey,
        now: Callable[[], datetime],
    ) -> None:
        super().__init__(scopes_supported=[str(scope) for scope in Scope])
        self.session = session
        self.settings = settings
        self.assertion = PrivateKeyJWTAssertion(
            session=session,
            token_endpoint_url=settings.token_endpoint_url,
            max_lifetime_seconds=settings.client_assertion_max_lifetime_seconds,
            now=now,
        )
        self.register_client_auth_method(AUTH_METHOD, self.assertion)
        self.register_grant(GatewayClientCredentialsGrant)
        self.resource: str | None = None  # set by the grant once ``resource`` is validated
        self.register_token_generator(
            "default",
            AccessTokenGenerator(
                key=key, settings=settings, now=now, resource=lambda: self.resource
            ),
        )
        self.error: Exception | None = None
        self.client: RegisteredClient | None = None
        self.issued: dict[str, Any] | None = None

    def query_client(self, client_id: str) -> RegisteredClient | None:
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 64:
            return None
        row = self.session.get(PartnerClient, client_id)
        if row is None:
            return None
        client = RegisteredClient(row, row.partner)
        self.client = client
        return client

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # Access tokens are self-contained JWTs; issuing one is recorded in the audit log.
        self.issued = token

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: FormRequest) -> FormRequest:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        return status, body, headers

    def handle_error_response(self, request: Any, error: Exception) -> Any:
        self.error = error
        return super().handle_error_response(request, error)

    def respond(self, form: Mapping[str, str], headers: Mapping[str, str]) -> TokenResult:
        try:
            request = FormRequest(uri=self.settings.token_endpoint_url, form=form, headers=headers)
        except InsecureTransportError:
            raise ConfigurationError(
                "PPSGATE_PUBLIC_URL must use https unless it names a loopback address",
                field="public_url",
            ) from None
        status, body, response_headers = self.create_token_response(request)
        return TokenResult(
            status=status,
            body=body,
            headers=list(response_headers),
            client=self.client,
            error=self.error,
            claims=self.assertion.verified_claims,
            audience=self.resource,
        )
