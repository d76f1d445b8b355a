"""The gateway's first key files, made once by ``ppsgate init`` before anything else runs.

Three secrets live outside the database: K_gw (the pepper ring), the audit checkpoint signing
key and the access-token signing key. Making them needs neither a database nor settings
beyond the log's origin, so a deployment can create them first, migrate the schema
(``ppsgate db upgrade`` needs no key) and only then start the gateway. Every file is created
with mode 0600 in a 0700 directory and never overwritten: if any of them exists, nothing is
written, because replacing a key silently would orphan the data or the log made with it.
"""

from __future__ import annotations

import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from audit.errors import AuditError
from audit.note import generate_signer
from gateway.audit_trail.keys import write_key_file as write_signer_file
from gateway.auth.keys import generate_token_key_file
from gateway.errors import ConfigurationError
from gateway.pepper import PEPPER_BYTES, create_ring, read_ring

PEPPER_NAME = "pepper.key"
AUDIT_KEY_NAME = "audit-signing.key"
JWT_SIGNER_FILE = "token-signing.key"


@dataclass(frozen=True, slots=True)
class KeyFile:
    """One file ``init`` made: where, which setting names it, what it is for."""

    path: Path
    setting: str
    purpose: str


@dataclass(frozen=True, slots=True)
class InitReport:
    files: tuple[KeyFile, ...]
    audit_verifier_key: str
    token_key_id: str
    pepper_key_id: str


def key_files(directory: Path) -> tuple[KeyFile, ...]:
    """The files ``init`` makes in ``directory``, with the settings that must name them."""
    return (
        KeyFile(
            directory / PEPPER_NAME,
            "PPSGATE_PEPPER_FILE",
            "K_gw, peppers tokens at rest; without it a restored database matches nothing",
        ),
        KeyFile(
            directory / AUDIT_KEY_NAME,
            "PPSGATE_AUDIT_SIGNING_KEY_FILE",
            "signs audit checkpoints; without it no new checkpoint under this origin",
        ),
        KeyFile(
            directory / JWT_SIGNER_FILE,
            "PPSGATE_TOKEN_SIGNING_KEY_FILE",
            "signs access tokens (ES256); replaceable, but every token in flight dies",
        ),
    )


def _prepare(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = directory.stat().st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigurationError(
            f"{directory} is writable by other users (mode {oct(mode & 0o777)}); a key "
            "directory must be writable by its owner only",
            field="keys_dir",
        )


def initialise(directory: Path, *, audit_origin: str) -> InitReport:
    """Create every key file the gateway needs in ``directory``; refuse if any exists."""
    files = key_files(directory)
    present = [str(f.path) for f in files if f.path.exists() or f.path.is_symlink()]
    if present:
        raise ConfigurationError(
            "refusing to overwrite existing key files: "
            + ", ".join(present)
            + " (nothing was written; move them away only if you mean to start a new log)",
            field="keys_dir",
        )
    try:
        signer = generate_signer(audit_origin)
    except AuditError as exc:
        raise ConfigurationError(exc.reason, field="audit_origin") from None
    _prepare(directory)
    pepper_file, audit_file, token_file = files
    create_ring(pepper_file.path, secrets.token_bytes(PEPPER_BYTES))
    write_signer_file(audit_file.path, signer)
    token_key = generate_token_key_file(token_file.path)
    return InitReport(
        files=files,
        audit_verifier_key=signer.verifier.vkey,
        token_key_id=token_key.kid,
        pepper_key_id=read_ring(pepper_file.path).newest.key_id,
    )
