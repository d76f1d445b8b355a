"""``ppsgate demo`` and ``ppsgate serve``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from gateway.config import load_settings
from gateway.demo.setup import (
    claimed_directory,
    default_demo_dir,
    fresh_directory,
)
from gateway.errors import ConfigurationError
from gateway.server import (
    WORKER_PING_SECONDS,
    bind_listener,
    proxy_options,
    serve_forever,
)

Host = Annotated[str, typer.Option(help="Address to serve on.")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")]


def demo(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    serve: Annotated[bool, typer.Option(help="Keep serving after the demo (Ctrl-C stops).")] = True,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Demo data directory (emptied first; refused while a demo uses it)."),
    ] = None,
) -> None:
    """Play the fraud scenarios on the embedded defaults, then keep serving the gateway."""
    directory = (data_dir or default_demo_dir()).expanduser().resolve()
    # The port and the directory are claimed before anything is removed: a second demo
    # stops here with a clear error and leaves a serving one untouched.
    listener = bind_listener(host, port if serve else 0)
    try:
        with claimed_directory(directory):
            fresh_directory(directory)
            # Imported here: only the demo needs the app, its routes and the story.
            from gateway.demo.run import run  # noqa: PLC0415

            run(Console(), directory, listener, host=host, serve=serve)
    finally:
        listener.close()


def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes (PostgreSQL only). Each holds its own connection pool of "
            "PPSGATE_DATABASE_POOL_SIZE (+ as many overflow) and one of half that size for "
            "quota counters: keep workers x 3 x pool size below the server's max_connections.",
        ),
    ] = 1,
) -> None:
    """Serve the gateway with the configured settings (PPSGATE_*)."""
    settings = load_settings()  # fail here, once, on a bad setting rather than in N workers
    if workers > 1 and not settings.is_postgres:
        raise ConfigurationError(
            "several workers need PostgreSQL (PPSGATE_DATABASE_URL); the embedded SQLite "
            "database serves one process",
            field="workers",
        )
    if workers == 1:
        # The same app a worker builds; forwarded headers only from the configured proxy.
        # Imported here: other commands start without the app (see gateway.demo.run).
        from gateway.asgi import app_from_environment  # noqa: PLC0415

        serve_forever(app_from_environment(), host, port, settings.forwarded_allow_ips)
        return
    # Each worker process builds its own app from the same PPSGATE_* environment; the audit
    # sequencer, checkpoint signer and counters coordinate through the database.
    uvicorn.run(
        "gateway.asgi:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_worker_healthcheck=WORKER_PING_SECONDS,
        **proxy_options(settings.forwarded_allow_ips),
    )
