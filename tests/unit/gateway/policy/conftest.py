"""Fixtures for the policy tests: the shipped bundle, both engines, and the OPA STAND-IN.

The OPA server binary cannot be installed here, so ``OpaServerEngine`` is exercised against
:mod:`gateway.policy.opa_standin`, a local STAND-IN serving OPA's REST API on a loopback
port; tests that use it say so in their names (``standin``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.policy.bundle import PolicyBundle, default_policy_dir, load_bundle
from gateway.policy.decision import PolicyEngine
from gateway.policy.opa_engine import OpaServerEngine
from gateway.policy.opa_standin import StandInServer, StandInState, start_standin
from gateway.policy.regorus_engine import RegorusEngine

ENGINE_KINDS = ("embedded", "opa-standin")


@pytest.fixture(scope="session")
def bundle() -> PolicyBundle:
    return load_bundle()


@pytest.fixture(scope="session")
def embedded(bundle: PolicyBundle) -> RegorusEngine:
    engine = RegorusEngine(bundle)
    assert engine.problem is None
    return engine


@pytest.fixture(scope="session")
def standin(bundle: PolicyBundle) -> Iterator[StandInServer]:
    """An OPA STAND-IN serving the shipped bundle for the whole session."""
    server = start_standin(StandInState.from_bundle(bundle))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def opa_engine(standin: StandInServer) -> OpaServerEngine:
    return OpaServerEngine(standin.url, timeout_seconds=2.0)


@pytest.fixture(params=ENGINE_KINDS)
def engine(
    request: pytest.FixtureRequest, embedded: RegorusEngine, opa_engine: OpaServerEngine
) -> PolicyEngine:
    """Each engine in turn: embedded regorus, then OPA via the STAND-IN."""
    return embedded if request.param == "embedded" else opa_engine


def copy_policies(target: Path) -> Path:
    """A writable copy of the shipped policies (gateway/ and data/) for broken variants."""
    source = default_policy_dir()
    for part in ("gateway", "data"):
        shutil.copytree(source / part, target / part)
    return target
