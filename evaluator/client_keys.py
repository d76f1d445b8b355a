"""Partners' own public keys, pinned at this evaluator: who may ask, independently of the gateway.

The bearer tokens an evaluator accepts are issued by the gateway, so whoever holds the
gateway's token-signing key — its operator — could mint one for any partner and query this
evaluator in that partner's name; running the other evaluator too, it could then compute the
token of any guess, charged to partners who never asked. So each request must also carry a
proof of possession signed by the partner connector's *own* key (:mod:`evaluator.proofs`),
and that key is pinned here: the partner hands its public key to the evaluator operator out
of band (``ppsgate-connector keys init`` prints it), who adds it with ``ppsgate evaluator
clients add``. The gateway never holds the private half, so it cannot produce a proof.

The file (JSON, mode 0600 or 0644: nothing in it is secret, but whoever can write it can pin
a key for any client, so it must not be writable by group or others) is re-read when it
changes, so adding or removing a client needs no restart. A file that becomes missing,
unsafe or broken fails closed: no request is answered (503) until it is fixed, rather than a
removed client staying pinned.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from evaluator.errors import ClientKeysUnavailableError, EvaluatorConfigurationError

log = logging.getLogger(__name__)

CLIENTS_FORMAT = "ppsgate-evaluator-clients"
CLIENTS_VERSION = 1
_ID_LENGTH = 64


@dataclass(frozen=True)
class PinnedClient:
    """One connector installation: its client id, its partner and its ES256 public key."""

    client_id: str
    partner_id: str
    key: ECKey
    thumbprint: str  # RFC 7638, SHA-256


def _problem(reason: str, source: str) -> EvaluatorConfigurationError:
    return EvaluatorConfigurationError(f"{source}: {reason}", field="client_keys_file")


def signing_jwk(jwk: Any, *, source: str) -> ECKey:
    """A public P-256 key from a JWK or from the JWKS ``keys init`` prints (its ES256 key)."""
    if isinstance(jwk, dict) and isinstance(jwk.get("keys"), list):
        found = [k for k in jwk["keys"] if isinstance(k, dict) and k.get("kty") == "EC"]
        if len(found) != 1:
            raise _problem("the JWKS must hold exactly one EC (P-256) signing key", source)
        jwk = found[0]
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise _problem("a client key must be a P-256 EC public JWK", source)
    if "d" in jwk:
        raise _problem("a client key must be public: the JWK holds a private part", source)
    try:
        return ECKey.import_key({k: jwk[k] for k in ("kty", "crv", "x", "y") if k in jwk})
    except (JoseError, ValueError, TypeError):
        raise _problem("the JWK is not a valid P-256 public key", source) from None


def _identifier(value: Any, name: str, source: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= _ID_LENGTH:
        raise _problem(f"{name} must be a string of 1 to {_ID_LENGTH} characters", source)
    return value


def parse_client_keys(document: Any, *, source: str) -> dict[str, PinnedClient]:
    """The pinned clients by client id; any malformed entry refuses the whole file."""
    if not isinstance(document, dict) or document.get("format") != CLIENTS_FORMAT:
        raise _problem(f'not a client keys document (format "{CLIENTS_FORMAT}")', source)
    if document.get("version") != CLIENTS_VERSION:
        raise _problem(f"unsupported version {document.get('version')!r}", source)
    entries = document.get("clients")
    if not isinstance(entries, list):
        raise _problem("clients must be a list", source)
    pinned: dict[str, PinnedClient] = {}
    for number, entry in enumerate(entries):
        where = f"{source} clients[{number}]"
        if not isinstance(entry, dict):
            raise _problem("an entry must be an object", where)
        client_id = _identifier(entry.get("client_id"), "client_id", where)
        partner_id = _identifier(entry.get("partner_id"), "partner_id", where)
        if client_id in pinned:
            raise _problem(f"client {client_id!r} is listed twice", where)
        key = signing_jwk(entry.get("jwk"), source=where)
        pinned[client_id] = PinnedClient(client_id, partner_id, key, key.thumbprint())
    return pinned


def client_entry(client_id: str, partner_id: str, jwk: Mapping[str, Any]) -> dict[str, Any]:
    """One file entry, its key checked (what ``ppsgate evaluator clients add`` writes)."""
    source = f"client {client_id!r}"
    _identifier(client_id, "client_id", source)
    _identifier(partner_id, "partner_id", source)
    key = signing_jwk(dict(jwk), source=source)
    return {
        "client_id": client_id,
        "partner_id": partner_id,
        "jwk": dict(key.as_dict(private=False)),
    }


def empty_document() -> dict[str, Any]:
    return {"format": CLIENTS_FORMAT, "version": CLIENTS_VERSION, "clients": []}


class ClientKeys:
    """The pinned clients of one file, re-read when the file changes (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._clients: dict[str, PinnedClient] = {}
        self._error: str | None = None
        self._stamp = self._current_stamp()
        self._load()  # at start a bad file stops the service
        self._problem_logged = False

    def _current_stamp(self) -> tuple[int, int, int] | None:
        try:
            status = os.stat(self._path)
        except OSError:
            return None
        return (status.st_mtime_ns, status.st_size, status.st_mode)

    def _load(self) -> None:
        source = str(self._path)
        try:
            status = os.stat(self._path)
            parent = os.stat(self._path.parent)
            text = self._path.read_text(encoding="utf-8")
        except OSError as exc:
            raise _problem(f"cannot read ({exc.strerror})", source) from None
        if status.st_mode & 0o022 or parent.st_mode & 0o002:
            raise _problem(
                "must not be writable by group or others (nor sit in a world-writable "
                "directory): whoever can write it can pin a key for any client",
                source,
            )
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            raise _problem("not JSON", source) from None
        self._clients = parse_client_keys(document, source=source)
        self._error = None

    def get(self, client_id: str) -> PinnedClient | None:
        """The pinned client or ``None``; ``ClientKeysUnavailableError`` if the file is bad."""
        with self._lock:
            stamp = self._current_stamp()
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._load()
                    self._problem_logged = False
                except EvaluatorConfigurationError as exc:
                    self._clients, self._error = {}, exc.reason
            if self._error is not None:
                if not self._problem_logged:  # once per change of the file, not per request
                    log.error(
                        "client keys file unusable, every request is refused: %s", self._error
                    )
                    self._problem_logged = True
                raise ClientKeysUnavailableError(
                    "this evaluator's pinned client keys are unavailable; its operator must fix "
                    "the file",
                    field="client_keys_file",
                )
            return self._clients.get(client_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._clients)
