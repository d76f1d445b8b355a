"""The connector's type-key store: the per-type keys of each salt epoch it was issued.

``ppsgate-connector keys fetch`` fills it from the custodian's envelopes (after checking
them); ``hash``, ``submit``, ``match``, ``watch`` and ``rehash`` read it to pick the active
epoch's keys — and, during an overlap window, the retiring epoch's too. It also pins the
custodian's public key on the first fetch, so later fetches need no option and a different
key is refused until the operator pins it deliberately.

Like the key store it is JSON with mode 0600, encrypted with the passphrase when one is
given (Argon2id + secretbox, :mod:`connectors.secretfile`). Keys of retired epochs are
deleted from it when the gateway reports the retirement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.canonical import Kind
from connectors.errors import KeyMaterialError
from connectors.hashing import TypeKeys
from connectors.keystore import DEFAULT_MEMLIMIT, DEFAULT_OPSLIMIT
from connectors.secretfile import b64, read_secret_json, unb64, write_secret_json

TYPEKEYS_FORMAT = "ppsgate-connector-typekeys"
TYPEKEYS_VERSION = 1
USABLE_STATES = frozenset({"active", "retiring"})
FETCH_HINT = "run `ppsgate-connector keys fetch`"
DEFAULT_TYPEKEYS = Path("connector-typekeys.json")


@dataclass(frozen=True, slots=True)
class EpochKeys:
    """One epoch's keys and what the gateway last said about the epoch."""

    epoch: int
    state: str
    keys: Mapping[Kind, bytes]
    custodian_key_id: str
    envelope_sha256: str
    fetched_at: str
    overlap_ends_at: str | None = None

    def type_keys(self) -> TypeKeys:
        return TypeKeys(dict(self.keys), epoch=self.epoch)

    def usable(self, now: datetime) -> bool:
        if self.state == "active":
            return True
        if self.state != "retiring" or self.overlap_ends_at is None:
            return False
        return datetime.fromisoformat(self.overlap_ends_at) > now


@dataclass(slots=True)
class TypeKeyStore:
    """Every epoch's keys this connector holds, plus the pinned custodian key."""

    custodian_key: bytes | None = None
    epochs: dict[int, EpochKeys] = field(default_factory=dict)

    def put(self, keys: EpochKeys) -> None:
        self.epochs[keys.epoch] = keys

    def active(self) -> EpochKeys:
        """The active epoch's keys, or a clear error saying what to do."""
        active = [keys for keys in self.epochs.values() if keys.state == "active"]
        if not active:
            raise KeyMaterialError(
                f"the type-key store holds no keys of an active epoch; {FETCH_HINT}",
                field="typekeys",
            )
        return max(active, key=lambda keys: keys.epoch)

    def get(self, epoch: int) -> EpochKeys:
        found = self.epochs.get(epoch)
        if found is None:
            held = ", ".join(str(n) for n in sorted(self.epochs)) or "none"
            raise KeyMaterialError(
                f"no keys for epoch {epoch} in the type-key store (held: {held}); {FETCH_HINT}",
                field="epoch",
            )
        return found

    def pick(self, epoch: int | None) -> EpochKeys:
        """``epoch``'s keys when one is named, else the active epoch's."""
        return self.get(epoch) if epoch is not None else self.active()

    def usable(self, now: datetime | None = None) -> list[EpochKeys]:
        """Active first, then retiring epochs still in their overlap window."""
        moment = now or datetime.now(tz=UTC)
        found = [keys for keys in self.epochs.values() if keys.usable(moment)]
        return sorted(found, key=lambda keys: (keys.state != "active", -keys.epoch))

    def update_states(self, listing: Iterable[Mapping[str, Any]]) -> list[int]:
        """Apply the gateway's epoch list; drop retired epochs' keys; return those dropped."""
        dropped: list[int] = []
        for item in listing:
            number = int(item["epoch"])
            held = self.epochs.get(number)
            if held is None:
                continue
            state = str(item["state"])
            if state == "retired":
                del self.epochs[number]
                dropped.append(number)
                continue
            self.epochs[number] = replace(
                held, state=state, overlap_ends_at=item.get("overlap_ends_at")
            )
        return dropped

    def to_document(self) -> dict[str, Any]:
        return {
            "custodian_key": b64(self.custodian_key) if self.custodian_key else None,
            "epochs": {
                str(number): {
                    "state": keys.state,
                    "keys": {kind.value: b64(key) for kind, key in sorted(keys.keys.items())},
                    "custodian_key_id": keys.custodian_key_id,
                    "envelope_sha256": keys.envelope_sha256,
                    "fetched_at": keys.fetched_at,
                    "overlap_ends_at": keys.overlap_ends_at,
                }
                for number, keys in sorted(self.epochs.items())
            },
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> TypeKeyStore:
        try:
            pinned = document.get("custodian_key")
            store = cls(custodian_key=unb64(pinned) if pinned else None)
            for number, item in document.get("epochs", {}).items():
                keys = {Kind(kind): unb64(text) for kind, text in item["keys"].items()}
                store.put(
                    EpochKeys(
                        epoch=int(number),
                        state=str(item["state"]),
                        keys=keys,
                        custodian_key_id=str(item["custodian_key_id"]),
                        envelope_sha256=str(item["envelope_sha256"]),
                        fetched_at=str(item["fetched_at"]),
                        overlap_ends_at=item.get("overlap_ends_at"),
                    )
                )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise KeyMaterialError("the type-key store's content is malformed") from None
        for held in store.epochs.values():
            held.type_keys()  # validates lengths and kinds
        return store


def load_typekeys(path: Path, *, passphrase: str | None, missing_ok: bool = False) -> TypeKeyStore:
    """Read the store; with ``missing_ok`` an absent file is an empty store."""
    if missing_ok and not path.exists():
        return TypeKeyStore()
    document = read_secret_json(
        path,
        file_format=TYPEKEYS_FORMAT,
        version=TYPEKEYS_VERSION,
        passphrase=passphrase,
        missing_hint=f"{FETCH_HINT} first",
    )
    return TypeKeyStore.from_document(document)


def save_typekeys(
    path: Path,
    store: TypeKeyStore,
    *,
    passphrase: str | None,
    opslimit: int = DEFAULT_OPSLIMIT,
    memlimit: int = DEFAULT_MEMLIMIT,
) -> None:
    write_secret_json(
        path,
        store.to_document(),
        file_format=TYPEKEYS_FORMAT,
        version=TYPEKEYS_VERSION,
        passphrase=passphrase,
        opslimit=opslimit,
        memlimit=memlimit,
    )
