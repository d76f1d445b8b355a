"""Evaluator keys per (epoch, type), derived with RFC 9497 ``DeriveKeyPair``.

``skS, pkS = DeriveKeyPair(seed_epoch, info = "ppsgate:v2:evaluator:<epoch>:<type>")`` for
the VOPRF mode of ristretto255-SHA512, computed by the ``voprf`` binding (the Rust crate of
the same name). The key ring re-reads the seed file when it changes, so a new epoch or a
destroyed one takes effect without a restart.
"""

from __future__ import annotations

import threading
from pathlib import Path

from voprf import ristretto

from connectors.canonical import Kind
from connectors.oprf.suite import key_info
from evaluator.errors import UnknownKeyError
from evaluator.seeds import read_seeds


def derive_evaluator(seed: bytes, epoch: int, kind: Kind) -> ristretto.Evaluator:
    return ristretto.Evaluator.from_seed(seed, key_info(epoch, kind))


class KeyRing:
    """The keys of every epoch present in the seed file, rebuilt when the file changes."""

    def __init__(self, seed_file: Path) -> None:
        self._path = seed_file
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._keys: dict[tuple[int, Kind], ristretto.Evaluator] = {}
        self.refresh()

    def _file_stamp(self) -> tuple[int, int, int]:
        try:
            status = self._path.stat()
        except FileNotFoundError:
            read_seeds(self._path)  # raises the error that says how to create the file
            raise
        return (status.st_mtime_ns, status.st_size, status.st_ino)

    def refresh(self) -> None:
        """Re-derive the keys if the seed file changed since the last look."""
        stamp = self._file_stamp()
        with self._lock:
            if stamp == self._stamp:
                return
            seeds = read_seeds(self._path)
            self._keys = {
                (epoch, kind): derive_evaluator(seed, epoch, kind)
                for epoch, seed in seeds.items()
                for kind in Kind
            }
            self._stamp = stamp

    @property
    def epochs(self) -> list[int]:
        return sorted({epoch for epoch, _kind in self._keys})

    def evaluator(self, epoch: int, kind: Kind) -> ristretto.Evaluator:
        self.refresh()
        found = self._keys.get((epoch, kind))
        if found is None:
            raise UnknownKeyError(
                f"this evaluator holds no key for epoch {epoch} (not created, or destroyed "
                f"after its overlap window); it serves epochs {self.epochs}",
                field="epoch",
            )
        return found

    def public_key(self, epoch: int, kind: Kind) -> bytes:
        return self.evaluator(epoch, kind).public_key.serialize()

    def public_keys(self, epochs: list[int] | None = None) -> dict[str, dict[str, str]]:
        """``{epoch: {type: hex public key}}`` — the pins entry partners publish."""
        self.refresh()
        chosen = self.epochs if epochs is None else epochs
        return {
            str(epoch): {kind.value: self.public_key(epoch, kind).hex() for kind in Kind}
            for epoch in chosen
        }
