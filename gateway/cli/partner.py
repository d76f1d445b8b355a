"""``ppsgate partner``: the partner registry from the operator's terminal.

Each command migrates the database first, runs one registry operation in one transaction
(audited, as the operator's CLI user) and prints the result. The public JWK a partner sends
comes from ``ppsgate-connector keys init``; no secret is ever typed here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gateway.audit_trail.events import Actor
from gateway.audit_trail.service import build_audit_trail
from gateway.config import Settings
from gateway.datadir import operator_settings
from gateway.db import build_engine, build_session_factory, transaction
from gateway.errors import InvalidRequestError
from gateway.migrate import upgrade
from gateway.partners.models import Partner, PartnerClient
from gateway.partners.sectors import policy_sectors
from gateway.partners.service import PartnerRegistry

app = typer.Typer(
    help="Partner registry: onboard, suspend, clients and their keys.", no_args_is_help=True
)
out = Console(highlight=False, soft_wrap=True)


@contextmanager
def registry_context() -> Iterator[tuple[PartnerRegistry, Settings]]:
    """Settings, migrated database and one audited transaction for a registry command."""
    settings = operator_settings()
    engine = build_engine(settings)
    try:
        upgrade(engine)
        audit = build_audit_trail(settings)
        with transaction(build_session_factory(engine)) as session:
            sectors = policy_sectors(session, settings.policy_dir)
            registry = PartnerRegistry(session, audit, actor=Actor.command_line(), sectors=sectors)
            yield registry, settings
    finally:
        engine.dispose()


def _read_jwk(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRequestError(f"cannot read {path}: {exc.strerror}", field="jwk") from None


def _partner_dict(partner: Partner, clients: list[PartnerClient]) -> dict[str, object]:
    return {
        "id": partner.id,
        "name": partner.name,
        "sector": partner.sector,
        "status": partner.status,
        "clients": [
            {
                "id": client.id,
                "status": client.status,
                "scopes": client.scopes.split(),
                "key_id": client.key_id,
                "key_version": client.key_version,
                "key_rotated_at": client.key_rotated_at.isoformat()
                if client.key_rotated_at
                else None,
                "envelope_key": client.encryption_jwk is not None,
            }
            for client in clients
        ],
    }


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("add")
def add(
    name: Annotated[str, typer.Option(help="Organisation name.")],
    sector: Annotated[
        str,
        typer.Option(
            help="A sector of the policy data (bank, telecom, "
            "marketplace, psp, registry, police, bailiff, helpdesk, "
            "partnership_dpo, ...) or operator; must match the "
            "partner's sector in the policy data."
        ),
    ],
    partner_id: Annotated[
        str | None, typer.Option("--id", help="Slug id (default: from the name).")
    ] = None,
) -> None:
    """Onboard a partner organisation."""
    with registry_context() as (registry, _):
        partner = registry.add_partner(name=name, sector=sector, partner_id=partner_id)
        out.print(f"partner {partner.id} added ({partner.sector})")


@app.command("list")
def list_partners(as_json: JsonOption = False) -> None:
    """List partners with their status and number of clients."""
    with registry_context() as (registry, _):
        partners = [(p, registry.clients_of(p.id)) for p in registry.list_partners()]
    if as_json:
        out.print_json(json.dumps([_partner_dict(p, c) for p, c in partners]))
        return
    table = Table("id", "name", "sector", "status", "clients")
    for partner, clients in partners:
        table.add_row(partner.id, partner.name, partner.sector, partner.status, str(len(clients)))
    out.print(table)


@app.command("show")
def show(
    partner_id: Annotated[str, typer.Argument(help="Partner id.")], as_json: JsonOption = False
) -> None:
    """Show a partner and its clients (status, scopes, key ids)."""
    with registry_context() as (registry, _):
        data = _partner_dict(registry.get(partner_id), registry.clients_of(partner_id))
    if as_json:
        out.print_json(json.dumps(data))
        return
    out.print(f"{data['id']}: {data['name']} ({data['sector']}, {data['status']})")
    table = Table("client", "status", "scopes", "key id", "key version")
    for client in data["clients"]:  # type: ignore[attr-defined]
        table.add_row(
            client["id"],
            client["status"],
            " ".join(client["scopes"]),
            client["key_id"],
            str(client["key_version"]),
        )
    out.print(table)


@app.command("suspend")
def suspend(partner_id: Annotated[str, typer.Argument(help="Partner id.")]) -> None:
    """Suspend a partner: its tokens are refused from the next request on."""
    with registry_context() as (registry, _):
        registry.suspend(partner_id)
    out.print(f"partner {partner_id} suspended")


@app.command("reinstate")
def reinstate(partner_id: Annotated[str, typer.Argument(help="Partner id.")]) -> None:
    """Reinstate a suspended partner."""
    with registry_context() as (registry, _):
        registry.reinstate(partner_id)
    out.print(f"partner {partner_id} reinstated")


@app.command("add-client")
def add_client(
    partner_id: Annotated[str, typer.Option("--partner", help="Partner id.")],
    jwk: Annotated[
        Path,
        typer.Option(
            help="File with the public JWK (set) printed by `ppsgate-connector keys init`."
        ),
    ],
    scopes: Annotated[
        str,
        typer.Option(help="Space- or comma-separated scopes, e.g. 'indicators:write match:query'."),
    ],
    client_id: Annotated[
        str | None,
        typer.Option("--client-id", help="Client id (default: partner id plus a random suffix)."),
    ] = None,
) -> None:
    """Register a connector client with its public key and scopes."""
    with registry_context() as (registry, settings):
        client = registry.add_client(
            partner_id=partner_id,
            jwk=_read_jwk(jwk),
            scopes=scopes.replace(",", " "),
            client_id=client_id,
        )
        out.print(f"client {client.id} added for {partner_id}; key id {client.key_id}")
        out.print(f"token endpoint: {settings.token_endpoint_url}")


@app.command("rotate-key")
def rotate_key(
    client_id: Annotated[str, typer.Argument(help="Client id.")],
    jwk: Annotated[Path, typer.Option(help="File with the client's new public JWK (set).")],
) -> None:
    """Replace a client's key; tokens issued under the old key stop working at once."""
    with registry_context() as (registry, _):
        client = registry.rotate_key(client_id, _read_jwk(jwk))
        out.print(f"client {client.id} now uses key {client.key_id} (version {client.key_version})")


@app.command("suspend-client")
def suspend_client(client_id: Annotated[str, typer.Argument(help="Client id.")]) -> None:
    """Suspend one connector client (e.g. a lost or compromised installation)."""
    with registry_context() as (registry, _):
        registry.suspend_client(client_id)
    out.print(f"client {client_id} suspended")


@app.command("reinstate-client")
def reinstate_client(client_id: Annotated[str, typer.Argument(help="Client id.")]) -> None:
    """Reinstate a suspended connector client."""
    with registry_context() as (registry, _):
        registry.reinstate_client(client_id)
    out.print(f"client {client_id} reinstated")
