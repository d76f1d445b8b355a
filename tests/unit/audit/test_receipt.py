"""Receipts (C2SP tlog-proof) verify offline and catch any change."""

from __future__ import annotations

import pytest

from audit import merkle
from audit.cosignature import cosign, generate_cosigner
from audit.errors import CheckpointError, MerkleProofError, NoteError
from audit.receipt import Receipt, verify_receipt
from tests.unit.audit.logs import MemoryLog


def _receipt(log: MemoryLog, index: int, note: str) -> Receipt:
    proof = merkle.inclusion_proof(log.leaves(), index)
    return Receipt(index, tuple(proof), note, extra=log.rows[index][1])


def test_receipt_round_trip_and_verification() -> None:
    log = MemoryLog()
    log.append(13)
    note = log.sign()
    receipt = _receipt(log, 6, note)
    text = receipt.encode()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra ")
    parsed = Receipt.parse(text)
    assert parsed == receipt
    signed = verify_receipt(parsed, log.rows[6][1], log.signer.verifier)
    assert signed.checkpoint.size == 13
    with pytest.raises(MerkleProofError, match="does not prove"):
        verify_receipt(parsed, log.rows[7][1], log.signer.verifier)


def test_receipt_with_witness_quorum() -> None:
    log = MemoryLog()
    log.append(5)
    note = log.sign()
    witness = generate_cosigner("witness.test/w1")
    text = note.split("\n\n")[0] + "\n"
    receipt = _receipt(log, 2, note)
    with pytest.raises(CheckpointError, match=r"witness\.test/w1"):
        verify_receipt(
            receipt,
            log.rows[2][1],
            log.signer.verifier,
            witnesses=[witness.verifier],
            required_cosigners=["witness.test/w1"],
        )
    cosigned = _receipt(log, 2, note + cosign(witness, text, 1).line)
    verify_receipt(
        cosigned,
        log.rows[2][1],
        log.signer.verifier,
        witnesses=[witness.verifier],
        required_cosigners=["witness.test/w1"],
    )


def test_tampered_receipts_fail() -> None:
    log = MemoryLog()
    log.append(9)
    note = log.sign()
    text = _receipt(log, 4, note).encode()
    lines = text.split("\n")
    for position, line in enumerate(lines):
        if not line or line.startswith(("c2sp", "—")):
            continue
        changed = list(lines)
        changed[position] = ("B" if line[0] == "A" else "A") + line[1:]
        with pytest.raises((CheckpointError, MerkleProofError, NoteError)):
            _parse_and_verify("\n".join(changed), log)


def _parse_and_verify(text: str, log: MemoryLog) -> None:
    parsed = Receipt.parse(text)
    verify_receipt(parsed, parsed.extra or b"", log.signer.verifier)
