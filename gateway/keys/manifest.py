"""The custodian's signed manifests, read and verified (never made) by the gateway.

A manifest is RFC 8785 canonical JSON listing, for one epoch, which client gets an envelope
sealed to which X25519 key, for which identifier kinds, and the SHA-256 of each sealed blob.
The custodian signs ``MANIFEST_CONTEXT || manifest`` with Ed25519. The gateway checks the
signature against the registered custodian key *before* it accepts anything, so it can tell a
forged or altered upload from a real one without being able to look inside any envelope;
connectors check the same signature against the custodian key they pinned themselves, so the
gateway cannot substitute envelopes either. Verification uses ``cryptography``'s Ed25519:
nothing here can decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.canonical import canonical_json, parse_canonical
from audit.errors import CanonicalJSONError
from gateway.errors import InvalidRequestError
from gateway.identifiers import KINDS

MANIFEST_FORMAT = "ppsgate-key-manifest"
MANIFEST_VERSION = 1
SPEC_VERSION = "v1"
MANIFEST_CONTEXT = b"ppsgate-key-manifest-v1\x00"
CUSTODIAN_KEY_CONTEXT = b"ppsgate-custodian-key-v1\x00"
CUSTODIAN_KEY_PREFIX = "ed25519:"
MAX_SEALED_BYTES = 16 * 1024
MANIFEST_KINDS = frozenset({"epoch", "supplement"})

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_THUMBPRINT = re.compile(r"^[A-Za-z0-9_-]{43}$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_MANIFEST_KEYS = frozenset(
    {"format", "version", "spec", "epoch", "kind", "issued_at", "custodian_key_id", "envelopes"}
)
_ENTRY_KEYS = frozenset({"client_id", "partner_id", "recipient_key_id", "kinds", "sha256"})


def b64decode(text: str, *, field: str) -> bytes:
    """Base64url (padding optional) or refuse, naming the field."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise InvalidRequestError("must be base64url text", field=field)
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidRequestError("must be base64url text", field=field) from None


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def parse_custodian_key(text: str, *, field: str = "public_key") -> bytes:
    """The 32 raw bytes of ``ed25519:<base64url>`` (what ``custodian init`` prints)."""
    if not isinstance(text, str) or not text.startswith(CUSTODIAN_KEY_PREFIX):
        raise InvalidRequestError(
            f"must be an Ed25519 public key written as {CUSTODIAN_KEY_PREFIX}<base64url>",
            field=field,
        )
    raw = b64decode(text.removeprefix(CUSTODIAN_KEY_PREFIX), field=field)
    if len(raw) != 32:
        raise InvalidRequestError("an Ed25519 public key has 32 bytes", field=field)
    return raw


def custodian_key_id(public_key: bytes) -> str:
    """How manifests, envelopes and epochs name a custodian key: SHA-256 hex of its bytes."""
    return hashlib.sha256(public_key).hexdigest()


def verify_signature(public_key: bytes, context: bytes, message: bytes, signature: bytes) -> bool:
    """Ed25519 verification of ``context || message``; never raises for a bad signature."""
    if len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, context + message)
    except (InvalidSignature, ValueError):
        return False
    return True


def registration_statement(client_id: str, public_key: bytes) -> bytes:
    """What the custodian signs with its new key to prove it holds it (proof of possession)."""
    return canonical_json(
        {"client_id": client_id, "public_key": CUSTODIAN_KEY_PREFIX + b64encode(public_key)}
    )


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    client_id: str
    partner_id: str
    recipient_key_id: str
    kinds: tuple[str, ...]
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    body: bytes
    epoch: int
    kind: str
    spec: str
    issued_at: str
    custodian_key_id: str
    entries: tuple[ManifestEntry, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def _require(condition: bool, field: str, reason: str) -> None:
    if not condition:
        raise InvalidRequestError(reason, field=field)


def _entry(value: Any, index: int) -> ManifestEntry:
    where = f"manifest.envelopes.{index}"
    _require(isinstance(value, dict), where, "must be an object")
    _require(
        set(value) == _ENTRY_KEYS, where, "must have exactly " + ", ".join(sorted(_ENTRY_KEYS))
    )
    for name in ("client_id", "partner_id"):
        _require(
            isinstance(value[name], str) and bool(_SLUG.match(value[name])),
            f"{where}.{name}",
            "must be a client or partner id",
        )
    _require(
        isinstance(value["recipient_key_id"], str)
        and bool(_THUMBPRINT.match(value["recipient_key_id"])),
        f"{where}.recipient_key_id",
        "must be the RFC 7638 thumbprint of the recipient's X25519 key",
    )
    kinds = value["kinds"]
    _require(
        isinstance(kinds, list) and bool(kinds) and all(isinstance(k, str) for k in kinds),
        f"{where}.kinds",
        "must be a non-empty list of identifier kinds",
    )
    unknown = sorted(set(kinds) - KINDS)
    _require(not unknown, f"{where}.kinds", "unknown kind(s) " + ", ".join(unknown))
    _require(kinds == sorted(set(kinds)), f"{where}.kinds", "must be sorted and without repeats")
    _require(
        isinstance(value["sha256"], str) and bool(_HEX64.match(value["sha256"])),
        f"{where}.sha256",
        "must be the lowercase hex SHA-256 of the sealed envelope",
    )
    return ManifestEntry(
        client_id=value["client_id"],
        partner_id=value["partner_id"],
        recipient_key_id=value["recipient_key_id"],
        kinds=tuple(kinds),
        sha256=value["sha256"],
    )


def parse_manifest(body: bytes) -> Manifest:
    """Read a manifest's bytes; anything but the exact canonical form is refused."""
    try:
        document = parse_canonical(body)
    except CanonicalJSONError as exc:
        raise InvalidRequestError(
            f"is not canonical JSON (RFC 8785): {exc.reason}", field="manifest"
        ) from None
    _require(isinstance(document, dict), "manifest", "must be a JSON object")
    _require(
        set(document) == _MANIFEST_KEYS,
        "manifest",
        "must have exactly the keys " + ", ".join(sorted(_MANIFEST_KEYS)),
    )
    _require(document["format"] == MANIFEST_FORMAT, "manifest.format", f"must be {MANIFEST_FORMAT}")
    _require(
        document["version"] == MANIFEST_VERSION, "manifest.version", "unsupported manifest version"
    )
    _require(document["spec"] == SPEC_VERSION, "manifest.spec", "only hashing spec v1 is sealed")
    epoch = document["epoch"]
    _require(
        isinstance(epoch, int) and not isinstance(epoch, bool) and 1 <= epoch <= 1_000_000,
        "manifest.epoch",
        "must be an integer from 1 to 1000000",
    )
    _require(document["kind"] in MANIFEST_KINDS, "manifest.kind", "must be epoch or supplement")
    _require(
        isinstance(document["issued_at"], str) and bool(_TIME.match(document["issued_at"])),
        "manifest.issued_at",
        "must be a UTC time like 2026-11-29T10:00:00Z",
    )
    _require(
        isinstance(document["custodian_key_id"], str)
        and bool(_HEX64.match(document["custodian_key_id"])),
        "manifest.custodian_key_id",
        "must be the SHA-256 hex of the custodian's public key",
    )
    envelopes = document["envelopes"]
    _require(isinstance(envelopes, list), "manifest.envelopes", "must be a list")
    entries = tuple(_entry(value, index) for index, value in enumerate(envelopes))
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        _require(
            entry.client_id not in seen,
            f"manifest.envelopes.{index}.client_id",
            "lists a client twice",
        )
        seen.add(entry.client_id)
    return Manifest(
        body=body,
        epoch=epoch,
        kind=document["kind"],
        spec=document["spec"],
        issued_at=document["issued_at"],
        custodian_key_id=document["custodian_key_id"],
        entries=entries,
    )
