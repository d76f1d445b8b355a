"""The log verifier names the first entry at fault, whatever was done to the rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit import merkle
from audit.entry import Entry
from audit.errors import VerificationError
from audit.note import generate_signer
from audit.verify import LogVerifier, MonitorState, read_monitor_state, write_monitor_state
from tests.unit.audit.logs import ORIGIN, MemoryLog, entry_bytes


@pytest.fixture
def log() -> MemoryLog:
    memory = MemoryLog()
    memory.append(20)
    memory.sign()
    memory.append(17)
    memory.sign()
    return memory


def _verify(
    log: MemoryLog, state: MonitorState | None = None, *, full: bool = False
) -> MonitorState:
    _, new_state = LogVerifier(log.signer.verifier).verify(log, state, full=full)
    return new_state


def _fails_at(log: MemoryLog, index: int | None, match: str) -> None:
    with pytest.raises(VerificationError, match=match) as caught:
        _verify(log)
    assert caught.value.index == index, caught.value.reason


def test_a_consistent_log_verifies(log: MemoryLog) -> None:
    report, state = LogVerifier(log.signer.verifier).verify(log)
    assert report.size == 37
    assert report.entries_checked == 37
    assert report.checkpoints_checked == 2
    assert state.root_hash == merkle.root(log.leaves())


def test_changed_entry_is_named(log: MemoryLog) -> None:
    seq, _ = log.rows[12]
    log.rows[12] = (seq, entry_bytes(12, items=999))
    _fails_at(log, 12, "entry 12 was altered")


def test_changed_entry_is_named_without_stored_hashes(log: MemoryLog) -> None:
    log.stored_hashes = {}
    log.rows[23] = (23, entry_bytes(23, partner="bank-b"))
    log.serve_proofs = False
    # Narrowed by the signed checkpoints: 23 lies after the checkpoint of size 20.
    _fails_at(log, 20, "among entries 20..36")


def test_changed_entry_found_by_bisection_over_consistency_proofs(log: MemoryLog) -> None:
    # The source does not hand out leaf hashes but serves proofs from its intact node cache.
    log.serve_leaf_hashes = False
    log.rows[5] = (5, entry_bytes(5, items=2))
    _fails_at(log, 5, "entries 0..4 are confirmed by the log's consistency proofs")


def test_deleted_entry_is_named(log: MemoryLog) -> None:
    del log.rows[9]
    _fails_at(log, 9, "entry 9 is missing")


def test_reordered_entries_are_named(log: MemoryLog) -> None:
    log.rows[30], log.rows[31] = log.rows[31], log.rows[30]
    _fails_at(log, 30, "entry 30 is missing")


def test_inserted_entry_is_named(log: MemoryLog) -> None:
    log.rows.insert(4, (4, entry_bytes(4, partner="bank-z")))
    log.rows[5:] = [(seq + 1, data) for seq, data in log.rows[5:]]
    _fails_at(log, 4, "entry 4 was altered")


def test_renumbered_bodies_are_named(log: MemoryLog) -> None:
    # Rewrite a body to claim another sequence number: structure and hash both break.
    log.rows[3] = (3, entry_bytes(4))
    _fails_at(log, 3, "entry 3 says it is entry 4")


def test_truncated_log_is_named(log: MemoryLog) -> None:
    del log.rows[35:]
    _fails_at(log, 35, "entry 35 is missing")


def test_state_catches_truncate_and_resign(log: MemoryLog, tmp_path: Path) -> None:
    state_file = tmp_path / "monitor.json"
    write_monitor_state(state_file, _verify(log))
    # The operator truncates to 30 entries, appends different ones and re-signs.
    del log.rows[30:]
    log.stored_hashes = {seq: merkle.leaf_hash(data) for seq, data in log.rows}
    log.notes = {}
    log.append(2, partner="bank-x")
    log.sign()
    saved = read_monitor_state(state_file, ORIGIN)
    with pytest.raises(VerificationError, match="shrank") as caught:
        _verify(log, saved)
    assert caught.value.index == 32
    # And once it has grown past the old size again, the rewrite still shows.
    log.append(10, partner="bank-x")
    log.sign()
    with pytest.raises(VerificationError, match=r"rewritten: entries 0\.\.31") as caught:
        _verify(log, saved, full=True)
    assert caught.value.index == 0
    with pytest.raises(VerificationError, match="history rewritten"):
        _verify(log, saved)


def test_incremental_verification_from_state(log: MemoryLog) -> None:
    state = _verify(log)
    log.append(5)
    log.sign()
    report, new_state = LogVerifier(log.signer.verifier).verify(log, state)
    assert report.entries_checked == 5
    assert report.previous_size == 37
    assert new_state.size == 42


def test_wrong_key_and_forged_checkpoint(log: MemoryLog) -> None:
    with pytest.raises(VerificationError, match="latest checkpoint"):
        LogVerifier(generate_signer(ORIGIN).verifier).verify(log)
    other = MemoryLog()
    other.append(37)
    other.sign()
    log.notes[37] = other.notes[37]  # a checkpoint signed by someone else
    with pytest.raises(VerificationError, match="latest checkpoint"):
        _verify(log)


def test_required_cosigner_missing(log: MemoryLog) -> None:
    verifier = LogVerifier(log.signer.verifier, required_cosigners=["witness.test"])
    with pytest.raises(VerificationError, match=r"witness\.test"):
        verifier.verify(log)


def test_entries_decode(log: MemoryLog) -> None:
    assert Entry.decode(log.rows[0][1]).seq == 0


def test_the_hash_level_tree_verifies_without_contents(log: MemoryLog) -> None:
    """What anyone can check: the public leaf hashes make up every signed root."""
    log.withheld = set(range(37))
    report, state = LogVerifier(log.signer.verifier).verify(log)
    assert (report.entries_checked, report.leaves_checked) == (0, 37)
    assert report.checkpoints_checked == 2
    assert state.root_hash == merkle.root(log.leaves())


def test_a_reader_recomputes_its_own_entries_and_takes_the_rest_by_hash(log: MemoryLog) -> None:
    log.withheld = set(range(0, 37, 2))
    report, _ = LogVerifier(log.signer.verifier).verify(log)
    assert (report.entries_checked, report.leaves_checked) == (18, 19)
    seq, _ = log.rows[13]
    log.rows[13] = (seq, entry_bytes(13, items=999))  # a readable entry was changed
    _fails_at(log, 13, "entry 13 was altered")


def test_a_wrong_public_leaf_hash_is_located(log: MemoryLog) -> None:
    log.withheld = set(range(37))
    log.stored_hashes[25] = bytes(32)
    log.serve_proofs = False
    _fails_at(log, 20, "among entries 20..36")


def test_a_withheld_entry_without_its_leaf_hash_is_missing(log: MemoryLog) -> None:
    log.withheld = {7}
    log.serve_leaf_hashes = False
    _fails_at(log, 7, "entry 7 is missing: the log sent neither its contents nor")


def test_a_log_begun_in_format_v1_still_verifies() -> None:
    """Entries written before the nonce keep their bytes; the log goes on in v2."""
    log = MemoryLog()
    for seq in range(12):
        data = entry_bytes(seq, version=1)
        assert b'"v":1' in data
        assert b"nonce" not in data
        log.rows.append((seq, data))
        log.stored_hashes[seq] = merkle.leaf_hash(data)
    log.sign()
    log.append(9)
    assert b'"v":2' in log.rows[-1][1]
    log.sign()
    report, _ = LogVerifier(log.signer.verifier).verify(log)
    assert (report.size, report.entries_checked) == (21, 21)
    log.rows[3] = (3, entry_bytes(3, items=5, version=1))
    _fails_at(log, 3, "entry 3 was altered")
