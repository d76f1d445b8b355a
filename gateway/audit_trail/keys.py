"""The checkpoint signing key: one file outside the database, in the Go note key format.

The file holds one line ``PRIVATE+KEY+<origin>+<key id>+<base64>`` (what
``ppsgate audit keygen`` writes). Keeping it outside the database means a database dump or a
rogue database administrator cannot sign a rewritten history; the file must be readable by
the gateway user only. In development a key is generated in the data directory on first use.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from audit.errors import NoteError
from audit.note import ALG_COSIGNATURE_V1, Signer, Verifier, generate_signer, parse_signer_key
from audit.note import parse_verifier_key as parse_vkey
from gateway.config import Environment, Settings
from gateway.errors import ConfigurationError

DEV_KEY_NAME = "audit-checkpoint.key"


def write_key_file(path: Path, signer: Signer) -> None:
    """Create ``path`` (mode 0600, never overwriting) holding the signer key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigurationError(f"{path} exists already; refusing to overwrite a key") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(signer.signer_key + "\n")


def load_key_file(path: Path, *, setting: str) -> Signer:
    """Read a signer key file, refusing one that others can read."""
    try:
        mode = path.stat().st_mode
        text = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{setting}: cannot read {path} ({exc})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"{setting}: {path} is readable by other users; run chmod 600 on it"
        )
    try:
        return parse_signer_key(text)
    except NoteError as exc:
        raise ConfigurationError(f"{setting}: {path}: {exc.reason}") from None


def load_signing_key(settings: Settings) -> Signer:
    """The log's key for these settings; its name must be the configured origin."""
    path = settings.audit_signing_key_file
    if path is None:
        if settings.env is Environment.PRODUCTION:
            raise ConfigurationError("PPSGATE_AUDIT_SIGNING_KEY_FILE is required in production")
        path = settings.data_dir / DEV_KEY_NAME
        if not path.exists():
            write_key_file(path, generate_signer(settings.audit_origin))
    signer = load_key_file(path, setting="PPSGATE_AUDIT_SIGNING_KEY_FILE")
    if signer.alg != 0x01:
        raise ConfigurationError("PPSGATE_AUDIT_SIGNING_KEY_FILE: not an Ed25519 note key (0x01)")
    if signer.name != settings.audit_origin:
        raise ConfigurationError(
            f"PPSGATE_AUDIT_SIGNING_KEY_FILE: key name {signer.name!r} differs from "
            f"PPSGATE_AUDIT_ORIGIN {settings.audit_origin!r}"
        )
    return signer


def parse_witness_keys(values: Sequence[str]) -> list[Verifier]:
    """Witness verifier keys from settings (type 0x04 cosignature keys only)."""
    keys = []
    for position, value in enumerate(values):
        try:
            key = parse_vkey(value)
        except NoteError as exc:
            raise ConfigurationError(
                f"PPSGATE_AUDIT_WITNESS_KEYS[{position}]: {exc.reason}"
            ) from None
        if key.alg != ALG_COSIGNATURE_V1:
            raise ConfigurationError(
                f"PPSGATE_AUDIT_WITNESS_KEYS[{position}]: not a cosignature key (type 0x04)"
            )
        keys.append(key)
    return keys
