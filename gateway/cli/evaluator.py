"""``ppsgate evaluator``: run and key one VOPRF evaluator of hashing specification v2.

An evaluator is operated by a party other than the gateway operator (docs/oprf.md); these
commands are what that party runs, reading ``PPSGATE_EVALUATOR_*`` settings only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
import uvicorn

from evaluator.app import create_app
from evaluator.config import EvaluatorSettings, load_evaluator_settings
from evaluator.errors import EvaluatorServiceError
from evaluator.keyring import KeyRing
from evaluator.seeds import add_epoch, destroy_epoch
from gateway.errors import ConfigurationError

app = typer.Typer(
    help="Run one RFC 9497 VOPRF evaluator (hashing spec v2) and manage its epoch seeds.",
    no_args_is_help=True,
)

Epoch = Annotated[int, typer.Option(min=0, help="Salt epoch (the same numbers as v1).")]


@contextmanager
def _as_gateway_errors() -> Iterator[None]:
    """The CLI's single exit point handles GatewayError; evaluator errors become one."""
    try:
        yield
    except EvaluatorServiceError as exc:
        raise ConfigurationError(exc.reason, field=exc.field) from None


def _settings() -> EvaluatorSettings:
    with _as_gateway_errors():
        return load_evaluator_settings()


def _entry(settings: EvaluatorSettings, epochs: list[int] | None, url: str) -> dict[str, Any]:
    with _as_gateway_errors():
        keys = KeyRing(settings.effective_seed_file).public_keys(epochs)
    entry: dict[str, Any] = {"name": settings.name, "public_keys": keys}
    if url:
        entry["url"] = url.rstrip("/")
    return entry


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8100,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve POST /v2/evaluate (uvicorn with httptools and uvloop)."""
    settings = _settings()
    with _as_gateway_errors():
        # Built here so that a bad seed file, JWKS or database fails as one line, not
        # inside a uvicorn worker; one worker serves this very app.
        application = create_app(settings)
    target: Any = application if workers == 1 else "evaluator.app:app_from_environment"
    uvicorn.run(
        target,
        factory=workers > 1,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level.lower(),
        access_log=False,
    )


@app.command("init-seed")
def init_seed(epoch: Epoch) -> None:
    """Create a random seed for EPOCH in the seed file (mode 0600) and print its public keys."""
    settings = _settings()
    with _as_gateway_errors():
        add_epoch(settings.effective_seed_file, epoch)
    typer.echo(json.dumps(_entry(settings, [epoch], ""), indent=2))


@app.command("public-key")
def public_key(
    epoch: Annotated[
        list[int] | None, typer.Option(min=0, help="Epoch(s) to print; default all.")
    ] = None,
    url: Annotated[str, typer.Option(help="Public URL to put in the pins entry.")] = "",
) -> None:
    """Print this evaluator's pins entry (name, URL, public key per epoch and type) as JSON."""
    settings = _settings()
    typer.echo(json.dumps(_entry(settings, epoch or None, url), indent=2))


@app.command("destroy-epoch")
def destroy(
    epoch: Epoch,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the keys are gone for good.")
    ] = False,
) -> None:
    """Delete EPOCH's seed after its overlap window; its tokens can never be computed again."""
    if not yes:
        raise ConfigurationError("destroying an epoch cannot be undone; add --yes", field="yes")
    settings = _settings()
    with _as_gateway_errors():
        destroy_epoch(settings.effective_seed_file, epoch)
    typer.echo(f"epoch {epoch} destroyed in {settings.effective_seed_file}")
