"""The application factory: every service is built here from settings, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from gateway.alerts.routes import router as alerts_router
from gateway.alerts.webhooks import WebhookDispatcher
from gateway.audit_api.routes import router as audit_router
from gateway.audit_trail.scheduler import CheckpointScheduler
from gateway.auth.routes import TOKEN_PATH
from gateway.auth.routes import router as auth_router
from gateway.auth.token_endpoint import audit_request_refusal
from gateway.bootstrap import build_services
from gateway.config import Settings
from gateway.console.routes import mount_console
from gateway.disputes.routes import router as disputes_router
from gateway.feedback.routes import router as feedback_router
from gateway.home import router as home_router
from gateway.indicators.routes import router as indicators_router
from gateway.keys.routes import router as keys_router
from gateway.logging import configure_logging
from gateway.maintenance import Maintenance
from gateway.matching.routes import router as matching_router
from gateway.middleware import GatewayMiddleware
from gateway.openapi import install_problem_responses
from gateway.problems import install_problem_handlers
from gateway.requests.routes import router as requests_router
from gateway.services import Services
from gateway.watchlist.routes import router as watchlist_router

logger = logging.getLogger(__name__)
# The request pool holds pool_size + as many overflow connections (gateway.db.build_engine).
WORKER_THREADS_PER_CONNECTION = 2


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
