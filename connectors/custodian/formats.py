"""The byte formats of key custody: manifests, envelope payloads, signatures.

Documents are RFC 8785 canonical JSON (:mod:`audit.canonical`), so the custodian, the
gateway and every connector sign and verify the very same bytes. Each signature covers a
context string first (``ppsgate-key-manifest-v1\\0`` …) so a signature made for one purpose
can never be replayed as another. The gateway reimplements the reading side
(``gateway.keys.manifest``) without importing this package; a test keeps the two equal.
"""

from __future__ import annotations

import hashlib
from typing import Any

import nacl.exceptions
import nacl.signing

from audit.canonical import canonical_json, parse_canonical
from audit.errors import CanonicalJSONError
from connectors.errors import ConnectorError
from connectors.secretfile import b64, unb64

SPEC_VERSION = "v1"
MANIFEST_FORMAT = "ppsgate-key-manifest"
ENVELOPE_FORMAT = "ppsgate-key-envelope"
SALT_FORMAT = "ppsgate-custodian-salt"
FORMAT_VERSION = 1
MANIFEST_CONTEXT = b"ppsgate-key-manifest-v1\x00"
ENVELOPE_CONTEXT = b"ppsgate-key-envelope-v1\x00"
SALT_CONTEXT = b"ppsgate-custodian-salt-v1\x00"
CUSTODIAN_KEY_CONTEXT = b"ppsgate-custodian-key-v1\x00"
CUSTODIAN_KEY_PREFIX = "ed25519:"

__all__ = [
    "CUSTODIAN_KEY_CONTEXT",
    "ENVELOPE_CONTEXT",
    "MANIFEST_CONTEXT",
    "CustodyFormatError",
    "b64",
    "canonical",
    "custodian_key_id",
    "custodian_key_text",
    "parse_custodian_key",
    "parse_document",
    "registration_statement",
    "sign",
    "unb64",
    "verify",
]


class CustodyFormatError(ConnectorError):
    """A manifest, envelope or key is malformed or fails its signature check."""

    title = "Key envelope refused"


def canonical(document: Any) -> bytes:
    return canonical_json(document)


def parse_document(data: bytes, what: str) -> dict[str, Any]:
    """A canonical JSON object, or a clear refusal naming ``what`` it should have been."""
    try:
        value = parse_canonical(data)
    except CanonicalJSONError as exc:
        raise CustodyFormatError(f"{what} is not canonical JSON ({exc.reason})") from None
    if not isinstance(value, dict):
        raise CustodyFormatError(f"{what} is not a JSON object")
    return value


def custodian_key_id(public_key: bytes) -> str:
    """SHA-256 hex of the raw Ed25519 public key: how manifests and epochs name it."""
    return hashlib.sha256(public_key).hexdigest()


def custodian_key_text(public_key: bytes) -> str:
    """The form partners pin and the gateway registers: ``ed25519:<base64url>``."""
    return CUSTODIAN_KEY_PREFIX + b64(public_key)


def parse_custodian_key(text: str) -> bytes:
    """The raw key from ``ed25519:<base64url>`` (what ``custodian init`` prints)."""
    value = text.strip()
    if not value.startswith(CUSTODIAN_KEY_PREFIX):
        raise CustodyFormatError(
            f"must be the custodian's public key as printed by `custodian init` "
            f"({CUSTODIAN_KEY_PREFIX}<base64url>)",
            field="custodian key",
        )
    try:
        raw = unb64(value.removeprefix(CUSTODIAN_KEY_PREFIX))
    except ValueError:
        raise CustodyFormatError("is not base64url", field="custodian key") from None
    if len(raw) != 32:
        raise CustodyFormatError("an Ed25519 public key has 32 bytes", field="custodian key")
    return raw


def registration_statement(client_id: str, public_key: bytes) -> bytes:
    """What a new custodian key signs to prove possession when it is registered."""
    return canonical({"client_id": client_id, "public_key": custodian_key_text(public_key)})


def sign(key: nacl.signing.SigningKey, context: bytes, message: bytes) -> bytes:
    return bytes(key.sign(context + message).signature)


def verify(public_key: bytes, context: bytes, message: bytes, signature: bytes) -> bool:
    """Ed25519 over ``context || message``; ``False`` rather than an exception."""
    try:
        nacl.signing.VerifyKey(public_key).verify(context + message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, TypeError):
        return False
    return True
