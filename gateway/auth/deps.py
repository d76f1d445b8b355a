"""FastAPI dependencies that authenticate API callers and check their scopes.

``authenticated_client`` verifies the bearer access token *and* checks, on every request,
against the registry as stored now, whether the client and its partner are still active and
whether the client's key was rotated since the token was issued — so a suspension or a key
rotation takes effect on the next request, not when the token expires. (On PostgreSQL a
worker reads a registration once per change, not per request: ``gateway.registry_watch``.)
Each refusal is audited (in its own committed transaction: the request's work never started)
and raised as a 401/403 whose problem+json body names the reason code.

Usage in routes::

    Writer = Annotated[Principal, Depends(require_scopes("indicators:write"))]
    def submit(principal: Writer, ...): ...

    # Satisfied by either scope (all of ``*scopes`` and at least one of ``any_of``):
    Lister = Annotated[Principal, Depends(require_scopes(any_of=("keys:read", "keys:custody")))]
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, NoReturn

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select
from starlette.concurrency import run_in_threadpool

from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.auth.access_tokens import AccessTokenClaims, verify_access_token
from gateway.auth.errors import CredentialRefusedError, ScopeRefusedError
from gateway.auth.keys import TokenSigningKey, load_token_signing_key
from gateway.auth.principal import Principal
from gateway.db import read_only, transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.dialect import execute_compiled
from gateway.partners.models import ClientStatus, Partner, PartnerClient, PartnerStatus
from gateway.scopes import Scope
from gateway.services import Services

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="AccessToken",
    description="Access token from POST /oauth/token (client credentials, private_key_jwt).",
)


async def get_token_signing_key(services: ServicesDep) -> TokenSigningKey:
    return load_token_signing_key(services.settings)


TokenKeyDep = Annotated[TokenSigningKey, Depends(get_token_signing_key)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def _deny_event(
    request_id: str, code: str, claims: AccessTokenClaims | None, *, stage: str
) -> AuditEvent:
    return AuditEvent(
        tag=AuditTag.AUTH_TOKEN_DENY,
        request_id=request_id,
        actor_partner=claims.partner_id if claims else None,
        actor_client=claims.client_id if claims else None,
        decision="deny",
        reason_codes=(code,),
        detail={"stage": stage, "token_jti": claims.jti} if claims else {"stage": stage},
    )


async def _audit_and_raise(
    services: Services,
    request_id: str,
    refusal: CredentialRefusedError,
    claims: AccessTokenClaims | None,
) -> NoReturn:
    """Audit the refusal in its own committed transaction (in a worker thread), raise it."""
    event = _deny_event(request_id, refusal.reason_code, claims, stage="resource")
    await run_in_threadpool(_record_refusal, services, event)
    refusal.audited = True
    raise refusal


def _record_refusal(services: Services, event: AuditEvent) -> None:
    with transaction(services.session_factory) as session:
        services.audit.record(session, event)


@dataclass(frozen=True, slots=True)
class _Registered:
    """The calling client's registration and its partner's, as stored now."""

    partner_id: str
    scopes: str
    status: str
    key_version: int
    partner_status: str
    sector: str


# Client and partner in one statement, executed as driver SQL compiled once (on PostgreSQL a
# worker reads it again only after the registry changed).
_REGISTERED = (
    select(
        PartnerClient.partner_id,
        PartnerClient.scopes,
        PartnerClient.status,
        PartnerClient.key_version,
        Partner.status,
        Partner.sector,
    )
    .join(Partner, Partner.id == PartnerClient.partner_id)
    .where(PartnerClient.id == bindparam("client_id"))
)


def _refusal(row: _Registered | None, claims: AccessTokenClaims) -> tuple[str, str] | None:
    if row is None or row.partner_id != claims.partner_id:
        return "client-unknown", "the token's client is not registered"
    if row.partner_status != PartnerStatus.ACTIVE:
        return "partner-suspended", f"the client's partner is {row.partner_status}"
    if row.status != ClientStatus.ACTIVE:
        return "client-suspended", f"the client is {row.status}"
    if row.key_version != claims.key_version:
        return "client-key-rotated", "the client's key was rotated after this token was issued"
    return None


def _read_registered(services: Services, client_id: str) -> _Registered | None:
    """Client and partner as stored now, in one query outside any transaction; remembered by
    the worker until the registry changes (``gateway.registry_watch``)."""
    stamp = services.registry.stamp()
    with read_only(services.session_factory) as session:
        found = execute_compiled(session.connection(), _REGISTERED, {"client_id": client_id})
        values = found.first()
    if values is None:
        return None
    row = _Registered(*tuple(values))
    services.registry.remember(("client", client_id), stamp, row)
    return row


async def _registered(services: Services, client_id: str) -> _Registered | None:
    """The client's registration: remembered since the last change, or read (in a thread)."""
    known = services.registry.recall(("client", client_id))
    if isinstance(known, _Registered):
        return known
    return await run_in_threadpool(_read_registered, services, client_id)


def _client_principal(
    row: _Registered | None, claims: AccessTokenClaims
) -> tuple[Principal | None, tuple[str, str] | None]:
    """The client's principal as registered now, or why the token no longer stands."""
    problem = _refusal(row, claims)
    if problem is not None or row is None:
        return None, problem
    return Principal(
        partner_id=row.partner_id,
        client_id=claims.client_id,
        user=None,
        sector=row.sector,
        # A registration narrowed since the token was issued narrows the token too.
        scopes=claims.scopes & frozenset(row.scopes.split()),
        roles=frozenset(),
        credential_id=claims.jti,
    ), None


async def authenticated_client(
    services: ServicesDep, request_id: RequestIdDep, credentials: BearerDep
) -> Principal:
    """The calling connector client, verified now; refusals are audited 401s."""
    return await authenticate(services, request_id, credentials)


async def authenticate(
    services: Services, request_id: str, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The calling connector client, verified now; refusals are audited 401s.

    ``async`` so that FastAPI does not hand it to the thread pool: the token is verified on
    the event loop (pure CPU) and only the database work goes to a worker thread.
    """
    key = load_token_signing_key(services.settings)
    if credentials is None:
        await _audit_and_raise(
            services,
            request_id,
            CredentialRefusedError(
                "token-missing",
                "send an access token as 'Authorization: Bearer <token>'",
                field="Authorization",
            ),
            None,
        )
    settings = services.settings
    try:
        claims = verify_access_token(
            credentials.credentials,
            key=key,
            issuer=settings.public_url,
            audience=settings.public_url,
            now=services.clock.now(),
            verified=services.verified_tokens,
        )
    except CredentialRefusedError as refusal:
        await _audit_and_raise(services, request_id, refusal, None)
    principal, problem = _client_principal(await _registered(services, claims.client_id), claims)
    if principal is None:  # audited after the read's connection went back to the pool
        code, text = problem or ("client-unknown", "the token's client is not registered")
        refused = CredentialRefusedError(code, text, field="Authorization")
        await _audit_and_raise(services, request_id, refused, claims)
    return principal


CurrentClient = Annotated[Principal, Depends(authenticated_client)]


ScopeCheck = Callable[[Principal, Services, str], Awaitable[Principal]]


def scope_check(*scopes: str, any_of: Iterable[str] = ()) -> ScopeCheck:
    """The check of :func:`require_scopes` as a plain coroutine function (principal,
    services, request id), for dependencies that authenticate themselves."""
    # A typo fails at import, not at run.
    needed = frozenset(Scope(scope) for scope in scopes)
    one_of = frozenset(Scope(scope) for scope in any_of)

    async def check(principal: Principal, services: Services, request_id: str) -> Principal:
        missing = sorted(needed - principal.scopes)
        lacks_one_of = bool(one_of) and not one_of & principal.scopes
        if missing or lacks_one_of:
            detail: dict[str, object] = {"stage": "scope", "missing": missing}
            wanted = [" ".join(missing)] if missing else []
            if lacks_one_of:
                detail["any_of"] = sorted(one_of)
                wanted.append("one of " + " ".join(sorted(one_of)))
            event = AuditEvent(
                tag=AuditTag.AUTH_TOKEN_DENY,
                request_id=request_id,
                actor_partner=principal.partner_id,
                actor_client=principal.client_id,
                decision="deny",
                reason_codes=("scope-missing",),
                detail=detail,
            )
            await run_in_threadpool(_record_refusal, services, event)
            raise ScopeRefusedError(
                "scope-missing",
                f"this endpoint needs scope(s) {' and '.join(wanted)}, which the token lacks",
                field="scope",
                audited=True,
            )
        return principal

    return check


def require_scopes(*scopes: str, any_of: Iterable[str] = ()) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the client and requires all of ``scopes`` and, when
    ``any_of`` names scopes, at least one of them (``require_scopes(any_of=("keys:read",
    "keys:custody"))``). A refusal is audited (``auth:token:deny``, stage ``scope``) and
    answered 403 ``scope-missing``."""
    check = scope_check(*scopes, any_of=any_of)
    needed = frozenset(Scope(scope) for scope in scopes)
    one_of = frozenset(Scope(scope) for scope in any_of)

    async def dependency(
        principal: CurrentClient, services: ServicesDep, request_id: RequestIdDep
    ) -> Principal:
        return await check(principal, services, request_id)

    name = "_".join(sorted(needed))
    if one_of:
        name += ("_" if name else "") + "any_of_" + "_".join(sorted(one_of))
    dependency.__name__ = ("require_" + name).replace(":", "_")
    return dependency
