"""The gateway holds nothing that could open an envelope, and has no code that would.

Three angles: the gateway's source (bar the demo, which plays the partners' connectors
in-process) never names a decryption primitive or imports the connector's key-holding
modules; a process that loads the served gateway and the keys area never loads
``nacl.public`` (sealed boxes) or those modules at all; and no
column of the keys tables is meant for secret material. The functional tests add the
fourth: after a full custodian flow, no salt, type key or private key is in the database.
"""

from __future__ import annotations

import ast
from pathlib import Path

from gateway import models  # every area's tables, so foreign keys resolve

ROOT = Path(__file__).resolve().parents[4]
GATEWAY = ROOT / "gateway"
# Partner-side code: the demo runs the partners' connectors in the same process, and a
# privacy officer verifying the log signs in with their own connector key store.
SIMULATORS = {
    GATEWAY / "demo",
    GATEWAY / "cli" / "demo.py",
    GATEWAY / "cli" / "reader_credentials.py",
}
# Modules that hold or open partners' keys. (Canonicalisation, ``connectors.canonical``,
# holds none and is shared with the help desk's tools.)
FORBIDDEN_MODULES = (
    "nacl.public",
    "nacl.bindings.crypto_box",
    "connectors.keystore",
    "connectors.custodian",
    "connectors.typekeys",
    "connectors.secretfile",
    "connectors.hashing",
)
FORBIDDEN_NAMES = {
    "SealedBox",
    "PrivateKey",
    "Box",
    "X25519PrivateKey",
    "crypto_box_seal_open",
    "crypto_box_open",
    "crypto_scalarmult",
}


def _served_sources() -> list[Path]:
    return [
        path
        for path in sorted(GATEWAY.rglob("*.py"))
        if not any(path == s or s in path.parents for s in SIMULATORS)
    ]


def test_gateway_sources_name_no_decryption_primitive() -> None:
    offences: list[str] = []
    sources = _served_sources()
    assert GATEWAY / "keys" / "service.py" in sources
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                offences.extend(
                    f"{path}:{node.lineno} imports {a.name}"
                    for a in node.names
                    if a.name in FORBIDDEN_NAMES
                )
            elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
                offences.append(f"{path}:{node.lineno} uses .{node.attr}")
                continue
            else:
                continue
            offences.extend(
                f"{path}:{node.lineno} imports {name}"
                for name in names
                if any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES)
            )
    assert offences == []


def _module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, name: str) -> set[str]:
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                module = ".".join([*parts[: len(parts) - node.level + 1], module]).strip(".")
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_the_served_gateway_cannot_reach_a_box_opener() -> None:
    """Every module reachable by import from the app and the keys area, followed statically."""
    roots = ["gateway.app", "gateway.keys.routes", "gateway.keys.uploads", "gateway.retention"]
    seen: set[str] = set()
    external: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None:
            if not name.startswith(("gateway", "connectors", "audit", "policies")):
                external.add(name)
            continue
        seen.add(name)
        parent = name.rpartition(".")[0]
        if parent and parent not in seen:
            pending.append(parent)
        pending.extend(_imports(path, name) - seen)
    assert "gateway.keys.uploads" in seen
    assert "gateway.indicators.service" in seen
    # nacl.signing would load nacl.public (it converts keys to Curve25519); the gateway
    # verifies Ed25519 with ``cryptography`` instead.
    forbidden = (*FORBIDDEN_MODULES, "nacl.signing")
    reached = sorted(
        m for m in seen | external if any(m == f or m.startswith(f + ".") for f in forbidden)
    )
    assert reached == []


def test_no_keys_column_is_meant_for_secret_material() -> None:
    suspicious = ("private", "secret", "salt", "seed", "type_key", "plaintext")
    columns = [
        f"{table.name}.{column.name}"
        for table in models.keys_models.Base.metadata.sorted_tables
        if table.name in {"custodian_keys", "key_epochs", "key_manifests", "key_envelopes"}
        for column in table.columns
    ]
    assert len(columns) > 20
    assert [c for c in columns if any(word in c for word in suspicious)] == []
