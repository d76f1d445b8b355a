"""Sealing type keys for one client, and opening and checking what the gateway relays.

Sign, then seal: the custodian signs the payload (epoch, recipient client and key, the type
keys) with Ed25519 and seals payload plus signature in a libsodium sealed box to the
client's X25519 key. Only that client can open it; the signature inside proves the custodian
made it for exactly this client and epoch, so neither the gateway nor another partner can
substitute keys, and a partner cannot pass its envelope off as someone else's.

:func:`open_envelope` is what ``ppsgate-connector keys fetch`` runs on the gateway's answer:
it checks the manifest signature against the *pinned* custodian key, the blob's SHA-256
against the manifest, opens the box, checks the inner signature and every field, and only
then returns the keys. Every failure says which check failed; nothing unchecked is stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.public
import nacl.signing

from connectors.canonical import Kind
from connectors.custodian import formats as fm
from connectors.custodian.formats import CustodyFormatError
from connectors.hashing import TYPE_KEY_BYTES, TypeKeys
from connectors.keystore import ConnectorKeys


def x25519_public(jwk: Mapping[str, Any]) -> nacl.public.PublicKey:
    """The X25519 public key of an OKP JWK (a client's registered envelope key)."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "X25519" or not isinstance(jwk.get("x"), str):
        raise CustodyFormatError("is not an X25519 OKP JWK", field="encryption_jwk")
    raw = fm.unb64(str(jwk["x"]))
    if len(raw) != 32:
        raise CustodyFormatError("X25519 key must be 32 bytes", field="encryption_jwk")
    return nacl.public.PublicKey(raw)


def seal_envelope(
    signing_key: nacl.signing.SigningKey,
    recipient: nacl.public.PublicKey,
    *,
    epoch: int,
    issued_at: str,
    client_id: str,
    partner_id: str,
    recipient_key_id: str,
    keys: Mapping[Kind, bytes],
) -> bytes:
    """Sign the payload, then seal payload and signature to the recipient's X25519 key."""
    payload = {
        "format": fm.ENVELOPE_FORMAT,
        "version": fm.FORMAT_VERSION,
        "spec": fm.SPEC_VERSION,
        "epoch": epoch,
        "issued_at": issued_at,
        "custodian_key_id": fm.custodian_key_id(bytes(signing_key.verify_key)),
        "client_id": client_id,
        "partner_id": partner_id,
        "recipient_key_id": recipient_key_id,
        "keys": {kind.value: fm.b64(key) for kind, key in sorted(keys.items())},
    }
    body = fm.canonical(payload)
    signed = fm.canonical(
        {"payload": payload, "signature": fm.b64(fm.sign(signing_key, fm.ENVELOPE_CONTEXT, body))}
    )
    return bytes(nacl.public.SealedBox(recipient).encrypt(signed))


@dataclass(frozen=True, slots=True)
class OpenedEnvelope:
    """Keys that passed every check, with what the store records about them."""

    keys: TypeKeys
    state: str
    sha256: str
    custodian_key_id: str


def _refuse(reason: str, field: str | None = None) -> CustodyFormatError:
    return CustodyFormatError(reason + "; nothing was stored", field=field)


def _manifest_entry(
    answer: Mapping[str, Any], pinned: bytes, client_id: str, epoch: int
) -> dict[str, Any]:
    manifest = fm.unb64(str(answer["manifest"]))
    signature = fm.unb64(str(answer["manifest_signature"]))
    if not fm.verify(pinned, fm.MANIFEST_CONTEXT, manifest, signature):
        raise _refuse(
            "the manifest's signature does not verify with the pinned custodian key (forged, "
            "altered at the gateway, or made by another key)",
            "manifest_signature",
        )
    document = fm.parse_document(manifest, "the manifest")
    if document.get("format") != fm.MANIFEST_FORMAT or document.get("epoch") != epoch:
        raise _refuse(f"the signed manifest is not one for epoch {epoch}", "manifest")
    entries = [e for e in document.get("envelopes", []) if e.get("client_id") == client_id]
    if len(entries) != 1:
        raise _refuse("the signed manifest lists no envelope for this client", "manifest")
    entry: dict[str, Any] = entries[0]
    return entry


def open_envelope(
    answer: Mapping[str, Any],
    *,
    keys: ConnectorKeys,
    client_id: str,
    custodian_key: bytes,
    epoch: int,
) -> OpenedEnvelope:
    """Check and open the gateway's answer to ``GET /v1/keys/epochs/{epoch}/envelope``."""
    pinned_id = fm.custodian_key_id(custodian_key)
    named = answer.get("custodian_key_id")
    if named != pinned_id:
        raise _refuse(
            f"the envelope is vouched for by custodian key {str(named)[:16]}…, "
            f"not by the pinned key {pinned_id[:16]}… (if the custodian really changed its key, "
            "pin the new one with --custodian-key after checking it with the partnership)",
            "custodian_key_id",
        )
    try:
        entry = _manifest_entry(answer, custodian_key, client_id, epoch)
        sealed = fm.unb64(str(answer["sealed"]))
    except (KeyError, TypeError, ValueError):
        raise _refuse("the gateway's answer is malformed", "envelope") from None
    own_key_id = str(keys.public_encryption_jwk()["kid"])
    if entry.get("recipient_key_id") != own_key_id:
        raise _refuse(
            "the envelope is sealed to another X25519 key than this key store's (the key store "
            "was replaced: ask the custodian to issue an envelope for the new key)",
            "recipient_key_id",
        )
    digest = hashlib.sha256(sealed).hexdigest()
    if digest != entry.get("sha256"):
        raise _refuse(
            "the envelope does not match the SHA-256 in the custodian's signed manifest "
            "(altered in transit or at the gateway)",
            "sealed",
        )
    try:
        plaintext = nacl.public.SealedBox(keys.encryption_key).decrypt(sealed)
    except nacl.exceptions.CryptoError:
        raise _refuse(
            "the envelope cannot be opened with this key store's X25519 key", "sealed"
        ) from None
    signed = fm.parse_document(plaintext, "the envelope")
    payload = signed.get("payload")
    if not isinstance(payload, dict) or not isinstance(signed.get("signature"), str):
        raise _refuse("the envelope's content is malformed", "sealed")
    if not fm.verify(
        custodian_key, fm.ENVELOPE_CONTEXT, fm.canonical(payload), fm.unb64(signed["signature"])
    ):
        raise _refuse(
            "the signature inside the envelope does not verify with the pinned custodian key",
            "sealed",
        )
    expected = {
        "format": fm.ENVELOPE_FORMAT,
        "version": fm.FORMAT_VERSION,
        "spec": fm.SPEC_VERSION,
        "epoch": epoch,
        "client_id": client_id,
        "recipient_key_id": own_key_id,
        "custodian_key_id": pinned_id,
    }
    wrong = sorted(name for name, value in expected.items() if payload.get(name) != value)
    if wrong:
        raise _refuse("the envelope was made for something else: " + ", ".join(wrong), "sealed")
    return OpenedEnvelope(
        keys=_type_keys(payload, entry, epoch),
        state=str(answer.get("state", "")),
        sha256=digest,
        custodian_key_id=pinned_id,
    )


def _type_keys(payload: Mapping[str, Any], entry: Mapping[str, Any], epoch: int) -> TypeKeys:
    raw = payload.get("keys")
    if not isinstance(raw, dict) or sorted(raw) != list(entry.get("kinds", [])):
        raise _refuse("the envelope's kinds differ from the signed manifest's", "kinds")
    mapping: dict[Kind, bytes] = {}
    for name, text in raw.items():
        try:
            kind = Kind(name)
            key = fm.unb64(str(text))
        except ValueError:
            raise _refuse(
                f"the envelope holds an unknown kind or a malformed key ({name})", "keys"
            ) from None
        if len(key) != TYPE_KEY_BYTES:
            raise _refuse(f"the {name} key is not {TYPE_KEY_BYTES} bytes", "keys")
        mapping[kind] = key
    return TypeKeys(mapping, epoch=epoch)
