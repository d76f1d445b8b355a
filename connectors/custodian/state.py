"""The custodian's own file: its signing key, the recipients it trusts, its sealed salts.

- the Ed25519 signing key: every manifest and envelope is signed with it, and partners pin
  its public half — it is the partnership's root of trust for salts;
- pins: for each recipient client, the X25519 key the custodian has checked with the
  partner itself. The gateway's recipient list says who the *policy* allows; the pins say
  whom the custodian *trusts*, so a gateway operator who slips in a client with a key of
  its own still receives nothing;
- for each epoch, the master salt sealed to the custodian's own X25519 key (its connector
  key store) and signed, so new partners can be issued the same epoch's keys later. The
  salt itself is never written in the clear;
- which client received an envelope sealed to which key, per epoch.

The file is 0600 and encrypted with the passphrase when one is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.public
import nacl.signing

from connectors.custodian import formats as fm
from connectors.custodian.formats import CustodyFormatError
from connectors.keystore import DEFAULT_MEMLIMIT, DEFAULT_OPSLIMIT, ConnectorKeys
from connectors.secretfile import SecretFileError, read_secret_json, write_secret_json

STATE_FORMAT = "ppsgate-custodian-state"
STATE_VERSION = 1
MASTER_SALT_BYTES = 32


@dataclass(frozen=True, slots=True)
class Pin:
    """A recipient's X25519 key as the custodian checked it with the partner."""

    client_id: str
    partner_id: str
    recipient_key_id: str
    x: str
    pinned_at: str


@dataclass(slots=True)
class CustodianState:
    signing_key: nacl.signing.SigningKey
    client_id: str
    created_at: str
    pins: dict[str, Pin] = field(default_factory=dict)
    salts: dict[int, bytes] = field(default_factory=dict)
    issued: dict[int, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def generate(cls, client_id: str) -> CustodianState:
        return cls(
            signing_key=nacl.signing.SigningKey.generate(),
            client_id=client_id,
            created_at=datetime.now(tz=UTC).isoformat(timespec="seconds"),
        )

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def key_id(self) -> str:
        return fm.custodian_key_id(self.public_key)

    @property
    def key_text(self) -> str:
        return fm.custodian_key_text(self.public_key)

    def registration(self) -> dict[str, str]:
        """The body of ``PUT /v1/keys/custodian``: the key and its proof of possession."""
        statement = fm.registration_statement(self.client_id, self.public_key)
        proof = fm.sign(self.signing_key, fm.CUSTODIAN_KEY_CONTEXT, statement)
        return {"public_key": self.key_text, "proof": fm.b64(proof)}

    # -- the custodian's own sealed copy of each master salt ------------------------------

    def seal_salt(self, own: ConnectorKeys, epoch: int, master_salt: bytes) -> None:
        """Keep ``master_salt`` for ``epoch`` signed and sealed to our own X25519 key."""
        payload = {
            "format": fm.SALT_FORMAT,
            "version": fm.FORMAT_VERSION,
            "epoch": epoch,
            "custodian_key_id": self.key_id,
            "master_salt": fm.b64(master_salt),
        }
        body = fm.canonical(payload)
        signed = fm.canonical(
            {
                "payload": payload,
                "signature": fm.b64(fm.sign(self.signing_key, fm.SALT_CONTEXT, body)),
            }
        )
        recipient = own.encryption_key.public_key
        self.salts[epoch] = bytes(nacl.public.SealedBox(recipient).encrypt(signed))

    def open_salt(self, own: ConnectorKeys, epoch: int) -> bytes:
        """The master salt of ``epoch`` from our sealed copy (checked), held only in memory."""
        sealed = self.salts.get(epoch)
        if sealed is None:
            raise CustodyFormatError(
                f"this custodian holds no salt for epoch {epoch} (made elsewhere, or lost); "
                "create a new epoch instead",
                field="epoch",
            )
        try:
            plaintext = nacl.public.SealedBox(own.encryption_key).decrypt(sealed)
        except nacl.exceptions.CryptoError:
            raise CustodyFormatError(
                f"the sealed salt of epoch {epoch} does not open with this key store", field="epoch"
            ) from None
        signed = fm.parse_document(plaintext, "the sealed salt")
        payload = signed.get("payload")
        if not isinstance(payload, dict) or not fm.verify(
            self.public_key,
            fm.SALT_CONTEXT,
            fm.canonical(payload),
            fm.unb64(str(signed.get("signature", ""))),
        ):
            raise CustodyFormatError(f"the sealed salt of epoch {epoch} fails its signature")
        if payload.get("epoch") != epoch or payload.get("format") != fm.SALT_FORMAT:
            raise CustodyFormatError(f"the sealed salt stored for epoch {epoch} is another's")
        salt = fm.unb64(str(payload.get("master_salt", "")))
        if len(salt) != MASTER_SALT_BYTES:
            raise CustodyFormatError(f"the sealed salt of epoch {epoch} is malformed")
        return salt

    # -- file form ------------------------------------------------------------------------

    def to_document(self) -> dict[str, Any]:
        return {
            "signing_key": fm.b64(bytes(self.signing_key)),
            "client_id": self.client_id,
            "created_at": self.created_at,
            "pins": {
                pin.client_id: {
                    "partner_id": pin.partner_id,
                    "recipient_key_id": pin.recipient_key_id,
                    "x": pin.x,
                    "pinned_at": pin.pinned_at,
                }
                for pin in self.pins.values()
            },
            "salts": {str(epoch): fm.b64(sealed) for epoch, sealed in sorted(self.salts.items())},
            "issued": {str(epoch): dict(sorted(c.items())) for epoch, c in self.issued.items()},
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> CustodianState:
        try:
            return cls(
                signing_key=nacl.signing.SigningKey(fm.unb64(document["signing_key"])),
                client_id=str(document["client_id"]),
                created_at=str(document.get("created_at", "")),
                pins={
                    client_id: Pin(
                        client_id,
                        str(p["partner_id"]),
                        str(p["recipient_key_id"]),
                        str(p["x"]),
                        str(p["pinned_at"]),
                    )
                    for client_id, p in document.get("pins", {}).items()
                },
                salts={int(e): fm.unb64(s) for e, s in document.get("salts", {}).items()},
                issued={
                    int(e): {str(k): str(v) for k, v in clients.items()}
                    for e, clients in document.get("issued", {}).items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError, nacl.exceptions.CryptoError):
            raise SecretFileError("the custodian state is malformed") from None


def save_state(
    path: Path,
    state: CustodianState,
    *,
    passphrase: str | None,
    overwrite: bool = True,
    opslimit: int = DEFAULT_OPSLIMIT,
    memlimit: int = DEFAULT_MEMLIMIT,
) -> None:
    write_secret_json(
        path,
        state.to_document(),
        file_format=STATE_FORMAT,
        version=STATE_VERSION,
        passphrase=passphrase,
        overwrite=overwrite,
        opslimit=opslimit,
        memlimit=memlimit,
    )


def load_state(path: Path, *, passphrase: str | None) -> CustodianState:
    document = read_secret_json(
        path,
        file_format=STATE_FORMAT,
        version=STATE_VERSION,
        passphrase=passphrase,
        missing_hint="create it with `ppsgate-connector custodian init`",
    )
    return CustodianState.from_document(document)
