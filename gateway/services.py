"""The services one gateway process holds, built once by the app factory.

Routes receive them through ``gateway.deps``; tests swap any of them with
``app.dependency_overrides`` or by building the container with other parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit_trail.service import AuditTrail
from gateway.clock import Clock
from gateway.config import Settings
from gateway.pepper import PepperRing
from gateway.policy.decision import PolicyEngine
from gateway.registry_watch import RegistryWatch


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    engine: Engine
    # Quota counters' short transactions (gateway.abuse.counters); disposed with ``engine``.
    counter_engine: Engine
    session_factory: sessionmaker[Session]
    policy: PolicyEngine
    audit: AuditTrail
    pepper: PepperRing
    clock: Clock
    # What this worker read of clients, partners and epochs, forgotten at every change.
    registry: RegistryWatch
    # Access-token signatures this worker verified, by (key id, token): memory only, never
    # logged (gateway.auth.access_tokens; claims and the client's status are checked anyway).
    verified_tokens: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
