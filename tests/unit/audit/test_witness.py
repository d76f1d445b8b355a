"""Witness semantics (C2SP tlog-witness add-checkpoint) over a local state file."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit import merkle
from audit.checkpoint import open_checkpoint
from audit.cosignature import generate_cosigner
from audit.errors import WitnessError
from audit.witness import Witness, add_checkpoint_request, parse_add_checkpoint, read_state
from tests.unit.audit.logs import ORIGIN, MemoryLog


@pytest.fixture
def log() -> MemoryLog:
    memory = MemoryLog()
    memory.append(10)
    memory.sign()
    return memory


@pytest.fixture
def witness(log: MemoryLog, tmp_path: Path) -> Witness:
    return Witness(
        generate_cosigner("witness.test/w1"),
        {ORIGIN: log.signer.verifier},
        tmp_path / "witness.json",
        clock=lambda: 1_800_000_000,
    )


def _submit(witness: Witness, log: MemoryLog, old: int) -> str:
    size = len(log.rows)
    proof = log.consistency_proof(old, size) if 0 < old < size else []
    return witness.add_checkpoint(add_checkpoint_request(old, proof or [], log.latest_checkpoint()))


def _status(witness: Witness, body: str) -> int:
    with pytest.raises(WitnessError) as caught:
        witness.add_checkpoint(body)
    return caught.value.status


def test_cosigns_first_and_consistent_checkpoints(witness: Witness, log: MemoryLog) -> None:
    line = _submit(witness, log, 0)
    signed = open_checkpoint(
        log.latest_checkpoint() + line, log.signer.verifier, witnesses=[witness.signer.verifier]
    )
    assert signed.cosigners == ("witness.test/w1",)
    log.append(7)
    log.sign()
    _submit(witness, log, 10)
    view = read_state(witness.state_path)[ORIGIN]
    assert view.size == 17
    assert view.root_hash == merkle.root(log.leaves())
    # Re-submitting the same size refreshes the cosignature.
    _submit(witness, log, 17)


def test_protocol_errors(witness: Witness, log: MemoryLog) -> None:
    note = log.latest_checkpoint()
    assert _status(witness, "garbage") == 400
    assert _status(witness, add_checkpoint_request(11, [], note)) == 400
    assert _status(witness, "old 01\n\n" + note) == 400
    assert _status(witness, add_checkpoint_request(0, [], note.replace(ORIGIN, "x.test"))) == 404
    forged = MemoryLog()
    forged.append(10)
    assert _status(witness, add_checkpoint_request(0, [], forged.sign())) == 403
    assert _status(witness, add_checkpoint_request(0, [b"\x00" * 32], note)) == 422
    _submit(witness, log, 0)
    with pytest.raises(WitnessError) as caught:
        witness.add_checkpoint(add_checkpoint_request(0, [], note))
    assert caught.value.status == 409
    assert caught.value.latest_size == 10


def test_truncate_and_resign_is_refused(witness: Witness, log: MemoryLog) -> None:
    _submit(witness, log, 0)
    # The operator truncates to 6, appends other entries and signs a fresh size-12 tree.
    del log.rows[6:]
    log.stored_hashes = {seq: merkle.leaf_hash(data) for seq, data in log.rows}
    log.append(6, partner="bank-x")
    log.sign()
    with pytest.raises(WitnessError, match="not consistent") as caught:
        _submit(witness, log, 10)
    assert caught.value.status == 422
    assert read_state(witness.state_path)[ORIGIN].size == 10  # nothing was accepted


def test_fork_at_the_same_size_is_refused(witness: Witness, log: MemoryLog) -> None:
    _submit(witness, log, 0)
    log.rows[3] = (3, log.rows[4][1])
    log.stored_hashes[3] = merkle.leaf_hash(log.rows[3][1])
    log.notes = {}
    log.sign()
    assert _status(witness, add_checkpoint_request(10, [], log.latest_checkpoint())) == 409


def test_request_format_round_trip() -> None:
    body = add_checkpoint_request(5, [b"\x01" * 32, b"\x02" * 32], "note\n\n— x y\n")
    old, proof, note = parse_add_checkpoint(body)
    assert (old, proof, note) == (5, [b"\x01" * 32, b"\x02" * 32], "note\n\n— x y\n")
