"""Choose the policy engine from the settings: embedded by default, OPA when configured."""

from __future__ import annotations

from gateway.config import Settings
from gateway.policy.decision import PolicyEngine
from gateway.policy.opa_engine import OpaServerEngine
from gateway.policy.regorus_engine import RegorusEngine


def build_policy_engine(settings: Settings) -> PolicyEngine:
    """The engine for these settings; it never raises on a broken bundle, it denies all.

    ``PPSGATE_OPA_URL`` set: an :class:`OpaServerEngine` on that server. Otherwise the
    embedded :class:`RegorusEngine` on ``PPSGATE_POLICY_DIR`` (the shipped policies when
    unset). Both deny with ``engine-unavailable`` when they cannot decide.
    """
    if settings.opa_url:
        return OpaServerEngine(settings.opa_url, timeout_seconds=settings.policy_timeout_seconds)
    return RegorusEngine.from_path(
        settings.policy_dir, timeout_seconds=settings.policy_timeout_seconds
    )
