"""C2SP signed notes: text signed by named Ed25519 keys, as the Go checksum database does.

The format is fixed by c2sp.org/signed-note so that existing verifiers and witnesses can
check our checkpoints: a text ending in a newline, a blank line, then one or more lines
``— <key name> base64(key ID || signature)``. Keys travel as text:

- verifier key: ``<name>+<key ID as 8 hex digits>+base64(type || public key)``
- signer key:   ``PRIVATE+KEY+<name>+<key ID>+base64(type || Ed25519 seed)``

with ``key ID = SHA-256(name || "\\n" || type || public key)[:4]``. Type ``0x01`` is a plain
Ed25519 note signature; type ``0x04`` is a timestamped witness cosignature
(c2sp.org/tlog-cosignature), whose signed message and signature layout differ (see
:mod:`audit.cosignature`); both verify through :func:`open_note`.

Parsing is strict (canonical base64, valid names, no control characters), following the
behaviour of ``golang.org/x/mod/sumdb/note`` so that the published known-answer values
reproduce byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from audit.errors import NoteError, UnverifiedNoteError

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "— "  # em dash U+2014, space
MAX_SIGNATURES = 100
COSIGNATURE_HEADER = "cosignature/v1\n"


def is_valid_name(name: str) -> bool:
    """Key names are non-empty, contain no Unicode space, no '+', no control character."""
    return (
        bool(name)
        and "+" not in name
        and not any(ch.isspace() or ord(ch) < 0x20 or ch == "\x7f" for ch in name)
    )


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """The 32-bit key ID: first four bytes of SHA-256(name || 0x0A || type || key)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def b64decode_strict(text: str, what: str) -> bytes:
    """Standard base64 that must re-encode to the same text (no slack in padding bits)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise NoteError(f"{what} is not standard base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def cosignature_message(text: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header, ``time <ts>`` and the checkpoint text."""
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{text}".encode()


@dataclass(frozen=True, slots=True)
class Verifier:
    """A public key with its name, type and key ID: what a relying party trusts."""

    name: str
    key_id: int
    alg: int
    public_key: bytes

    @property
    def vkey(self) -> str:
        """The verifier key text ``<name>+<id>+<base64>``."""
        return f"{self.name}+{self.key_id:08x}+{b64(bytes([self.alg]) + self.public_key)}"

    def verify(self, text: str, signature: bytes) -> bool:
        """Whether ``signature`` (without the 4-byte key ID) signs ``text`` with this key."""
        key = Ed25519PublicKey.from_public_bytes(self.public_key)
        if self.alg == ALG_ED25519:
            message, raw = text.encode("utf-8"), signature
        elif self.alg == ALG_COSIGNATURE_V1:
            if len(signature) != 8 + 64:
                return False
            (timestamp,) = struct.unpack(">Q", signature[:8])
            if timestamp >= 2**63:
                return False
            message, raw = cosignature_message(text, timestamp), signature[8:]
        else:  # pragma: no cover - constructors refuse other types
            return False
        try:
            key.verify(raw, message)
        except InvalidSignature:
            return False
        return True


def verifier_from_public_key(name: str, public_key: bytes, alg: int = ALG_ED25519) -> Verifier:
    """Build a verifier from a raw 32-byte Ed25519 public key."""
    if not is_valid_name(name):
        raise NoteError(f"key name {name!r} is empty or contains a space or '+'")
    if alg not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise NoteError(f"signature type 0x{alg:02x} is not supported (Ed25519 0x01 or 0x04)")
    if len(public_key) != 32:
        raise NoteError(f"Ed25519 public key is {len(public_key)} bytes, expected 32")
    return Verifier(name, key_id(name, alg, public_key), alg, public_key)


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse ``<name>+<id>+<base64(type || key)>``, checking the key ID."""
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise NoteError("verifier key must be <name>+<key id>+<base64 key>")
    name, id_hex, key64 = parts
    if len(id_hex) != 8 or any(c not in "0123456789abcdefABCDEF" for c in id_hex):
        raise NoteError("verifier key: key ID must be 8 hexadecimal digits")
    raw = b64decode_strict(key64, "verifier key")
    if not raw:
        raise NoteError("verifier key: empty key")
    verifier = verifier_from_public_key(name, raw[1:], raw[0])
    if verifier.key_id != int(id_hex, 16):
        raise NoteError(f"verifier key: key ID {id_hex} does not match the key")
    return verifier


@dataclass(frozen=True, slots=True)
class Signer:
    """An Ed25519 private key with its name: signs note texts (type 0x01)."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)
    alg: int = ALG_ED25519

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def verifier(self) -> Verifier:
        return verifier_from_public_key(self.name, self.public_key, self.alg)

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.alg, self.public_key)

    @property
    def signer_key(self) -> str:
        """The secret key text ``PRIVATE+KEY+<name>+<id>+<base64>``; keep it out of logs."""
        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{b64(bytes([self.alg]) + seed)}"

    def sign_text(self, text: str) -> bytes:
        """The raw signature bytes for ``text`` (what follows the key ID)."""
        if self.alg != ALG_ED25519:
            raise NoteError("cosigning keys sign through audit.cosignature")
        return self.private_key.sign(text.encode("utf-8"))


def generate_signer(name: str, alg: int = ALG_ED25519) -> Signer:
    """A fresh random key pair for ``name``."""
    if not is_valid_name(name):
        raise NoteError(f"key name {name!r} is empty or contains a space or '+'")
    return Signer(name, Ed25519PrivateKey.generate(), alg)


def parse_signer_key(skey: str) -> Signer:
    """Parse ``PRIVATE+KEY+<name>+<id>+<base64(type || seed)>``, checking the key ID."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise NoteError("signer key must be PRIVATE+KEY+<name>+<key id>+<base64 seed>")
    _, _, name, id_hex, key64 = parts
    if not is_valid_name(name):
        raise NoteError("signer key: key name is empty or contains a space or '+'")
    if len(id_hex) != 8 or any(c not in "0123456789abcdefABCDEF" for c in id_hex):
        raise NoteError("signer key: key ID must be 8 hexadecimal digits")
    raw = b64decode_strict(key64, "signer key")
    if len(raw) != 33 or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise NoteError("signer key: expected a type byte (0x01 or 0x04) and a 32-byte seed")
    signer = Signer(name, Ed25519PrivateKey.from_private_bytes(raw[1:]), raw[0])
    if signer.key_id != int(id_hex, 16):
        raise NoteError(f"signer key: key ID {id_hex} does not match the key")
    return signer


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line of a note, verified or not."""

    name: str
    key_id: int
    base64: str

    @property
    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.name} {self.base64}\n"

    @property
    def raw(self) -> bytes:
        """The signature bytes after the 4-byte key ID."""
        return b64decode_strict(self.base64, "signature")[4:]


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed note: its text, the signatures verified and the ones from unknown keys."""

    text: str
    sigs: tuple[Signature, ...]
    unverified: tuple[Signature, ...] = ()

    def encode(self) -> str:
        """The note with all its signature lines (verified first)."""
        lines = "".join(sig.line for sig in (*self.sigs, *self.unverified))
        return f"{self.text}\n{lines}"


def _check_characters(msg: str) -> None:
    for ch in msg:
        if ord(ch) < 0x20 and ch != "\n":
            raise NoteError("malformed note: control character in text")


def parse_signature_line(line: str) -> Signature:
    """Parse ``— <name> <base64>`` (without the newline)."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError("malformed note: signature line must start with an em dash and space")
    name, _, sig64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not is_valid_name(name) or not sig64:
        raise NoteError("malformed note: bad key name or empty signature")
    raw = b64decode_strict(sig64, "signature")
    if len(raw) < 5:
        raise NoteError("malformed note: signature shorter than a key ID")
    return Signature(name, int.from_bytes(raw[:4], "big"), sig64)


def split_note(msg: str | bytes) -> tuple[str, list[Signature]]:
    """Separate a signed note into its text and its signature lines, checking the syntax."""
    if isinstance(msg, bytes):
        try:
            msg = msg.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("malformed note: not UTF-8") from None
    _check_characters(msg)
    split = msg.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, block = msg[: split + 1], msg[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError("malformed note: signature block must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    return text, [parse_signature_line(line) for line in lines]


def open_note(msg: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse and verify a note against trusted keys (c2sp.org/signed-note rules).

    Signatures from unknown keys are kept as unverified; a known key whose signature fails
    rejects the whole note; a note without any verified signature is refused.
    """
    text, signatures = split_note(msg)
    known: dict[tuple[str, int], list[Verifier]] = {}
    for verifier in verifiers:
        known.setdefault((verifier.name, verifier.key_id), []).append(verifier)
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, int]] = set()
    for sig in signatures:
        candidates = known.get((sig.name, sig.key_id))
        if not candidates:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if len(candidates) > 1:
            raise NoteError(f"ambiguous key {sig.name}+{sig.key_id:08x}")
        if (sig.name, sig.key_id) in seen:
            continue
        seen.add((sig.name, sig.key_id))
        if not candidates[0].verify(text, sig.raw):
            raise NoteError(f"invalid signature for key {sig.name}+{sig.key_id:08x}")
        verified.append(sig)
    if not verified:
        raise UnverifiedNoteError("note has no verifiable signatures from a trusted key")
    return Note(text, tuple(verified), tuple(unverified))


def signature_for(signer: Signer, text: str) -> Signature:
    """Sign ``text`` and wrap the result as a signature line."""
    raw = signer.key_id.to_bytes(4, "big") + signer.sign_text(text)
    return Signature(signer.name, signer.key_id, b64(raw))


def sign_note(text: str, signers: Sequence[Signer], existing: Sequence[Signature] = ()) -> str:
    """Encode ``text`` signed by ``signers``; ``existing`` lines from other keys are kept."""
    if not text.endswith("\n"):
        raise NoteError("malformed note: text must end with a newline")
    _check_characters(text)
    fresh = [signature_for(signer, text) for signer in signers]
    replaced = {(sig.name, sig.key_id) for sig in fresh}
    kept = [sig for sig in existing if (sig.name, sig.key_id) not in replaced]
    lines = "".join(sig.line for sig in (*kept, *fresh))
    return f"{text}\n{lines}"
