"""The application factory: every service is built here from settings, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gateway.abuse.counters import build_counter_engine
from gateway.alerts.routes import router as alerts_router
from gateway.alerts.webhooks import WebhookDispatcher
from gateway.audit_api.routes import router as audit_router
from gateway.audit_trail.scheduler import CheckpointScheduler
from gateway.audit_trail.service import AuditTrail, build_audit_trail
from gateway.auth.routes import TOKEN_PATH
from gateway.auth.routes import router as auth_router
from gateway.auth.token_endpoint import audit_request_refusal
from gateway.clock import Clock, SystemClock
from gateway.config import Settings
from gateway.console.routes import mount_console
from gateway.db import build_engine, build_session_factory, transaction
from gateway.disputes.routes import router as disputes_router
from gateway.errors import StorageUnavailableError
from gateway.feedback.routes import router as feedback_router
from gateway.governance import PolicyGovernance
from gateway.home import router as home_router
from gateway.indicators.routes import router as indicators_router
from gateway.keys.pepper_binding import check_bindings
from gateway.keys.routes import router as keys_router
from gateway.logging import configure_logging
from gateway.maintenance import Maintenance
from gateway.matching.routes import router as matching_router
from gateway.middleware import GatewayMiddleware
from gateway.migrate import is_up_to_date
from gateway.openapi import install_problem_responses
from gateway.partners.sectors import check_registry, policy_sectors
from gateway.pepper import load_pepper
from gateway.policy import build_policy_engine
from gateway.policy.active import SwitchableEngine
from gateway.problems import install_problem_handlers
from gateway.registry_watch import RegistryWatch
from gateway.requests.routes import router as requests_router
from gateway.services import Services
from gateway.watchlist.routes import router as watchlist_router

logger = logging.getLogger(__name__)
# The request pool holds pool_size + as many overflow connections (gateway.db.build_engine).
WORKER_THREADS_PER_CONNECTION = 2


def build_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    """Build the services of one process; fails with a clear error on bad configuration."""
    engine = build_engine(settings)
    if not is_up_to_date(engine):
        raise StorageUnavailableError(
            "database schema is not at the newest revision; run `ppsgate db upgrade`"
        )
    clock = clock or SystemClock()
    session_factory = build_session_factory(engine)
    pepper = load_pepper(settings)
    with transaction(session_factory) as session:
        check_bindings(session, pepper)
    audit = build_audit_trail(settings, clock=clock)
    policy = _policy_engine(settings, session_factory, audit, clock)
    with transaction(session_factory) as session:
        check_registry(session, policy_sectors(session, settings.policy_dir))
    return Services(
        settings=settings,
        engine=engine,
        counter_engine=build_counter_engine(settings, engine),
        session_factory=session_factory,
        policy=policy,
        audit=audit,
        pepper=pepper,
        clock=clock,
        registry=RegistryWatch(engine, settings.registry_cache_seconds),
    )


def _policy_engine(
    settings: Settings, session_factory: sessionmaker[Session], audit: AuditTrail, clock: Clock
) -> SwitchableEngine:
    """The engine this process decides with.

    The first start records the loaded bundle as the active version; afterwards the
    database's active version (activated with four eyes) is what runs, unless the operator
    pinned the policies with ``PPSGATE_POLICY_DIR`` or an OPA server.
    """
    base = build_policy_engine(settings)
    policy = SwitchableEngine(
        base,
        timeout_seconds=settings.policy_timeout_seconds,
        pinned=bool(settings.opa_url or settings.policy_dir),
        cache_seconds=settings.policy_cache_seconds,
    )
    with transaction(session_factory) as session:
        bundle = getattr(base, "bundle", None)
        if bundle is not None:
            PolicyGovernance(session, audit, clock, request_id="startup").bootstrap(bundle)
        policy.follow_database(session)
    return policy


def _bound_worker_threads(settings: Settings) -> None:
    """Run at most as many blocking calls at once as the request pool has connections,
    overflow included (anyio's default is 40): more threads would only wait for a connection,
    and each thread keeps a policy engine of its own (~2.2 MB with the shipped bundle)."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = WORKER_THREADS_PER_CONNECTION * settings.database_pool_size


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """Create the gateway ASGI app for these settings."""
    configure_logging(settings.log_level, as_json=settings.log_json)
    services = services or build_services(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler = CheckpointScheduler(services.audit, services.session_factory)
        maintenance = Maintenance(services)
        webhooks = WebhookDispatcher(services)
        _bound_worker_threads(settings)
        services.registry.start()
        scheduler.start()
        maintenance.start()
        webhooks.start()
        try:
            yield
        finally:
            webhooks.stop()
            maintenance.stop()
            scheduler.stop()
            services.registry.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="ppsgate",
        version="0.1.0",
        summary="Privacy-preserving fraud-indicator sharing gateway",
        description="Partners submit and match peppered tokens of identifiers under "
        "Rego policies tied to GDPR legal bases; every request is in the audit log.",
    )
    app.state.services = services
    install_problem_handlers(app)
    install_problem_responses(app)
    for router in (
        auth_router,
        audit_router,
        indicators_router,
        matching_router,
        watchlist_router,
        alerts_router,
        disputes_router,
        feedback_router,
        keys_router,
        home_router,
        requests_router,
    ):
        app.include_router(router)
    mount_console(app)

    async def audit_door_refusal(path: str, request_id: str, code: str) -> None:
        # The token endpoint audits every refusal, those the middleware answers too.
        if path == TOKEN_PATH:
            await run_in_threadpool(audit_request_refusal, services, request_id, code, claimed={})

    app.add_middleware(
        GatewayMiddleware, max_body_bytes=settings.max_body_bytes, on_refused=audit_door_refusal
    )

    @app.get("/health", tags=["operations"], summary="Liveness and readiness")
    def health() -> dict[str, str]:
        return {"status": "ok", "policy_digest": services.policy.digest}

    return app
