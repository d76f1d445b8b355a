"""VOPRF evaluators as their own processes on loopback, set up as an operator would.

Each evaluator is ``ppsgate evaluator serve``'s uvicorn factory in a process of its own
with its own seed file (made by ``ppsgate evaluator init-seed``), SQLite database and the
token issuer's public JWKS; its pins entry is ``ppsgate evaluator public-key`` output. The
issuer is anything with ``public_url`` and ``write_jwks(path)``: a test issuer minting
tokens directly, or a running gateway (:class:`GatewayIssuer`).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from typer.testing import CliRunner

from bench.evaluators import evaluator_command
from connectors.oprf.pins import PINS_FORMAT
from evaluator.client_keys import empty_document
from evaluator.seeds import read_seeds
from gateway.cli import app as cli_app
from gateway.server import free_port

EPOCH = 1


class Issuer(Protocol):
    """Who signs the access tokens the evaluators accept."""

    public_url: str

    def write_jwks(self, path: Path) -> Path:
        """Write the issuer's public token-signing JWKS to ``path``."""
        ...


@dataclass
class GatewayIssuer:
    """A running gateway as the evaluators' token issuer (its published JWKS)."""

    public_url: str

    def write_jwks(self, path: Path) -> Path:
        response = httpx.get(f"{self.public_url}/.well-known/jwks.json", timeout=10)
        response.raise_for_status()
        path.write_text(response.text, encoding="utf-8")
        return path


@dataclass
class EvaluatorProcess:
    name: str
    directory: Path
    url: str
    process: subprocess.Popen[bytes]
    entry: dict[str, Any]
    env: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def seed(self) -> bytes:
        return read_seeds(self.directory / "seeds")[EPOCH]


def _env(
    directory: Path,
    name: str,
    issuer: Issuer,
    quotas: Mapping[str, int],
    audience: str,
    clients_file: Path | None,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PPSGATE_")}
    env.update(
        {
            "PPSGATE_EVALUATOR_ENV": "test",
            "PPSGATE_EVALUATOR_NAME": name,
            "PPSGATE_EVALUATOR_DATA_DIR": str(directory),
            "PPSGATE_EVALUATOR_SEED_FILE": str(directory / "seeds"),
            "PPSGATE_EVALUATOR_TOKEN_ISSUER": issuer.public_url,
            "PPSGATE_EVALUATOR_TOKEN_JWKS_FILE": str(directory / "gateway-jwks.json"),
            "PPSGATE_EVALUATOR_PARTNER_QUOTAS": json.dumps(dict(quotas)),
            "PPSGATE_EVALUATOR_LOG_LEVEL": "WARNING",
            "PPSGATE_EVALUATOR_TOKEN_AUDIENCE": audience,
        }
    )
    if clients_file is not None:
        env["PPSGATE_EVALUATOR_CLIENT_KEYS_FILE"] = str(clients_file)
    return env


def _run_cli(env: dict[str, str], *args: str) -> str:
    """The real ``ppsgate evaluator`` command, in process (saves a slow interpreter start)."""
    result = CliRunner().invoke(cli_app, ["evaluator", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def start_evaluator(
    base: Path,
    name: str,
    issuer: Issuer,
    *,
    quotas: Mapping[str, int] | None = None,
    port: int | None = None,
    own_audience: bool = False,
) -> EvaluatorProcess:
    """Seed, publish and serve one evaluator (call :func:`wait_ready` before using it).

    With ``own_audience`` it is set up as in production: it accepts only tokens whose
    ``aud`` is its own URL (RFC 8707 resource tokens from a gateway listing it in
    ``PPSGATE_TOKEN_RESOURCES``) and only requests with a DPoP proof from a client pinned in
    its client keys file (:func:`pin_client`); otherwise the issuer's URL is the audience (a
    test issuer's tokens) and no proof is asked for.
    """
    directory = base / name
    directory.mkdir(parents=True)
    issuer.write_jwks(directory / "gateway-jwks.json")
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    clients_file = directory / "clients.json" if own_audience else None
    if clients_file is not None:
        clients_file.write_text(json.dumps(empty_document()), encoding="utf-8")
    env = _env(directory, name, issuer, quotas or {}, url if own_audience else "", clients_file)
    _run_cli(env, "init-seed", "--epoch", str(EPOCH))
    entry = json.loads(_run_cli(env, "public-key", "--url", url))
    process = subprocess.Popen(
        evaluator_command(port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return EvaluatorProcess(name, directory, url, process, entry, env)


def pin_client(
    evaluator: EvaluatorProcess, client_id: str, partner_id: str, jwks_file: Path
) -> None:
    """The evaluator operator pins a partner's connector key: ``clients add``."""
    _run_cli(
        evaluator.env,
        "clients",
        "add",
        "--client-id",
        client_id,
        "--partner-id",
        partner_id,
        "--jwks",
        str(jwks_file),
    )


def add_epoch(evaluator: EvaluatorProcess, epoch: int) -> None:
    """The operator's rotation step: ``init-seed --epoch N``; the running service re-reads
    its seed file, and ``entry`` becomes the new ``public-key`` output (both epochs)."""
    _run_cli(evaluator.env, "init-seed", "--epoch", str(epoch))
    evaluator.entry = json.loads(_run_cli(evaluator.env, "public-key", "--url", evaluator.url))


def wait_ready(evaluator: EvaluatorProcess) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if evaluator.process.poll() is not None:
            error = evaluator.process.stderr.read().decode() if evaluator.process.stderr else ""
            pytest.fail(f"{evaluator.name} exited: {error[-2000:]}")
        try:
            if httpx.get(f"{evaluator.url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"{evaluator.name} did not start")


@contextmanager
def running_evaluators(
    base: Path,
    issuer: Issuer,
    *names: str,
    quotas: Mapping[str, int] | None = None,
    ports: Mapping[str, int] | None = None,
) -> Iterator[list[EvaluatorProcess]]:
    """Start every named evaluator, wait until all serve, stop them all afterwards.

    With ``ports`` (chosen before the gateway starts, so that it can list the evaluators'
    URLs as RFC 8707 resources) each evaluator serves there and accepts only tokens made
    for its own URL.
    """
    started = [
        start_evaluator(
            base,
            name,
            issuer,
            quotas=quotas,
            port=(ports or {}).get(name),
            own_audience=ports is not None,
        )
        for name in names
    ]
    try:
        for evaluator in started:
            wait_ready(evaluator)
        yield started
    finally:
        for evaluator in started:
            evaluator.process.terminate()
        for evaluator in started:
            evaluator.process.wait(timeout=10)


def write_pins(path: Path, evaluators: list[EvaluatorProcess]) -> Path:
    """The pins document the partnership publishes: the evaluators' entries, in order."""
    path.write_text(
        json.dumps(
            {
                "format": PINS_FORMAT,
                "version": 1,
                "suite": "ristretto255-SHA512",
                "evaluators": [evaluator.entry for evaluator in evaluators],
            }
        ),
        encoding="utf-8",
    )
    return path
