"""Export files verify offline: whole logs by recomputation, filtered ones line by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit import merkle
from audit.entry import detail_digest, encode_detail
from audit.errors import VerificationError
from audit.export import ExportFileSource, checkpoint_line, entry_line, header_line
from audit.verify import LogVerifier
from tests.unit.audit.logs import ORIGIN, MemoryLog


def _write(path: Path, log: MemoryLog, *, rows: list[int] | None = None) -> None:
    size = len(log.rows)
    filtered = rows is not None
    with path.open("w", encoding="utf-8") as handle:
        handle.write(
            header_line(origin=ORIGIN, tree_size=size, filtered=filtered, exported_at="now")
        )
        for note in log.checkpoint_history():
            handle.write(checkpoint_line(note))
        for index in rows if rows is not None else range(size):
            seq, data = log.rows[index]
            proof = merkle.inclusion_proof(log.leaves(), index) if filtered else None
            handle.write(entry_line(seq, data, log.stored_hashes.get(seq), proof=proof))


@pytest.fixture
def log() -> MemoryLog:
    memory = MemoryLog()
    memory.append(25)
    memory.sign()
    memory.append(8)
    memory.sign()
    return memory


def test_full_export_verifies_and_names_a_changed_entry(log: MemoryLog, tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    _write(path, log)
    report, _ = LogVerifier(log.signer.verifier).verify(ExportFileSource(path))
    assert report.size == 33
    lines = path.read_text().splitlines()
    line = json.loads(lines[3 + 14])
    assert line["index"] == 14
    line["entry"] = line["entry"].replace('"items":1', '"items":2')
    lines[3 + 14] = json.dumps(line)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(VerificationError, match="entry 14 was altered") as caught:
        LogVerifier(log.signer.verifier).verify(ExportFileSource(path))
    assert caught.value.index == 14


def test_filtered_export_verifies_line_by_line(log: MemoryLog, tmp_path: Path) -> None:
    path = tmp_path / "filtered.jsonl"
    _write(path, log, rows=[2, 5, 31])
    source = ExportFileSource(path)
    checkpoint, count = source.verify_filtered(log.signer.verifier)
    assert (checkpoint.size, count) == (33, 3)
    text = path.read_text().replace("req-5", "req-6")
    path.write_text(text)
    with pytest.raises(VerificationError, match="entry 5") as caught:
        ExportFileSource(path).verify_filtered(log.signer.verifier)
    assert caught.value.index == 5


def test_detail_records_are_checked_against_their_digest(tmp_path: Path) -> None:
    from audit.entry import Entry

    detail = encode_detail({"tokens": ["ab" * 32]})
    entry = Entry(
        seq=0,
        time="2026-11-29T09:00:00.000000Z",
        request_id="r0",
        tag="match:query:allow",
        detail_sha256=detail_digest(detail),
    ).encode()
    memory = MemoryLog()
    memory.rows = [(0, entry)]
    memory.stored_hashes = {0: merkle.leaf_hash(entry)}
    note = memory.sign()
    path = tmp_path / "details.jsonl"
    with path.open("w") as handle:
        handle.write(header_line(origin=ORIGIN, tree_size=1, filtered=False, exported_at="x"))
        handle.write(checkpoint_line(note))
        handle.write(entry_line(0, entry, None, detail=detail))
    report, _ = LogVerifier(memory.signer.verifier).verify(ExportFileSource(path))
    assert report.details_checked == 1
    other = encode_detail({"tokens": ["ab" * 32]})
    path.write_text(
        path.read_text().replace(
            json.dumps(detail.decode())[1:-1], json.dumps(other.decode())[1:-1]
        )
    )
    with pytest.raises(VerificationError, match="detail record"):
        LogVerifier(memory.signer.verifier).verify(ExportFileSource(path))
