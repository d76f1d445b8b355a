"""Two real evaluators served by uvicorn in background threads on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.evaluators import GatewayTokenIssuer
from evaluator.app import create_app
from gateway.server import BackgroundServer
from tests.unit.evaluator.support import evaluator_settings, pin_for


@dataclass
class RunningEvaluator:
    settings: Any
    server: BackgroundServer
    pin: Any


@pytest.fixture(scope="module")
def issuer() -> GatewayTokenIssuer:
    return GatewayTokenIssuer()


@pytest.fixture(scope="module")
def evaluators(
    tmp_path_factory: pytest.TempPathFactory, issuer: GatewayTokenIssuer
) -> Iterator[list[RunningEvaluator]]:
    running = []
    base: Path = tmp_path_factory.mktemp("evaluators")
    for name in ("alpha", "beta"):
        settings = evaluator_settings(
            base / name, name, issuer, epochs=(1, 2), partner_quotas={"tiny-partner": 4}
        )
        server = BackgroundServer(create_app(settings)).start()
        running.append(RunningEvaluator(settings, server, pin_for(settings, server.url)))
    yield running
    for evaluator in running:
        evaluator.server.stop()
