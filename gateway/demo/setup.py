"""Preparing a demo: a fresh data directory, migrated storage, partners with their own keys."""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from connectors.keystore import ConnectorKeys, save_keystore
from gateway.audit_trail.events import Actor
from gateway.config import Settings, default_data_dir, load_settings
from gateway.db import build_engine, transaction
from gateway.demo.cast import PARTNERS, DemoPartner
from gateway.errors import ConfigurationError
from gateway.migrate import upgrade
from gateway.partners.service import PartnerRegistry
from gateway.services import Services

MARKER = ".ppsgate-demo"
LOCK = ".ppsgate-demo.lock"


def default_demo_dir() -> Path:
    return default_data_dir() / "demo"


@contextmanager
def claimed_directory(path: Path) -> Iterator[Path]:
    """Hold the demo directory for as long as this demo runs (and serves).

    The lock is an exclusive ``flock`` on a file inside the directory, taken before anything
    in it is removed and kept by the file's open descriptor until the demo ends (the
    operating system drops it when the process dies). A second demo on the same directory
    is refused while the first one holds it, so it can never empty a serving demo's
    database and keys.
    """
    _refuse_foreign(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigurationError(
                f"another demo is running on {path}; stop it first, or give this one its own "
                "--data-dir and --port (make demo DEMO_DIR=... PORT=...)",
                field="data_dir",
            ) from None
        yield path
    finally:
        os.close(descriptor)


def _refuse_foreign(path: Path) -> None:
    if (
        path.exists()
        and any(entry.name != LOCK for entry in path.iterdir())
        and not (path / MARKER).exists()
    ):
        raise ConfigurationError(
            f"{path} is not empty and not a demo directory; choose another --data-dir",
            field="data_dir",
        )


def fresh_directory(path: Path) -> None:
    """Empty a claimed demo directory for a new run (its lock file stays, still held)."""
    _refuse_foreign(path)
    for entry in path.iterdir():
        if entry.name == LOCK:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    (path / MARKER).write_text("created by `ppsgate demo`; deleted by the next demo run\n")


def demo_settings(path: Path, *, public_url: str) -> Settings:
    """The embedded defaults in the demo directory, whatever the environment says."""
    settings = load_settings(
        data_dir=path, database_url="", opa_url="", policy_dir=None, public_url=public_url
    )
    engine = build_engine(settings)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return settings


@dataclass(frozen=True, slots=True)
class DemoClient:
    partner_id: str
    client_id: str
    keystore: Path
    keys: ConnectorKeys


def register_partners(
    services: Services, directory: Path, partners: Iterable[DemoPartner] = PARTNERS
) -> dict[str, DemoClient]:
    """Onboard the demo partners, each with a connector key pair of its own."""
    clients: dict[str, DemoClient] = {}
    actor = Actor(request_id=f"demo-{secrets.token_hex(6)}", user="demo")
    with transaction(services.session_factory) as session:
        registry = PartnerRegistry(session, services.audit, actor=actor, clock=services.clock)
        for partner in partners:
            registry.add_partner(
                name=partner.name, sector=partner.sector, partner_id=partner.partner_id
            )
            keys = ConnectorKeys.generate()
            keystore = directory / "connectors" / partner.partner_id / "keystore.json"
            keystore.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            save_keystore(keystore, keys)
            client = registry.add_client(
                partner_id=partner.partner_id,
                jwk=keys.public_jwks(),
                scopes=[scope.value for scope in partner.scopes],
                client_id=f"{partner.partner_id}-connector",
            )
            clients[partner.partner_id] = DemoClient(partner.partner_id, client.id, keystore, keys)
    return clients
