"""C2SP signed notes against the Go checksum database's known answers (sumdb/note)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from audit.errors import NoteError, UnverifiedNoteError
from audit.note import (
    Signature,
    generate_signer,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    split_note,
)

# Transcribed from golang.org/x/mod/sumdb/note/note_test.go (TestOpen): a second key and its
# signature of the same text, to check notes with several signers.
ENOCH_KEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33"
    "WWd1RvMc+QQ=\n"
)


@pytest.fixture(scope="module")
def kat(test_vectors: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((test_vectors / "signed-note" / "kat.json").read_text())
    return data


def test_signing_reproduces_the_go_signature_line(kat: dict[str, Any]) -> None:
    signer = parse_signer_key(kat["signer_key"])
    assert signer.verifier.vkey == kat["verifier_key"]
    assert signer.signer_key == kat["signer_key"]
    note = sign_note(kat["text"], [signer])
    assert note == kat["text"] + "\n" + kat["signature_line"]


def test_opening_verifies_the_go_note(kat: dict[str, Any]) -> None:
    verifier = parse_verifier_key(kat["verifier_key"])
    note = open_note(kat["text"] + "\n" + kat["signature_line"], [verifier])
    assert note.text == kat["text"]
    assert [(s.name, s.key_id) for s in note.sigs] == [("PeterNeumann", 0xC74F20A3)]


def test_mangled_verifier_keys_are_refused(kat: dict[str, Any]) -> None:
    key = kat["verifier_key"]
    for start in range(len(key) + 1):
        for end in range(start + 1, len(key) + 1):
            if (start, end) != (0, len(key)):
                with pytest.raises(NoteError):
                    parse_verifier_key(key[start:end])
    for position in range(len(key)):
        mangled = key[:position] + chr(ord(key[position]) + 1) + key[position + 1 :]
        with pytest.raises(NoteError):
            parse_verifier_key(mangled)
    # From the Go tests: wrong key length and unknown algorithm, each with an adjusted key ID.
    for bad in (
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ):
        with pytest.raises(NoteError):
            parse_verifier_key(bad)


def test_mangled_signer_keys_are_refused(kat: dict[str, Any]) -> None:
    key = kat["signer_key"]
    for start in range(len(key) + 1):
        for end in range(start + 1, len(key) + 1):
            if (start, end) != (0, len(key)):
                with pytest.raises(NoteError):
                    parse_signer_key(key[start:end])
    for position in range(len(key)):
        mangled = key[:position] + chr(ord(key[position]) + 1) + key[position + 1 :]
        with pytest.raises(NoteError):
            parse_signer_key(mangled)


def test_two_signers_one_trusted(kat: dict[str, Any]) -> None:
    peter = parse_verifier_key(kat["verifier_key"])
    enoch = parse_verifier_key(ENOCH_KEY)
    message = kat["text"] + "\n" + kat["signature_line"] + ENOCH_SIG
    note = open_note(message, [peter])
    assert [s.name for s in note.sigs] == ["PeterNeumann"]
    assert [s.name for s in note.unverified] == ["EnochRoot"]
    both = open_note(message, [peter, enoch])
    assert [s.name for s in both.sigs] == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(UnverifiedNoteError):
        open_note(message, [])
    with pytest.raises(NoteError, match="ambiguous"):
        open_note(kat["text"] + "\n" + ENOCH_SIG, [enoch, peter, enoch])


def test_invalid_and_malformed_notes(kat: dict[str, Any]) -> None:
    peter = parse_verifier_key(kat["verifier_key"])
    text, line = kat["text"], kat["signature_line"]
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(text + "\n" + line[:60] + "ABCD" + line[60:], [peter])
    with pytest.raises(NoteError, match="more than 100"):
        open_note(text + "\n" + line * 101, [peter])
    for bad in (
        text,
        text + "\n",
        text + "\n" + line[:-1],
        "\x01" + text + "\n" + line,
        text + "\n" + "— Bad Name " + line.split(" ")[2],
        text + "\n" + line + "Unexpected line.\n",
    ):
        with pytest.raises(NoteError):
            open_note(bad, [peter])
    with pytest.raises(NoteError):
        open_note(b"\xff" + (text + "\n" + line).encode(), [peter])


def test_flipping_any_byte_of_a_signed_note_fails(kat: dict[str, Any]) -> None:
    peter = parse_verifier_key(kat["verifier_key"])
    message = (kat["text"] + "\n" + kat["signature_line"]).encode()
    for position in range(len(message)):
        flipped = bytearray(message)
        flipped[position] ^= 0x01
        with pytest.raises(NoteError):
            open_note(bytes(flipped), [peter])


def test_resigning_replaces_own_line_and_keeps_others(kat: dict[str, Any]) -> None:
    signer = parse_signer_key(kat["signer_key"])
    text = kat["text"]
    _, enoch = split_note(text + "\n" + ENOCH_SIG)
    stale = Signature("PeterNeumann", 0xC74F20A3, "BADSIGN=")
    note = sign_note(text, [signer], [*enoch, stale])
    assert note == text + "\n" + ENOCH_SIG + kat["signature_line"]


def test_generated_keys_round_trip() -> None:
    signer = generate_signer("example.com/log")
    again = parse_signer_key(signer.signer_key)
    assert again.verifier == signer.verifier == parse_verifier_key(signer.verifier.vkey)
    note = sign_note("hello\n", [again])
    assert open_note(note, [signer.verifier]).text == "hello\n"
    with pytest.raises(NoteError):
        generate_signer("bad name")
    with pytest.raises(NoteError):
        sign_note("no newline", [signer])
