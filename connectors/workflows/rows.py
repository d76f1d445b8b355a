"""Reading hashed rows: the ``hash`` command's output, or a raw file hashed on the fly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.canonical import InvalidIdentifier, Kind
from connectors.cli.hash_io import CsvReader, LineSource, open_reader
from connectors.errors import InputFileError
from connectors.hashing import RowCanonicaliser, Tokeniser

TOKEN_FIELDS = ("row", "type", "epoch", "token")
#: Hashing specifications a row may name; a row without ``spec`` is v1 (docs/hashing.md).
SPECS = frozenset({"v1", "v2"})


@dataclass(frozen=True, slots=True)
class HashedRow:
    """One row ready to send: only ``token`` goes to the gateway; the rest stays local."""

    row: int
    kind: str
    epoch: int
    token: str
    carried: dict[str, Any] = field(default_factory=dict)
    value: str | None = None  # only when hashed on the fly, for the partner's own outputs
    spec: str = "v1"  # the hashing specification the token follows; sent to the gateway


@dataclass(frozen=True, slots=True)
class RejectedRow:
    row: int
    reason: str
    carried: dict[str, Any] = field(default_factory=dict)


def read_hashed(path: Path) -> Iterator[HashedRow | RejectedRow]:
    """Rows of a JSON Lines file written by ``ppsgate-connector hash``."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputFileError(f"cannot open {path}: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(LineSource(handle, path), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputFileError(f"{path}:{number}: not JSON ({exc.msg})") from None
            if not isinstance(data, dict) or any(name not in data for name in TOKEN_FIELDS):
                raise InputFileError(
                    f"{path}:{number}: expected the output of `ppsgate-connector hash` "
                    f"(fields {', '.join(TOKEN_FIELDS)})"
                )
            spec = data.get("spec", "v1")
            if spec not in SPECS:
                raise InputFileError(
                    f"{path}:{number}: unknown hashing spec {str(spec)[:8]!r} "
                    f"(expected {' or '.join(sorted(SPECS))})"
                )
            carried = {k: v for k, v in data.items() if k not in TOKEN_FIELDS and k != "spec"}
            yield HashedRow(
                row=int(data["row"]),
                kind=str(data["type"]),
                epoch=int(data["epoch"]),
                token=str(data["token"]),
                carried=carried,
                spec=spec,
            )


def looks_hashed(path: Path) -> bool:
    """Whether ``path`` is ``hash`` output (JSON Lines with tokens) rather than raw values."""
    try:
        with path.open("rb") as handle:
            for line in handle:
                if line.strip():
                    data = json.loads(line)
                    return isinstance(data, dict) and "token" in data and "value" not in data
    except OSError as exc:
        raise InputFileError(f"cannot open {path}: {exc.strerror}") from None
    except ValueError:
        return False
    return False


def check_input_file(path: Path) -> None:
    """Read the whole input once before anything is sent to the gateway.

    Rows are hashed and sent in chunks as the file streams in, so a file-level fault late
    in the file (broken quoting, text that is not UTF-8, a runaway line) would otherwise stop
    the run after earlier chunks were already submitted. Checking the structure first (no
    hashing, flat memory) makes such a file fail before the first request.
    """
    if looks_hashed(path):
        for _ in read_hashed(path):
            pass
        return
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputFileError(f"cannot open {path}: {exc.strerror}") from None
    with handle:
        _lines, reader = open_reader(handle, path)
        for _ in reader.rows():
            pass


def hash_on_the_fly(
    path: Path,
    tokeniser: Tokeniser,
    *,
    region: str,
    chunk: int = 2_000,
    also: tuple[Tokeniser, ...] = (),
) -> Iterator[HashedRow | RejectedRow]:
    """Canonicalise and tokenise a raw CSV/JSONL file (column ``value``) as it is read.

    With ``also`` (the retiring epoch during an overlap window) each accepted row is
    yielded once per tokeniser that holds its kind, the main one first, under the same row
    number; the match workflow merges their answers per row.
    """
    canonicalise = RowCanonicaliser(tokeniser.kinds, region=region)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputFileError(f"cannot open {path}: {exc.strerror}") from None
    with handle:
        _lines, reader = open_reader(handle, path)
        names = reader.carried_names if isinstance(reader, CsvReader) else None
        pending: list[tuple[int, Kind, str, str, dict[str, Any]]] = []

        def as_dict(carried: Any) -> dict[str, Any]:
            if isinstance(carried, dict):
                return dict(carried)
            return dict(zip(names or (), carried, strict=False))

        def flush() -> Iterator[HashedRow]:
            pairs = [(kind, canonical) for _, kind, canonical, _, _ in pending]
            tokens = tokeniser.tokens(pairs)
            extra = [
                (other, other.tokens([p for p in pairs if p[0] in other.kinds])) for other in also
            ]
            cursors = [0] * len(extra)
            for (row, kind, _canonical, value, carried), token in zip(pending, tokens, strict=True):
                yield HashedRow(
                    row=row,
                    kind=str(kind),
                    epoch=tokeniser.epoch,
                    token=token,
                    carried=carried,
                    value=value,
                    spec=tokeniser.spec_version,
                )
                for position, (other, other_tokens) in enumerate(extra):
                    if kind in other.kinds:
                        yield HashedRow(
                            row=row,
                            kind=str(kind),
                            epoch=other.epoch,
                            token=other_tokens[cursors[position]],
                            carried=carried,
                            value=value,
                            spec=other.spec_version,
                        )
                        cursors[position] += 1
            pending.clear()

        for record in reader:
            carried = as_dict(record.carried)
            if record.problem is not None:
                yield RejectedRow(record.row, record.problem, carried)
                continue
            try:
                kind, canonical = canonicalise(record.value, record.type_name)
            except InvalidIdentifier as exc:
                yield RejectedRow(record.row, exc.reason, carried)
                continue
            pending.append((record.row, kind, canonical, record.value, carried))
            if len(pending) >= chunk:
                yield from flush()
        yield from flush()
