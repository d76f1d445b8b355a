"""Policy decisions: Rego policies tied to GDPR legal bases, on an embedded or OPA engine.

The contract with the rest of the gateway is :mod:`gateway.policy.decision`; engines are
built by :func:`build_policy_engine` and never raise from ``decide`` — they fail closed.
"""

from __future__ import annotations

from gateway.policy.decision import (
    ENGINE_UNAVAILABLE,
    Action,
    Corroboration,
    Decision,
    DecisionRequest,
    Disclosure,
    PolicyEngine,
    Reason,
)
from gateway.policy.factory import build_policy_engine

__all__ = [
    "ENGINE_UNAVAILABLE",
    "Action",
    "Corroboration",
    "Decision",
    "DecisionRequest",
    "Disclosure",
    "PolicyEngine",
    "Reason",
    "build_policy_engine",
]
