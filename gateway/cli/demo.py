"""``ppsgate demo`` and ``ppsgate serve``."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Annotated

import httpx
import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from connectors.client import GatewayClient
from gateway.app import build_services, create_app
from gateway.asgi import app_from_environment
from gateway.config import load_settings
from gateway.db import transaction
from gateway.demo import custody, next_steps, story
from gateway.demo import partners as demo_partners
from gateway.demo.accounts import create_console_accounts
from gateway.demo.cast import (
    CUSTODIAN,
    ORGANISATIONS,
    PARTNERS,
    DemoOrganisation,
    DemoPartner,
)
from gateway.demo.privacy import scan_in_child
from gateway.demo.setup import (
    DemoClient,
    claimed_directory,
    default_demo_dir,
    demo_settings,
    fresh_directory,
    register_partners,
)
from gateway.errors import ConfigurationError
from gateway.server import (
    WORKER_PING_SECONDS,
    BackgroundServer,
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
            _run(Console(), directory, listener, host=host, serve=serve)
    finally:
        listener.close()


def _run(
    console: Console, directory: Path, listener: socket.socket, *, host: str, serve: bool
) -> None:
    port = int(listener.getsockname()[1])
    settings = demo_settings(directory, public_url=f"http://{host}:{port}")
    services = build_services(settings)
    app = create_app(settings, services=services)
    clients = register_partners(services, directory, (*PARTNERS, CUSTODIAN))
    custodian = clients.pop(CUSTODIAN.partner_id)
    accounts = create_console_accounts(services)
    server = BackgroundServer(app, host=host, listener=listener).start()
    try:
        keys = custody.distribute(server.url, custodian, clients, directory)
        log = _play(server.url, keys, clients)
        with transaction(services.session_factory) as session:
            services.audit.sign_checkpoint(session)
        sth = httpx.get(f"{server.url}/v1/audit/sth", timeout=10).json()
        _print_summary(console, directory, log, sth)
        if not serve:
            console.print("Not serving (--no-serve): the console and connector next steps need it.")
            return
        next_steps.show(console, next_steps.build(server.url, accounts, clients.values()))
        console.print(
            f"\n[bold]Serving the gateway on {server.url}[/] (OpenAPI docs: {server.url}/docs). "
            "Ctrl-C stops."
        )
        threading.Event().wait()
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        server.stop()
        services.engine.dispose()


def _play(
    url: str, keys: custody.Distribution, clients: dict[str, DemoClient]
) -> demo_partners.StoryLog:
    log = demo_partners.StoryLog()
    log.add(
        "0 key custody",
        CUSTODIAN.partner_id,
        f"creates and activates epoch {keys.epoch}",
        f"envelopes for {len(keys.kinds)} partners; key {keys.custodian_key[:24]}…",
    )
    for partner_id, kinds in keys.kinds.items():
        log.add(
            "0 key custody",
            partner_id,
            "fetches and opens its envelope",
            "type keys: " + ", ".join(kinds),
        )
    connections = {
        partner_id: GatewayClient(url, demo_client.client_id, demo_client.keys)
        for partner_id, demo_client in clients.items()
    }
    try:
        return story.play(demo_partners.Partners(connections, keys.tokenisers, log))
    finally:
        for connection in connections.values():
            connection.close()


def _print_summary(
    console: Console, directory: Path, log: demo_partners.StoryLog, sth: dict[str, object]
) -> None:
    partners = Table(title="Partners (each with its own private_key_jwt client)")
    for column in ("partner", "name", "sector"):
        partners.add_column(column)
    members: list[DemoPartner | DemoOrganisation] = [*PARTNERS, CUSTODIAN, *ORGANISATIONS]
    for partner in members:
        partners.add_row(partner.partner_id, partner.name, partner.sector)
    console.print(partners)

    steps = Table(title="What happened")
    for column in ("scenario", "partner", "action", "outcome"):
        steps.add_column(column)
    for step in log.steps:
        steps.add_row(step.scenario, step.actor, step.action, step.outcome)
    console.print(steps)

    found = scan_in_child(directory)  # never open the serving database's files here
    checks = Table(title="Checks", show_header=False)
    checks.add_row("HTTP requests by partners", str(log.requests))
    checks.add_row("audit log size (signed tree head)", str(sth.get("tree_size")))
    checks.add_row("audit root hash", str(sth.get("root_hash")))
    checks.add_row(
        "identifiers in the clear in the database", "none" if not found else ", ".join(found)
    )
    checks.add_row("data directory", str(directory))
    console.print(checks)


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
