"""Witness cosignatures (cosignature/v1) over checkpoints."""

from __future__ import annotations

import base64
import struct

import pytest

from audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from audit.cosignature import (
    cosign,
    cosignature_timestamp,
    generate_cosigner,
    parse_cosigner_key,
)
from audit.errors import NoteError
from audit.note import ALG_COSIGNATURE_V1, generate_signer, key_id, open_note, parse_verifier_key

ORIGIN = "example.test/log"


def test_cosignature_verifies_on_a_checkpoint() -> None:
    log = generate_signer(ORIGIN)
    witness = generate_cosigner("witness.test/w1")
    checkpoint = Checkpoint(ORIGIN, 20852163, bytes(range(32)))
    note = sign_checkpoint(checkpoint, log)
    line = cosign(witness, checkpoint.text, 1679315147).line
    signed = open_checkpoint(note + line, log.verifier, witnesses=[witness.verifier])
    assert signed.cosigners == ("witness.test/w1",)
    sig = next(s for s in open_note(note + line, [witness.verifier]).sigs)
    assert cosignature_timestamp(sig) == 1679315147
    raw = base64.b64decode(sig.base64)
    assert len(raw) == 4 + 8 + 64
    assert struct.unpack(">Q", raw[4:12])[0] == 1679315147
    assert witness.verifier.key_id == key_id(
        "witness.test/w1", ALG_COSIGNATURE_V1, witness.public_key
    )


def test_cosignature_binds_time_and_checkpoint() -> None:
    log = generate_signer(ORIGIN)
    witness = generate_cosigner("witness.test/w1")
    checkpoint = Checkpoint(ORIGIN, 10, bytes(32))
    note = sign_checkpoint(checkpoint, log)
    raw = bytearray(base64.b64decode(cosign(witness, checkpoint.text, 100).base64))
    raw[11] ^= 1  # change the claimed timestamp
    forged = f"— witness.test/w1 {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(note + forged, [log.verifier, witness.verifier])
    other = Checkpoint(ORIGIN, 11, bytes(32))
    moved = cosign(witness, checkpoint.text, 100).line
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(sign_checkpoint(other, log) + moved, [log.verifier, witness.verifier])


def test_witness_key_files_and_types() -> None:
    witness = generate_cosigner("witness.test/w1")
    assert parse_cosigner_key(witness.signer_key).verifier == witness.verifier
    assert parse_verifier_key(witness.verifier.vkey).alg == ALG_COSIGNATURE_V1
    with pytest.raises(NoteError, match="0x04"):
        parse_cosigner_key(generate_signer("log").signer_key)
    with pytest.raises(NoteError):
        cosign(generate_signer("log"), "a\n", 1)
    with pytest.raises(NoteError, match="timestamp"):
        cosign(witness, "a\n", 2**63)
