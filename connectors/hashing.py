"""Keyed hashing of canonical identifiers (hashing specification v1) and its batch path.

``K_type = HKDF-SHA256(ikm=master salt, salt=32 zero bytes, info="ppsgate:v1:"+type, L=32)``
and ``token = hex(HMAC-SHA256(K_type, "ppsgate:v1:" + type + ":" + canonical))``.

Where the keys come from is kept apart from how tokens are made: a :class:`TypeKeys` holds
one epoch's per-type keys, whether derived here from a master salt (``from_master_salt``) or
unsealed from the custodian's envelopes by the key store (``TypeKeys(mapping, epoch=...)``);
a partner registered for phone numbers only holds no IBAN key and gets a clear error when it
tries. A :class:`Tokeniser` turns (type, canonical) pairs into tokens; :class:`HmacTokeniserV1`
is spec v1, and a later oblivious-PRF tokeniser (RFC 9497, key servers) plugs in behind the
same protocol, which is why it works on whole chunks of rows.
"""

from __future__ import annotations

import hashlib
import hmac
import string
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from connectors.canonical import DEFAULT_REGION, Kind, canonicalizer, detect_kind, parse_kind
from connectors.errors import InvalidIdentifier, KeyMaterialError

SPEC_VERSION = "v1"
DOMAIN_PREFIX = "ppsgate:v1:"
MASTER_SALT_BYTES = 32
TYPE_KEY_BYTES = 32

_HEX_DIGITS = frozenset(string.hexdigits)


def type_key(master_salt: bytes, kind: Kind) -> bytes:
    """HKDF-SHA256 of the master salt with ``info = "ppsgate:v1:" + kind`` (RFC 5869).

    ``salt=None`` is RFC 5869's "not provided", i.e. HashLen (32) zero bytes, as the spec says.
    """
    if len(master_salt) != MASTER_SALT_BYTES:
        raise KeyMaterialError(
            f"master salt must be {MASTER_SALT_BYTES} bytes, got {len(master_salt)}"
        )
    kdf = HKDF(
        algorithm=hashes.SHA256(),
        length=TYPE_KEY_BYTES,
        salt=None,
        info=(DOMAIN_PREFIX + kind.value).encode("ascii"),
    )
    return kdf.derive(master_salt)


def token(kind: Kind, canonical: str, key: bytes) -> str:
    """Lowercase hex HMAC-SHA256 over ``"ppsgate:v1:<kind>:<canonical>"`` in UTF-8."""
    message = f"{DOMAIN_PREFIX}{kind.value}:{canonical}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def parse_master_salt_hex(text: str) -> bytes:
    """The 32-byte master salt from its 64-hex-character text form (surrounding space allowed).

    The message never echoes the text: it is the secret.
    """
    stripped = text.strip()
    if len(stripped) != 2 * MASTER_SALT_BYTES or not _HEX_DIGITS.issuperset(stripped):
        raise KeyMaterialError(
            f"must hold the {MASTER_SALT_BYTES}-byte master salt as "
            f"{2 * MASTER_SALT_BYTES} hexadecimal characters and nothing else "
            f"(found {len(stripped)} characters"
            + ("" if _HEX_DIGITS.issuperset(stripped) else ", not all hexadecimal")
            + ")",
            field="salt file",
        )
    return bytes.fromhex(stripped)


class TypeKeys(Mapping[Kind, bytes]):
    """One epoch's per-type keys: exactly what a partner may hash with.

    The representation never shows key bytes.
    """

    __slots__ = ("_keys", "epoch")

    def __init__(self, keys: Mapping[Kind, bytes], *, epoch: int) -> None:
        for kind, key in keys.items():
            if not isinstance(kind, Kind):
                raise KeyMaterialError(f"unknown identifier type {kind!r} in the key set")
            if len(key) != TYPE_KEY_BYTES:
                raise KeyMaterialError(
                    f"the {kind} key must be {TYPE_KEY_BYTES} bytes, got {len(key)}"
                )
        if epoch < 0:
            raise KeyMaterialError("epoch must not be negative")
        self._keys: dict[Kind, bytes] = dict(keys)
        self.epoch = epoch

    @classmethod
    def from_master_salt(
        cls, master_salt: bytes, *, epoch: int, kinds: Iterable[Kind] = tuple(Kind)
    ) -> TypeKeys:
        """Derive the keys of ``kinds`` once (what the custodian does, or a test)."""
        return cls({kind: type_key(master_salt, kind) for kind in kinds}, epoch=epoch)

    def __getitem__(self, kind: Kind) -> bytes:
        try:
            return self._keys[kind]
        except KeyError:
            raise self.missing(kind) from None

    def missing(self, kind: Kind) -> KeyMaterialError:
        """The error for a type this partner holds no key for."""
        return KeyMaterialError(
            f"no {kind} key for epoch {self.epoch}: the key custodian has not issued it "
            "to this partner"
        )

    def __iter__(self) -> Iterator[Kind]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        kinds = ", ".join(sorted(kind.value for kind in self._keys))
        return f"TypeKeys(epoch={self.epoch}, kinds=[{kinds}])"


@runtime_checkable
class Tokeniser(Protocol):
    """Turns canonical identifiers into tokens for one epoch.

    ``tokens`` takes a chunk so that a tokeniser that must talk to key servers (v2, an
    oblivious PRF) can batch its round trips; v1 simply loops.
    """

    @property
    def spec_version(self) -> str:
        """Version of the hashing specification the tokens follow (``"v1"``)."""
        ...

    @property
    def epoch(self) -> int:
        """The salt epoch the tokens belong to."""
        ...

    @property
    def kinds(self) -> frozenset[Kind]:
        """Types this tokeniser holds keys for."""
        ...

    def token(self, kind: Kind, canonical: str) -> str:
        """The token of one canonical identifier."""
        ...

    def tokens(self, items: Sequence[tuple[Kind, str]]) -> list[str]:
        """Tokens of a chunk, in order."""
        ...


class HmacTokeniserV1:
    """Spec v1 tokens: HMAC-SHA256 keyed with the type key.

    The keyed HMAC state, already fed ``"ppsgate:v1:<kind>:"``, is built once per type and
    copied per row; with ``cryptography``'s HMAC that costs less than half of ``hmac.new``
    per row (``bench/hashing.py`` prints both). Tests check it against :func:`token`.
    """

    __slots__ = ("_bases", "_keys")

    spec_version = SPEC_VERSION

    def __init__(self, keys: TypeKeys) -> None:
        self._keys = keys
        self._bases: dict[Kind, HMAC] = {}
        for kind, key in keys.items():
            base = HMAC(key, hashes.SHA256())
            base.update(f"{DOMAIN_PREFIX}{kind.value}:".encode("ascii"))
            self._bases[kind] = base

    @property
    def epoch(self) -> int:
        return self._keys.epoch

    @property
    def kinds(self) -> frozenset[Kind]:
        return frozenset(self._bases)

    @property
    def keys(self) -> TypeKeys:
        """The type keys, for worker processes that build their own tokeniser from them."""
        return self._keys

    def token(self, kind: Kind, canonical: str) -> str:
        return self.tokens(((kind, canonical),))[0]

    def tokens(self, items: Sequence[tuple[Kind, str]]) -> list[str]:
        bases = self._bases
        out: list[str] = []
        append = out.append
        for kind, canonical in items:
            base = bases.get(kind)
            if base is None:
                raise self._keys.missing(kind)
            mac = base.copy()
            mac.update(canonical.encode())
            append(mac.finalize().hex())
        return out


class RowCanonicaliser:
    """Per-row type resolution and canonicalisation for the batch path.

    Canonicalising functions are built once per run (the phone region resolved, the PSL
    loaded) and looked up per row by type; a row without a type is detected by shape.
    Types the tokeniser holds no key for are rejected per row, before any work is done.
    """

    __slots__ = ("_by_kind", "_by_name")

    def __init__(self, kinds: Iterable[Kind], *, region: str = DEFAULT_REGION) -> None:
        self._by_kind: dict[Kind, Callable[[str], str]] = {
            kind: canonicalizer(kind, region=region) for kind in kinds
        }
        self._by_name: dict[str, Kind] = {kind.value: kind for kind in self._by_kind}

    def __call__(self, value: str, type_name: str | None) -> tuple[Kind, str]:
        """(kind, canonical) or :class:`InvalidIdentifier`."""
        if type_name:
            kind = self._by_name.get(type_name)
            if kind is None:
                kind = parse_kind(type_name)
        else:
            kind = detect_kind(value)
        function = self._by_kind.get(kind)
        if function is None:
            raise InvalidIdentifier(f"no {kind} key for this epoch (type not issued)", kind=kind)
        return kind, function(value)
