"""``ppsgate evaluator``: run and key one VOPRF evaluator of hashing specification v2.

An evaluator is operated by a party other than the gateway operator (docs/oprf.md); these
commands are what that party runs, reading ``PPSGATE_EVALUATOR_*`` settings only.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from connectors.oprf.errors import EvaluatorConfigError
from connectors.oprf.pins import PINS_FORMAT, PINS_VERSION, parse_pins, pins_document
from connectors.oprf.suite import SUITE
from evaluator.client_keys import client_entry, empty_document, parse_client_keys
from evaluator.config import EvaluatorSettings, load_evaluator_settings
from evaluator.errors import EvaluatorServiceError
from evaluator.keyring import KeyRing
from evaluator.seeds import add_epoch, destroy_epoch
from gateway.errors import ConfigurationError
from gateway.server import WORKER_PING_SECONDS

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
        # Imported here: the evaluator's HTTP app (FastAPI) is only needed by `serve`.
        from evaluator.app import create_app  # noqa: PLC0415

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
        timeout_worker_healthcheck=WORKER_PING_SECONDS,
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


def _read_entry(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"cannot read {path} as JSON ({type(exc).__name__}); give the output of "
            "`ppsgate evaluator public-key --url URL`",
            field="entries",
        ) from None


@app.command("pins")
def pins(
    entries: Annotated[
        list[Path],
        typer.Argument(
            help="Each evaluator's `public-key --url URL` output, in chain order (the "
            "first evaluator first)."
        ),
    ],
    out: Annotated[Path, typer.Option(help="The pins document to write.")],
) -> None:
    """Write the pins document partners point PPSGATE_CONNECTOR_EVALUATORS at."""
    document = {
        "format": PINS_FORMAT,
        "version": PINS_VERSION,
        "suite": SUITE,
        "evaluators": [_read_entry(path) for path in entries],
    }
    try:
        # The connector's own reader: what it refuses (one evaluator, a shared key, an entry
        # without a URL) is refused here, before the document is published.
        checked = pins_document(parse_pins(document))
    except EvaluatorConfigError as exc:
        raise ConfigurationError(exc.reason, field=exc.field) from None
    out.write_text(json.dumps(checked, indent=2) + "\n", encoding="utf-8")
    names = ", ".join(entry["name"] for entry in checked["evaluators"])
    typer.echo(f"wrote {out}: evaluators {names} (chain order)")


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


clients_app = typer.Typer(
    help="Pin partners' connector keys at this evaluator (PPSGATE_EVALUATOR_CLIENT_KEYS_FILE).",
    no_args_is_help=True,
)
app.add_typer(clients_app, name="clients")


def _clients_file() -> Path:
    settings = _settings()
    if settings.client_keys_file is None:
        raise ConfigurationError(
            "set PPSGATE_EVALUATOR_CLIENT_KEYS_FILE to the file of pinned client keys",
            field="client_keys_file",
        )
    return settings.client_keys_file


def _read_clients(path: Path) -> dict[str, Any]:
    if not path.exists():
        return empty_document()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}", field="client_keys_file") from None
    with _as_gateway_errors():
        parse_client_keys(document, source=str(path))  # refuse to extend a broken file
    return dict(document)


def _write_clients(path: Path, document: dict[str, Any]) -> None:
    """Atomically: a running evaluator re-reads the file and must never see half of it.

    Run one ``clients`` command at a time: two at once may lose one's change (never the file).
    """
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as partial:
            partial.write(text)
            partial.flush()
            os.fsync(partial.fileno())
        os.chmod(name, 0o644)  # public keys only, but writable by the operator alone
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


@clients_app.command("add")
def clients_add(
    client_id: Annotated[str, typer.Option(help="The connector's OAuth client id.")],
    partner_id: Annotated[str, typer.Option(help="The partner the client belongs to.")],
    jwks: Annotated[
        Path,
        typer.Option(help="The public keys the partner handed over (`keys init` output)."),
    ],
) -> None:
    """Pin a partner connector's public signing key (received from the partner, out of band)."""
    path = _clients_file()
    try:
        given = json.loads(jwks.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read {jwks}: {exc}", field="jwks") from None
    with _as_gateway_errors():
        entry = client_entry(client_id, partner_id, given)
    document = _read_clients(path)
    clients = [c for c in document["clients"] if c.get("client_id") != client_id]
    replaced = len(clients) != len(document["clients"])
    document["clients"] = [*clients, entry]
    _write_clients(path, document)
    action = "replaced" if replaced else "pinned"
    typer.echo(f"{action} client {client_id} of partner {partner_id} in {path}")


@clients_app.command("remove")
def clients_remove(
    client_id: Annotated[str, typer.Option(help="The client id to unpin.")],
) -> None:
    """Unpin a client: its requests are refused from the next one on."""
    path = _clients_file()
    document = _read_clients(path)
    kept = [c for c in document["clients"] if c.get("client_id") != client_id]
    if len(kept) == len(document["clients"]):
        raise ConfigurationError(f"client {client_id!r} is not pinned", field="client_id")
    document["clients"] = kept
    _write_clients(path, document)
    typer.echo(f"unpinned client {client_id} in {path}")


@clients_app.command("list")
def clients_list() -> None:
    """The pinned clients: client id, partner, key thumbprint."""
    path = _clients_file()
    with _as_gateway_errors():
        pinned = parse_client_keys(_read_clients(path), source=str(path))
    for client in pinned.values():
        typer.echo(f"{client.client_id}\t{client.partner_id}\t{client.thumbprint}")
