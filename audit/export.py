"""The JSONL export file: a log (or a filtered part of it) that verifies offline.

Line 1 is a header, then signed checkpoints (ascending size), then entries::

    {"kind": "header", "format": "ppsgate-audit-export", "version": 1, "origin": ...,
     "tree_size": N, "filtered": false, "exported_at": "..."}
    {"kind": "checkpoint", "note": "<signed checkpoint note>"}
    {"kind": "entry", "index": 0, "entry": "<canonical entry JSON>", "leaf_hash": "<b64>",
     "detail": "<canonical detail JSON>" (optional), "proof": ["<b64>", ...] (filtered only)}

A complete export (``filtered: false``) holds entries ``0..N-1`` and is checked by
recomputing the whole tree; a filtered export (search results) holds an inclusion proof per
entry against the checkpoint of size N, so each line verifies on its own.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.entry import Entry, detail_digest
from audit.errors import AuditError, EntryError, MerkleProofError, VerificationError
from audit.merkle import leaf_hash, verify_inclusion
from audit.note import Verifier
from audit.verify import SourceEntry

FORMAT = "ppsgate-audit-export"
VERSION = 1


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def header_line(*, origin: str, tree_size: int, filtered: bool, exported_at: str) -> str:
    header = {
        "kind": "header",
        "format": FORMAT,
        "version": VERSION,
        "origin": origin,
        "tree_size": tree_size,
        "filtered": filtered,
        "exported_at": exported_at,
    }
    return json.dumps(header, sort_keys=True) + "\n"


def checkpoint_line(note: str) -> str:
    return json.dumps({"kind": "checkpoint", "note": note}, sort_keys=True) + "\n"


def entry_line(
    index: int,
    data: bytes,
    stored_leaf_hash: bytes | None,
    *,
    detail: bytes | None = None,
    proof: Sequence[bytes] | None = None,
) -> str:
    line: dict[str, Any] = {"kind": "entry", "index": index, "entry": data.decode("utf-8")}
    if stored_leaf_hash is not None:
        line["leaf_hash"] = _b64(stored_leaf_hash)
    if detail is not None:
        line["detail"] = detail.decode("utf-8")
    if proof is not None:
        line["proof"] = [_b64(value) for value in proof]
    return json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True, slots=True)
class ExportHeader:
    origin: str
    tree_size: int
    filtered: bool


def _decode(raw: str, line_number: int) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise AuditError(f"export line {line_number} is not JSON: {exc.msg}") from None
    if not isinstance(value, dict) or "kind" not in value:
        raise AuditError(f"export line {line_number} has no 'kind'")
    return value


def _bytes(value: Any, what: str, line_number: int) -> bytes:
    try:
        return base64.b64decode(str(value).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise AuditError(f"export line {line_number}: {what} is not base64") from None


class ExportFileSource:
    """Reads an export file as a :class:`audit.verify.LogSource` (no proofs on demand)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.checkpoints: list[str] = []
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
            if not first:
                raise AuditError(f"{path} is empty")
            header = _decode(first, 1)
            if header.get("format") != FORMAT or header.get("version") != VERSION:
                raise AuditError(f"{path} is not a {FORMAT} v{VERSION} file")
            self.header = ExportHeader(
                str(header["origin"]), int(header["tree_size"]), bool(header["filtered"])
            )
            for number, raw in enumerate(handle, start=2):
                value = _decode(raw, number)
                if value["kind"] == "checkpoint":
                    self.checkpoints.append(str(value["note"]))
                elif value["kind"] == "entry":
                    break

    def latest_checkpoint(self) -> str:
        for note in reversed(self.checkpoints):
            lines = note.split("\n")
            if len(lines) > 1 and lines[1] == str(self.header.tree_size):
                return note
        raise AuditError(
            f"the export holds no signed checkpoint of its size {self.header.tree_size} "
            "(was the log exported before its first checkpoint?)"
        )

    def checkpoint_history(self) -> list[str]:
        return list(self.checkpoints)

    def _lines(self) -> Iterator[tuple[int, dict[str, Any]]]:
        with self.path.open(encoding="utf-8") as handle:
            for number, raw in enumerate(handle, start=1):
                value = _decode(raw, number)
                if value["kind"] == "entry":
                    yield number, value

    def entries(self, start: int, end: int) -> Iterable[SourceEntry]:
        for number, value in self._lines():
            index = int(value["index"])
            if index < start:
                continue
            if index >= end:
                break
            yield SourceEntry(
                index=index,
                data=str(value["entry"]).encode("utf-8"),
                leaf_hash=_bytes(value["leaf_hash"], "leaf_hash", number)
                if "leaf_hash" in value
                else None,
                detail=str(value["detail"]).encode("utf-8") if "detail" in value else None,
            )

    def consistency_proof(self, first: int, second: int) -> list[bytes] | None:
        return None

    def verify_filtered(self, log_key: Verifier) -> tuple[Checkpoint, int]:
        """Check every entry line of a filtered export by its own inclusion proof."""
        checkpoint = open_checkpoint(self.latest_checkpoint(), log_key).checkpoint
        count = 0
        for number, value in self._lines():
            index = int(value["index"])
            data = str(value["entry"]).encode("utf-8")
            proof = [_bytes(item, "proof hash", number) for item in value.get("proof", [])]
            try:
                entry = Entry.decode(data)
                if entry.seq != index:
                    raise EntryError(f"it says it is entry {entry.seq}")
                if "detail" in value and entry.detail_sha256 != detail_digest(
                    str(value["detail"]).encode("utf-8")
                ):
                    raise EntryError("its detail record does not match the committed digest")
                verify_inclusion(
                    leaf_hash(data), index, checkpoint.size, proof, checkpoint.root_hash
                )
            except (EntryError, MerkleProofError) as exc:
                raise VerificationError(
                    f"entry {index} (export line {number}) does not verify: {exc.reason}",
                    index=index,
                ) from None
            count += 1
        return checkpoint, count
