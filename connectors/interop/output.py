"""Writing export files whole or not at all, to a path or to a stream the caller opened.

A feed directory that a MISP instance polls, or a bundle an OpenCTI connector picks up,
must never be seen half written: files are written to a temporary name in the same
directory and renamed over the target (atomic on POSIX and Windows). Nothing else is
touched: the exporters have no side effects beyond the files they are asked to write.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from connectors.interop.errors import ExportError


@contextlib.contextmanager
def atomic_binary(path: Path) -> Iterator[IO[bytes]]:
    """A binary handle whose content replaces ``path`` only if the block completes."""
    directory = path.parent
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".part", dir=directory
        )
    except OSError as exc:
        raise ExportError(f"cannot write in {directory}: {exc.strerror}", field="output") from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror}", field="output") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def text_output(out: Path | IO[str], *, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """A text handle on ``out``: an atomic file for a path, the stream itself otherwise."""
    if not isinstance(out, Path):
        yield out
        return
    with atomic_binary(out) as raw, _text(raw, encoding) as handle:
        yield handle


@contextlib.contextmanager
def _text(raw: IO[bytes], encoding: str) -> Iterator[IO[str]]:
    wrapper = io.TextIOWrapper(raw, encoding=encoding, newline="")
    try:
        yield wrapper
        wrapper.flush()
    finally:
        wrapper.detach()


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one step."""
    with atomic_binary(path) as handle:
        handle.write(text.encode("utf-8"))
