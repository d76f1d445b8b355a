"""The demo's run: build the gateway, register the cast, play the story, print, serve.

Kept apart from ``gateway.cli.demo`` so that every other command of ``ppsgate`` starts without
importing the app, its routes and the demo (about 1.5 s of imports per command).
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from connectors.client import GatewayClient
from gateway.app import create_app
from gateway.bootstrap import build_services
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
from gateway.demo.setup import DemoClient, demo_settings, register_partners
from gateway.server import BackgroundServer


def run(
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
