"""Building one process's services from settings (the app, workers and commands share it).

Apart from ``gateway.app`` so that a command needing the services (``ppsgate keys``,
``pepper``, ``purge``) starts without importing the HTTP app and its routes.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from gateway.abuse.counters import build_counter_engine
from gateway.audit_trail.service import AuditTrail, build_audit_trail
from gateway.clock import Clock, SystemClock
from gateway.config import Settings
from gateway.db import build_engine, build_session_factory, transaction
from gateway.errors import StorageUnavailableError
from gateway.governance import PolicyGovernance
from gateway.keys.pepper_binding import check_bindings
from gateway.migrate import is_up_to_date
from gateway.partners.sectors import check_registry, policy_sectors
from gateway.pepper import load_pepper
from gateway.policy import build_policy_engine
from gateway.policy.active import SwitchableEngine
from gateway.registry_watch import RegistryWatch
from gateway.services import Services


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
