"""Audit entry format (v2; v1 still read): the canonical JSON that each Merkle leaf commits to.

An entry records *that* something happened and under which decision, never *about whom*:
it holds pseudonymous actor ids, a purpose, a legal basis, reason codes and counts, and the
SHA-256 of an optional **detail record**. Details (for example the peppered token hashes a
match query asked about and what was disclosed for each) must be erasable when their
retention period ends; because only their digest is in the leaf, deleting them later breaks
no proof. A random salt inside every detail record keeps the digest from confirming a guess
about a purged record.

Field formats are deliberately narrow (no spaces, no ``@``) so that a careless caller cannot
slip an e-mail address or a free-text identifier into the permanent log.

Leaf hashes are public, entry contents are not. An entry's fields are low-entropy (a partner,
a purpose, a time, a few counts), so anyone could hash guessed contents and compare; format
v2 therefore adds ``nonce``, 128 random bits inside the hashed bytes, which makes the leaf a
hiding commitment: its hash discloses nothing about the entry. Entries written in v1 keep
their v1 bytes (their leaves are signed) and still decode and verify.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from audit.canonical import MAX_SAFE_INTEGER, canonical_json, parse_canonical
from audit.errors import CanonicalJSONError, EntryError

ENTRY_VERSION = 2
ENTRY_VERSIONS = (1, 2)
NONCE_BYTES = 16
MAX_COUNTS = 32
MAX_REASONS = 32
MAX_DETAIL_TOKENS = 100_000

_ID = re.compile(r"[A-Za-z0-9_.:/-]{1,128}")
_LEGAL = re.compile(r"[A-Za-z0-9_.:/()-]{1,128}")
_TAG = re.compile(r"[a-z0-9_-]+(?::[a-z0-9_-]+)+")
_DIGEST = re.compile(r"[A-Za-z0-9:+/=._-]{1,160}")
_COUNT_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX_RUN = re.compile(r"[0-9a-f]*")
_SHA256_HEX = _HEX64
_NONCE = re.compile(r"[0-9a-f]{32}")

V1_KEYS = frozenset(
    {
        "actor",
        "counts",
        "decision",
        "detail_sha256",
        "legal_basis",
        "policy_digest",
        "purpose",
        "reasons",
        "request_id",
        "seq",
        "tag",
        "time",
        "v",
    }
)
ENTRY_KEYS = V1_KEYS | {"nonce"}
KEYS_BY_VERSION = {1: V1_KEYS, 2: ENTRY_KEYS}
ACTOR_KEYS = frozenset({"client", "partner", "user"})


def new_nonce() -> str:
    """A fresh commitment nonce: 128 random bits as 32 lowercase hex."""
    return secrets.token_hex(NONCE_BYTES)


def _text(value: Any, name: str, pattern: re.Pattern[str], *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise EntryError(f"{name}: {value!r} does not match {pattern.pattern}")


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit log entry; new entries are v2 with a fresh random ``nonce``.

    A v1 entry (read back from an older log) has ``version=1`` and ``nonce=None``.
    """

    seq: int
    time: str
    request_id: str
    tag: str
    actor_partner: str | None = None
    actor_client: str | None = None
    actor_user: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    decision: str | None = None
    reasons: tuple[str, ...] = ()
    policy_digest: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    detail_sha256: str | None = None
    version: int = ENTRY_VERSION
    nonce: str | None = field(default_factory=new_nonce)

    def __post_init__(self) -> None:
        self._check_version()
        if not isinstance(self.seq, int) or not 0 <= self.seq <= MAX_SAFE_INTEGER:
            raise EntryError(f"seq: {self.seq!r} is not a sequence number")
        _text(self.time, "time", _TIME, optional=False)
        _text(self.request_id, "request_id", _ID, optional=False)
        _text(self.tag, "tag", _TAG, optional=False)
        for name in ("actor_partner", "actor_client", "actor_user", "purpose"):
            _text(getattr(self, name), name, _ID)
        _text(self.legal_basis, "legal_basis", _LEGAL)
        if self.decision not in (None, "allow", "deny"):
            raise EntryError(f"decision: {self.decision!r} is not allow, deny or null")
        if len(self.reasons) > MAX_REASONS:
            raise EntryError(f"reasons: more than {MAX_REASONS} reason codes")
        for position, code in enumerate(self.reasons):
            _text(code, f"reasons[{position}]", _ID, optional=False)
        _text(self.policy_digest, "policy_digest", _DIGEST)
        if len(self.counts) > MAX_COUNTS:
            raise EntryError(f"counts: more than {MAX_COUNTS} counters")
        for key, value in self.counts.items():
            _text(key, "counts key", _COUNT_KEY, optional=False)
            if isinstance(value, bool) or not isinstance(value, int):
                raise EntryError(f"counts.{key}: {value!r} is not an integer")
            if not 0 <= value <= MAX_SAFE_INTEGER:
                raise EntryError(f"counts.{key}: {value} is outside 0..2**53-1")
        _text(self.detail_sha256, "detail_sha256", _SHA256_HEX)

    def _check_version(self) -> None:
        if type(self.version) is not int or self.version not in ENTRY_VERSIONS:
            raise EntryError(f"version: {self.version!r} is not one of {ENTRY_VERSIONS}")
        if self.version == 1 and self.nonce is not None:
            raise EntryError("nonce: a v1 entry has no nonce")
        if self.version > 1:
            _text(self.nonce, "nonce", _NONCE, optional=False)

    def to_json(self) -> dict[str, Any]:
        value = self._fields()
        if self.version != 1:
            value["nonce"] = self.nonce
        return value

    def _fields(self) -> dict[str, Any]:
        return {
            "v": self.version,
            "seq": self.seq,
            "time": self.time,
            "request_id": self.request_id,
            "tag": self.tag,
            "actor": {
                "partner": self.actor_partner,
                "client": self.actor_client,
                "user": self.actor_user,
            },
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "decision": self.decision,
            "reasons": list(self.reasons),
            "policy_digest": self.policy_digest,
            "counts": dict(self.counts),
            "detail_sha256": self.detail_sha256,
        }

    def encode(self) -> bytes:
        """The leaf bytes: canonical JSON of the entry."""
        return encode_validated(self.to_json())

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        """Parse leaf bytes, refusing anything that is not a canonical v1 or v2 entry.

        Fast path: the C JSON parser, then the bytes must re-encode to themselves with
        :func:`encode_validated`, then the full field validation. For bytes that pass all
        three this is exactly the general path's answer: a valid entry holds only ASCII keys
        and strings and integers within 2**53 (the validation allows nothing else), where
        :func:`encode_validated` is byte-identical to RFC 8785, and duplicate keys or any
        other non-canonical spelling cannot re-encode to the same bytes. Anything else is
        decoded again by the general path, so a refusal names the same reason as before.
        """
        value = _fast_canonical(data)
        if value is not None:
            try:
                return cls._from_json(value)
            except EntryError:
                pass  # refused below, with the general path's reason
        try:
            value = parse_canonical(data)
        except CanonicalJSONError as exc:
            raise EntryError(f"entry is not canonical JSON: {exc.reason}") from None
        return cls._from_json(value)

    @classmethod
    def _from_json(cls, value: Any) -> Entry:
        if not isinstance(value, dict) or "v" not in value:
            raise EntryError("entry is not an object with a version field v")
        version = value["v"]
        if type(version) is not int or version not in KEYS_BY_VERSION:
            raise EntryError(f"entry version {version!r} is not one of {ENTRY_VERSIONS}")
        if set(value) != KEYS_BY_VERSION[version]:
            raise EntryError(f"entry does not have exactly the v{version} fields")
        actor = value["actor"]
        if not isinstance(actor, dict) or set(actor) != ACTOR_KEYS:
            raise EntryError("actor must have exactly partner, client and user")
        reasons, counts = value["reasons"], value["counts"]
        if not isinstance(reasons, list) or not isinstance(counts, dict):
            raise EntryError("reasons must be a list and counts an object")
        return cls(
            seq=value["seq"],
            time=value["time"],
            request_id=value["request_id"],
            tag=value["tag"],
            actor_partner=actor["partner"],
            actor_client=actor["client"],
            actor_user=actor["user"],
            purpose=value["purpose"],
            legal_basis=value["legal_basis"],
            decision=value["decision"],
            reasons=tuple(reasons),
            policy_digest=value["policy_digest"],
            counts=counts,
            detail_sha256=value["detail_sha256"],
            version=version,
            nonce=value.get("nonce"),
        )


# Built once: constructing an encoder per call cost a third of the encoding (both hold no
# state between calls, so threads share them).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_DECODER = json.JSONDecoder()


def _fast_canonical(data: bytes) -> Any:
    """``data`` parsed if it re-encodes to itself with :func:`encode_validated`, else None."""
    try:
        value = _DECODER.decode(data.decode("utf-8"))
        if encode_validated(value) == data:
            return value
    except (ValueError, TypeError, RecursionError):  # JSON, Unicode and type errors
        pass
    return None


# The top-level number of a canonical entry: keys are sorted, so ``seq`` sits between
# ``request_id`` (a string of _ID characters, never a quote) and ``tag`` in v1 and v2.
_SEQ_FIELD = re.compile(
    rb'"request_id":"[A-Za-z0-9_.:/-]{1,128}","seq":(0|[1-9][0-9]{0,15}),"tag":"'
)


def entry_seq(data: bytes) -> int:
    """The sequence number canonical entry bytes hold, read without decoding them.

    Exact for every valid entry (its strings cannot hold a quote, so the pattern occurs once
    and only at the top level; a ``counts`` key named ``seq`` or ``request_id`` is followed
    by an integer, not by this shape). Bytes with no such field, or more than one, are
    refused rather than guessed at. This checks the number only: use :meth:`Entry.decode`
    to check that bytes are an entry at all.
    """
    found = _SEQ_FIELD.findall(data)
    if len(found) != 1:
        raise EntryError("entry does not hold exactly one top-level sequence number")
    seq = int(found[0])
    if seq > MAX_SAFE_INTEGER:
        raise EntryError(f"seq: {seq} is not a sequence number")
    return seq


def encode_validated(value: Mapping[str, Any]) -> bytes:
    """Canonical JSON of an entry whose fields were validated by :class:`Entry`.

    Every key and string of a valid entry is ASCII (the field patterns allow nothing else)
    and every number an integer, where plain sorted ``json.dumps`` output is byte-identical
    to RFC 8785; this skips the general checker on the hot path. Tests assert the equality.
    """
    return _ENCODER.encode(value).encode()


def _check_detail(detail: Mapping[str, Any]) -> None:
    if "salt" in detail:
        raise EntryError("detail.salt is reserved (the log adds a random salt itself)")
    tokens = detail.get("tokens", [])
    if not isinstance(tokens, list) or len(tokens) > MAX_DETAIL_TOKENS:
        raise EntryError(f"detail.tokens must be a list of at most {MAX_DETAIL_TOKENS}")
    # One regex over the joined tokens for the common all-valid case (a batch lists 10,000);
    # the per-token check runs only to name the bad one.
    if not (
        all(type(token) is str and len(token) == 64 for token in tokens)
        and _HEX_RUN.fullmatch("".join(tokens))
    ):
        for position, token in enumerate(tokens):
            _text(token, f"detail.tokens[{position}]", _HEX64, optional=False)
    if len(set(tokens)) != len(tokens):
        raise EntryError("detail.tokens lists a token twice")
    disclosed = detail.get("disclosed", {})
    if not isinstance(disclosed, dict):
        raise EntryError("detail.disclosed must be an object keyed by token")
    listed = set(tokens)
    for token in disclosed:
        if token not in listed:
            raise EntryError(f"detail.disclosed[{token[:12]}...] is not in detail.tokens")


def encode_detail(detail: Mapping[str, Any], salt: bytes | None = None) -> bytes:
    """Canonical bytes of a detail record, with a fresh 128-bit salt unless one is given.

    Expected shape (other keys are allowed and kept)::

        {"tokens": ["<hex of peppered token hash>", ...],
         "disclosed": {"<hex>": <what was disclosed about it, e.g. ["category", "count"]>}}
    """
    _check_detail(detail)
    record = dict(detail)
    record["salt"] = (salt if salt is not None else secrets.token_bytes(16)).hex()
    try:
        return canonical_json(record)
    except CanonicalJSONError as exc:
        raise EntryError(f"detail: {exc.reason}") from None


def detail_digest(detail_bytes: bytes) -> str:
    """The hex SHA-256 that an entry's ``detail_sha256`` holds."""
    return hashlib.sha256(detail_bytes).hexdigest()


def decode_detail(detail_bytes: bytes) -> dict[str, Any]:
    """Parse a stored detail record (canonical JSON object with a salt)."""
    try:
        value = parse_canonical(detail_bytes)
    except CanonicalJSONError as exc:
        raise EntryError(f"detail is not canonical JSON: {exc.reason}") from None
    if not isinstance(value, dict) or "salt" not in value:
        raise EntryError("detail record must be an object with a salt")
    return value
