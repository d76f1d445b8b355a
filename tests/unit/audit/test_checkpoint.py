"""Checkpoints in the C2SP tlog-checkpoint format."""

from __future__ import annotations

import base64

import pytest

from audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from audit.cosignature import cosign, generate_cosigner
from audit.errors import CheckpointError, NoteError, UnverifiedNoteError
from audit.note import generate_signer

ROOT = bytes(range(32))


def test_text_format_and_round_trip() -> None:
    checkpoint = Checkpoint("example.test/log", 42, ROOT, ("ext one",))
    expected_root = base64.b64encode(ROOT).decode()
    assert checkpoint.text == f"example.test/log\n42\n{expected_root}\next one\n"
    assert Checkpoint.parse(checkpoint.text) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        "origin\n42\n",
        "origin\n042\nAAAA\n",
        "origin\n-1\nAAAA\n",
        "origin\n4x\nAAAA\n",
        "origin\n1\nnot base64!\n",
        "origin\n1\n" + base64.b64encode(b"short").decode() + "\n",
        "origin\n1\n" + base64.b64encode(ROOT).decode(),
        "origin\n1\n" + base64.b64encode(ROOT).decode() + "\n\n",
    ],
)
def test_malformed_bodies_are_refused(text: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse(text)


def test_only_the_log_key_makes_a_checkpoint_valid() -> None:
    log = generate_signer("example.test/log")
    impostor = generate_signer("example.test/log")
    witness = generate_cosigner("witness.test")
    checkpoint = Checkpoint("example.test/log", 3, ROOT)
    note = sign_checkpoint(checkpoint, log)
    assert open_checkpoint(note, log.verifier).checkpoint == checkpoint
    with pytest.raises(UnverifiedNoteError):
        open_checkpoint(sign_checkpoint(checkpoint, impostor), log.verifier)
    # A note carrying only a witness's cosignature is not a checkpoint of the log.
    only_witness = checkpoint.text + "\n" + cosign(witness, checkpoint.text, 1).line
    with pytest.raises(NoteError, match="not signed by the log key"):
        open_checkpoint(only_witness, log.verifier, witnesses=[witness.verifier])
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(note, log.verifier, origin="other.test/log")
    with pytest.raises(CheckpointError, match="differs"):
        sign_checkpoint(Checkpoint("other.test/log", 3, ROOT), log)
