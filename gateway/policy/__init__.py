"""Policy decisions: Rego policies tied to GDPR legal bases, on an embedded or OPA engine.

The contract with the rest of the gateway is :mod:`gateway.policy.decision`; engines are
built by :func:`build_policy_engine` and never raise from ``decide`` — they fail closed.
"""

from __future__ import annotations

import os

# regorus allocates with its own mimalloc, which by default commits its arenas' memory eagerly;
# each worker thread keeps an engine of its own (regorus engines cannot move between threads)
# in memory of its own, so that nearly doubled every thread's engine: 4.1 MB instead of 2.2
# with the shipped bundle (tests/unit/gateway/policy/test_engine_memory.py). mimalloc reads
# the setting once, when regorus is loaded, so it is set before the first import of regorus
# below. An operator's own value is kept (docs/scaling.md, "Memory per worker").
os.environ.setdefault("MIMALLOC_ARENA_EAGER_COMMIT", "0")  # noqa: TID251 - not a setting

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
