"""One chunk of the ``hash`` command's rows, from parsed input to finished JSON Lines text.

The single-process path and the worker processes run exactly this function, so the output
cannot depend on how many processes made it. A chunk's result is plain data (text, rejects,
counts): cheap to send between processes, and written by the parent in input order.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any

from connectors.cli.hash_io import RowTuple
from connectors.errors import InvalidIdentifier
from connectors.hashing import RowCanonicaliser, Tokeniser

# ASCII JSON: correct whatever encoding standard output has; the rejects CSV is UTF-8.
ENCODE = json.JSONEncoder(separators=(",", ":")).encode

#: Carried data as read: CSV columns in header order, or a JSON Lines object's other keys.
Carried = tuple[Any, ...] | dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """JSON Lines of the accepted rows, rejects as ``(row, reason, carried)``, counts by type."""

    text: str
    rejects: list[tuple[int, str, Carried]]
    accepted: Counter[str]


def carried_formatter(names: tuple[str, ...] | None) -> Callable[[Carried], str]:
    """Renders carried data as ``,"name":value`` pairs; CSV column keys are encoded once.

    CSV cells are always strings, for which ``encode_basestring_ascii`` (the C function
    ``JSONEncoder.encode`` calls for a ``str``) gives the same text without the detour.
    """
    if names is None:

        def from_dict(carried: Carried) -> str:
            assert isinstance(carried, dict)
            return "".join(f",{ENCODE(key)}:{ENCODE(value)}" for key, value in carried.items())

        return from_dict
    if not names:
        return lambda _carried: ""
    keys = tuple(f",{encode_basestring_ascii(name)}:" for name in names)
    if len(keys) == 1:
        key = keys[0]
        return lambda carried: key + encode_basestring_ascii(carried[0])  # type: ignore[index]

    def from_tuple(carried: Carried) -> str:
        return "".join(
            [key + encode_basestring_ascii(value) for key, value in zip(keys, carried, strict=True)]
        )

    return from_tuple


def process_chunk(
    records: Sequence[RowTuple],
    *,
    canonicalise: RowCanonicaliser,
    tokeniser: Tokeniser,
    format_carried: Callable[[Carried], str],
) -> ChunkResult:
    """Canonicalise, tokenise and render one chunk; row-level problems become rejects."""
    rejects: list[tuple[int, str, Carried]] = []
    items: list[tuple[Any, str]] = []
    accepted: list[tuple[int, str, Carried]] = []
    for row, value, type_name, carried, problem in records:
        if problem is not None:
            rejects.append((row, problem, carried))
            continue
        try:
            kind, canonical = canonicalise(value, type_name)
        except InvalidIdentifier as exc:
            rejects.append((row, exc.reason, carried))
            continue
        items.append((kind, canonical))
        accepted.append((row, kind.value, carried))
    tokens = tokeniser.tokens(items)
    epoch = f"{tokeniser.epoch}"
    if tokeniser.spec_version != "v1":  # v1 lines stay as they were; later specs say so
        epoch += f',"spec":"{tokeniser.spec_version}"'
    text = "".join(
        [
            f'{{"row":{row},"type":"{kind}","epoch":{epoch},"token":"{token}"'
            f"{format_carried(carried)}}}\n"
            for (row, kind, carried), token in zip(accepted, tokens, strict=True)
        ]
    )
    return ChunkResult(text, rejects, Counter(kind for _, kind, _ in accepted))
