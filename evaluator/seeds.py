"""The evaluator's seed file: one secret 32-byte seed per epoch, outside the database.

Format: one line per epoch, ``<epoch> <64 hex characters>``; ``#`` starts a comment. The
file must have mode 0600 (refused otherwise, like ``ssh`` does) and is rewritten atomically.
One seed per epoch — not one master seed for all epochs — is what makes destroying an old
epoch's keys real: once its line is gone no later seed can bring it back.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from connectors.oprf.suite import SEED_BYTES
from evaluator.errors import EvaluatorConfigurationError

HEADER = "# ppsgate evaluator seeds: <epoch> <32-byte seed in hex>. Secret; mode 0600.\n"


def _error(path: Path, reason: str) -> EvaluatorConfigurationError:
    return EvaluatorConfigurationError(f"{path}: {reason}", field="seed_file")


def read_seeds(path: Path) -> dict[int, bytes]:
    """All epochs' seeds; a missing, unsafe or malformed file is a configuration error."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise _error(
            path, "does not exist; create it with `ppsgate evaluator init-seed --epoch N`"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise _error(path, f"is readable by others (mode {oct(mode & 0o777)}); chmod 600 it")
    seeds: dict[int, bytes] = {}
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise _error(path, f"line {number} is not '<epoch> <hex seed>'")
        try:
            seed = bytes.fromhex(parts[1])
        except ValueError:
            raise _error(path, f"line {number}: the seed is not hexadecimal") from None
        if len(seed) != SEED_BYTES:
            raise _error(path, f"line {number}: the seed must be {SEED_BYTES} bytes")
        epoch = int(parts[0])
        if epoch in seeds:
            raise _error(path, f"line {number}: epoch {epoch} appears twice")
        seeds[epoch] = seed
    return seeds


def _write(path: Path, seeds: dict[int, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(HEADER)
        for epoch in sorted(seeds):
            handle.write(f"{epoch} {seeds[epoch].hex()}\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def add_epoch(path: Path, epoch: int) -> None:
    """Create a fresh random seed for ``epoch`` (creating the file); never overwrite one."""
    if epoch < 0:
        raise EvaluatorConfigurationError("must not be negative", field="epoch")
    seeds = read_seeds(path) if path.exists() else {}
    if epoch in seeds:
        raise _error(path, f"already holds a seed for epoch {epoch}; refusing to replace it")
    seeds[epoch] = secrets.token_bytes(SEED_BYTES)
    _write(path, seeds)


def destroy_epoch(path: Path, epoch: int) -> None:
    """Remove ``epoch``'s seed after its overlap window; its keys cannot be derived again."""
    seeds = read_seeds(path)
    if epoch not in seeds:
        raise _error(path, f"holds no seed for epoch {epoch}")
    del seeds[epoch]
    _write(path, seeds)
