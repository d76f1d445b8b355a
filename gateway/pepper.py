"""K_gw, the gateway's pepper: tokens are stored as ``HMAC-SHA256(K_gw, token)``.

The key lives in a file outside the database (mode 0600), so a database dump together with a
leaked partner type key still cannot be used to test guesses offline. Development generates
the file in the data directory; production must name one (see ``Settings``).

Rotation rides on salt epochs. A stored peppered token cannot be re-peppered (the gateway
never keeps the token it came from), but every token belongs to one salt epoch and partners
resubmit under each new epoch anyway. So the pepper file is a *key ring*: each line names the
first salt epoch its key applies to, and an epoch's tokens are peppered with the newest key
whose first epoch is not after it. Adding a key "from epoch N" before epoch N is issued
rotates K_gw with the salts; the old key is dropped once its epochs are retired and their
audit details purged (``ppsgate pepper add`` / ``prune``, see docs/operations.md). Each epoch
records the id of the key it was bound to (``gateway.keys.pepper_binding``), so a ring edited
the wrong way is refused at start instead of silently matching nothing.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import os
import secrets
import stat
import threading
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from gateway.config import Environment, Settings
from gateway.errors import ConfigurationError

PEPPER_BYTES = 32
KEY_ID_LABEL = b"ppsgate:pepper-key-id:"
RING_HEADER = (
    "# ppsgate pepper key ring (K_gw). One key per line: <first salt epoch>:<64 hex>.\n"
    "# Managed with `ppsgate pepper add|prune`; keep mode 0600 and never edit a line in place.\n"
)


class Pepper:
    """One pepper key: keyed hash of tokens and references at rest."""

    def __init__(self, key: bytes) -> None:
        if len(key) != PEPPER_BYTES:
            raise ConfigurationError(f"pepper key must be {PEPPER_BYTES} bytes", field="pepper")
        self._key = key
        # A public fingerprint: lets the database record which key an epoch uses.
        self.key_id = hashlib.sha256(KEY_ID_LABEL + key).hexdigest()[:16]

    def token(self, token_hex: str) -> bytes:
        """Pepper a partner token given as 64 lowercase hex characters."""
        # One-shot C HMAC: a quarter of the cost of hmac.new(...).digest() per token.
        return hmac.digest(self._key, bytes.fromhex(token_hex), "sha256")

    def tokens(self, tokens_hex: list[str]) -> list[bytes]:
        """Pepper a batch of tokens: the per-item path without its per-call overhead."""
        key, digest, unhex = self._key, hmac.digest, bytes.fromhex
        return [digest(key, unhex(token_hex), "sha256") for token_hex in tokens_hex]

    def reference(self, reference: str) -> bytes:
        """Pepper a partner's case reference (it may itself be personal data)."""
        return hmac.digest(self._key, b"ref:" + reference.encode("utf-8"), "sha256")

    def victim(self, victim_hex: str) -> bytes:
        """Pepper a victim reference (64 hex characters, already keyed by the reporter)."""
        return hmac.digest(self._key, b"victim:" + bytes.fromhex(victim_hex), "sha256")


@dataclass(frozen=True, slots=True)
class RingEntry:
    from_epoch: int
    pepper: Pepper

    @property
    def key_id(self) -> str:
        return self.pepper.key_id


class PepperRing:
    """The pepper keys by first salt epoch; what every gateway code path peppers with.

    Epochs before the first entry fall to the first key: their data has been purged before
    a key is pruned, so a lookup under them finds nothing either way.
    """

    def __init__(self, entries: list[RingEntry], *, path: Path | None = None) -> None:
        _check_order(entries, where=str(path or "pepper key ring"))
        self.path = path
        self._lock = threading.Lock()
        self._install(entries)

    def _install(self, entries: list[RingEntry]) -> None:
        self._entries = tuple(entries)
        self._starts = [entry.from_epoch for entry in entries]
        self._by_epoch: dict[int, Pepper] = {}
        self._by_id = {entry.key_id: entry.pepper for entry in entries}
        self._quarantined: dict[int, str] = {}

    @property
    def entries(self) -> tuple[RingEntry, ...]:
        return self._entries

    @property
    def newest(self) -> Pepper:
        return self._entries[-1].pepper

    def for_epoch(self, epoch: int) -> Pepper:
        pepper = self._by_epoch.get(epoch)
        if pepper is None:
            if epoch in self._quarantined:
                # Answering with another key would silently match nothing: fail instead. The
                # detail (key ids, file path) is for the operator's log, not the caller.
                raise ConfigurationError(
                    f"tokens of epoch {epoch} cannot be peppered now: the gateway's key "
                    "configuration contradicts its records (the operator is alerted in the log)",
                    field="epoch",
                )
            index = max(bisect.bisect_right(self._starts, epoch) - 1, 0)
            pepper = self._entries[index].pepper
            self._by_epoch[epoch] = pepper
        return pepper

    def key_id_for(self, epoch: int) -> str:
        """The key the ring's rule gives an epoch (quarantine does not apply)."""
        index = max(bisect.bisect_right(self._starts, epoch) - 1, 0)
        return self._entries[index].key_id

    def quarantine(self, problems: dict[int, str]) -> None:
        """Refuse to pepper for these epochs (the ring contradicts what was stored)."""
        with self._lock:
            self._quarantined = dict(problems)
            self._by_epoch = {e: p for e, p in self._by_epoch.items() if e not in problems}

    def by_id(self, key_id: str) -> Pepper:
        pepper = self._by_id.get(key_id)
        if pepper is None:
            raise ConfigurationError(
                f"pepper key {key_id} is not in the key ring "
                f"({self.path or 'in memory'}); it was pruned or the wrong file is configured"
            )
        return pepper

    def token(self, token_hex: str, *, epoch: int) -> bytes:
        """Pepper a token of this salt epoch."""
        return self.for_epoch(epoch).token(token_hex)

    def tokens(self, items: list[tuple[str, int]]) -> list[bytes]:
        """Pepper a batch of (token, epoch) pairs, usually all of one epoch."""
        epochs = {epoch for _, epoch in items}
        if len(epochs) == 1:
            return self.for_epoch(epochs.pop()).tokens([token for token, _ in items])
        return [self.for_epoch(epoch).token(token) for token, epoch in items]

    def reference(self, reference: str, *, epoch: int) -> bytes:
        """Pepper a case reference stored beside a token of this salt epoch."""
        return self.for_epoch(epoch).reference(reference)

    def victim(self, victim_hex: str, *, epoch: int) -> bytes:
        """Pepper a victim reference stored beside a token of this salt epoch."""
        return self.for_epoch(epoch).victim(victim_hex)

    def reload(self) -> bool:
        """Re-read the ring file; True when it changed. Keeps the old ring on a bad file."""
        if self.path is None:
            return False
        fresh = read_ring(self.path)
        with self._lock:
            if [(e.from_epoch, e.key_id) for e in fresh.entries] == [
                (e.from_epoch, e.key_id) for e in self._entries
            ]:
                return False
            self._install(list(fresh.entries))
            return True


def _check_order(entries: list[RingEntry], *, where: str) -> None:
    if not entries:
        raise ConfigurationError(f"{where} holds no pepper key")
    seen: set[str] = set()
    for before, after in pairwise(entries):
        if after.from_epoch <= before.from_epoch:
            raise ConfigurationError(
                f"{where}: first epochs must increase (epoch {after.from_epoch} "
                f"after {before.from_epoch})"
            )
    for entry in entries:
        if entry.from_epoch < 1:
            raise ConfigurationError(f"{where}: first epoch must be at least 1")
        if entry.key_id in seen:
            raise ConfigurationError(f"{where}: the same key appears twice")
        seen.add(entry.key_id)


def _check_mode(path: Path, *, what: str) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigurationError(f"{what} file {path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"{what} file {path} must have mode 0600 (is {oct(mode & 0o777)})")


def read_key_file(path: Path, *, what: str) -> bytes:
    """Read a hex key file, refusing files that others can read."""
    _check_mode(path, what=what)
    text = path.read_text(encoding="ascii").strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ConfigurationError(f"{what} file {path} must hold hex characters only") from None


def _parse_ring(path: Path) -> list[tuple[int, bytes]]:
    _check_mode(path, what="pepper")
    pairs: list[tuple[int, bytes]] = []
    for number, raw in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        start_text, sep, key_text = line.partition(":")
        if not sep:
            start_text, key_text = "1", line
        where = f"pepper file {path} line {number}"
        if not start_text.strip().isdigit():
            raise ConfigurationError(f"{where}: first epoch must be a whole number")
        try:
            key = bytes.fromhex(key_text.strip())
        except ValueError:
            raise ConfigurationError(f"{where}: key must be hex characters") from None
        if len(key) != PEPPER_BYTES:
            raise ConfigurationError(f"{where}: key must be {PEPPER_BYTES} bytes")
        pairs.append((int(start_text), key))
    if not pairs:
        raise ConfigurationError(f"pepper file {path} holds no key")
    return pairs


def read_ring(path: Path) -> PepperRing:
    """Parse a ring file. A bare hex line (the pre-rotation format) means "from epoch 1"."""
    entries = [RingEntry(start, Pepper(key)) for start, key in _parse_ring(path)]
    return PepperRing(entries, path=path)


def ring_keys(path: Path) -> list[tuple[int, bytes]]:
    """The ring file's (first epoch, key) pairs, for the CLI that edits it."""
    return _parse_ring(path)


def write_key_file(path: Path, key: bytes) -> None:
    """Create a key file with mode 0600 from the start (never world-readable, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")


def write_ring(path: Path, entries: list[tuple[int, bytes]]) -> None:
    """Replace the ring file atomically (0600 temporary file renamed over it)."""
    _check_order(
        [RingEntry(start, Pepper(key)) for start, key in entries], where=f"pepper file {path}"
    )
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(RING_HEADER)
            for start, key in entries:
                handle.write(f"{start}:{key.hex()}\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def pepper_path(settings: Settings) -> Path:
    """Where K_gw lives: the configured file, or the data directory outside production."""
    if settings.pepper_file is not None:
        return settings.pepper_file
    if settings.env is Environment.PRODUCTION:
        raise ConfigurationError("PPSGATE_PEPPER_FILE is required in production")
    return settings.data_dir / "keys" / "pepper.key"


def load_pepper(settings: Settings) -> PepperRing:
    """Load the K_gw ring from the configured file; development creates one on first use."""
    path = pepper_path(settings)
    if settings.pepper_file is None and not path.exists():
        write_key_file(path, secrets.token_bytes(PEPPER_BYTES))
    return read_ring(path)


def create_ring(path: Path, key: bytes) -> None:
    """Create a new ring file holding ``key`` from epoch 1 (mode 0600, never overwriting)."""
    if len(key) != PEPPER_BYTES:
        raise ConfigurationError(f"pepper key must be {PEPPER_BYTES} bytes", field="pepper")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigurationError(f"{path} exists already; refusing to overwrite a key") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(RING_HEADER)
        handle.write(f"1:{key.hex()}\n")
