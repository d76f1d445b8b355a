"""Checkpoints extend each other, refuse a tampered database, carry witness cosignatures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from audit import merkle
from audit.checkpoint import Checkpoint, open_checkpoint
from audit.cosignature import cosign, generate_cosigner
from audit.note import Signer, split_note
from audit.receipt import verify_receipt
from audit.tree import append_leaf
from gateway.audit_trail import checkpoints, store
from gateway.audit_trail.errors import AuditIntegrityError, CosignatureRejectedError
from gateway.audit_trail.models import HEAD_ROW_ID, AuditEntry, AuditLogHead, AuditNode
from gateway.audit_trail.scheduler import CheckpointScheduler
from gateway.audit_trail.service import AuditTrail, build_audit_trail
from gateway.config import Settings
from gateway.db import transaction
from gateway.errors import NotFoundError
from tests.unit.gateway.audit_trail.helpers import TickingClock, record


def _sign(factory: sessionmaker[Session], trail: AuditTrail) -> checkpoints.PublishedCheckpoint:
    with transaction(factory) as session:
        published = trail.sign_checkpoint(session)
    assert published is not None
    return published


def test_checkpoints_sign_the_recomputed_root(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    record(factory, trail, 5)
    first = _sign(factory, trail)
    with transaction(factory) as session:
        assert trail.sign_checkpoint(session) is None  # nothing new
    record(factory, trail, 6)
    second = _sign(factory, trail)
    with transaction(factory) as session:
        bodies = [body for _, body in store.entry_bodies(session, 0, 100)]
        proof = store.consistency_proof(session, 5, 11)
    one = open_checkpoint(first.note, trail.verifier).checkpoint
    two = open_checkpoint(second.note, trail.verifier).checkpoint
    assert (one.size, one.root_hash) == (5, merkle.root(bodies[:5]))
    assert (two.size, two.root_hash) == (11, merkle.root(bodies))
    merkle.verify_consistency(5, 11, one.root_hash, two.root_hash, proof)
    with transaction(factory) as session:
        assert [c.tree_size for c in checkpoints.history(session, start=0, limit=10)] == [5, 11]


def _integrate(factory: sessionmaker[Session], trail: AuditTrail) -> None:
    with transaction(factory) as session:
        trail.integrate(session)


def test_an_entry_altered_before_sequencing_is_refused(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    record(factory, trail, 4)
    _sign(factory, trail)
    record(factory, trail, 4)
    with transaction(factory) as session:
        body = store.entry_bodies(session, 6, 7)[0][1]
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == 6)
            .values(body=body.replace(b'"items":1', b'"items":5'))
        )
    with pytest.raises(AuditIntegrityError, match="entry 6 is corrupt"), transaction(factory) as s:
        trail.sign_checkpoint(s)


def test_an_altered_entry_is_never_signed(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    record(factory, trail, 4)
    _sign(factory, trail)
    record(factory, trail, 4)
    _integrate(factory, trail)
    with transaction(factory) as session:
        body = store.entry_bodies(session, 6, 7)[0][1]
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == 6)
            .values(body=body.replace(b'"items":1', b'"items":5'))
        )
    with pytest.raises(AuditIntegrityError, match=r"subtree \(0, 6\)"), transaction(factory) as s:
        trail.sign_checkpoint(s)


def test_an_altered_node_or_head_is_never_signed(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    record(factory, trail, 6)
    _integrate(factory, trail)
    with transaction(factory) as session:
        session.execute(
            update(AuditNode)
            .where(AuditNode.level == 1, AuditNode.idx == 1)
            .values(hash=b"\x00" * 32)
        )
    with pytest.raises(AuditIntegrityError, match="disagrees"), transaction(factory) as s:
        trail.sign_checkpoint(s)


def test_a_deleted_entry_is_never_signed(factory: sessionmaker[Session], trail: AuditTrail) -> None:
    record(factory, trail, 5)
    _integrate(factory, trail)
    with transaction(factory) as session:
        session.query(AuditEntry).filter(AuditEntry.seq == 2).delete()
    with pytest.raises(AuditIntegrityError, match="entry 2 is missing"), transaction(factory) as s:
        trail.sign_checkpoint(s)


def _rewrite(factory: sessionmaker[Session], bodies: dict[int, bytes]) -> None:
    """Replace entry bodies and rebuild every node and the head to agree with them: a
    tampering that leaves the stored tree consistent with the stored entries."""
    with transaction(factory) as session:
        for seq, body in bodies.items():
            session.execute(
                update(AuditEntry)
                .where(AuditEntry.seq == seq)
                .values(body=body, leaf_hash=merkle.leaf_hash(body))
            )
        stored = [body for _, body in store.entry_bodies(session, 0, 1000)]
        frontier: list[bytes] = []
        session.query(AuditNode).delete()
        for position, body in enumerate(stored):
            frontier, completed = append_leaf(frontier, position, merkle.leaf_hash(body))
            session.add_all(AuditNode(level=k.level, idx=k.idx, hash=h) for k, h in completed)
        session.execute(
            update(AuditLogHead)
            .where(AuditLogHead.id == HEAD_ROW_ID)
            .values(tree_size=len(stored), frontier=b"".join(frontier))
        )


def test_an_entry_folded_by_an_earlier_pass_is_checked_again_when_signing(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    record(factory, trail, 4)
    _integrate(factory, trail)
    record(factory, trail, 4)
    with transaction(factory) as session:
        body = store.entry_bodies(session, 2, 3)[0][1]
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == 2)
            .values(body=body.replace(b'"items":1', b'"items":5'))
        )
    # This signing transaction folds entries 4-7 itself (checked once, there); entry 2 was
    # folded by an earlier one and is re-hashed against the stored subtrees.
    with pytest.raises(AuditIntegrityError, match=r"subtree \(0, 2\)"), transaction(factory) as s:
        trail.sign_checkpoint(s)


def test_a_body_with_its_leaf_hash_rewritten_is_refused_by_the_sequencer(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    record(factory, trail, 3)
    with transaction(factory) as session:
        two = store.entry_bodies(session, 2, 3)[0][1]
    for body, words in ((two, "claims another number than 1"), (b'{"v":2}', "v2 fields")):
        with transaction(factory) as session:
            session.execute(
                update(AuditEntry)
                .where(AuditEntry.seq == 1)
                .values(body=body, leaf_hash=merkle.leaf_hash(body))
            )
        with pytest.raises(AuditIntegrityError, match=f"entry 1 is corrupt: .*{words}"):
            _integrate(factory, trail)


def test_a_consistently_rewritten_tree_is_never_signed_over_moved_entries(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    record(factory, trail, 3)
    _sign(factory, trail)
    record(factory, trail, 4)
    _integrate(factory, trail)
    with transaction(factory) as session:
        five, six = (body for _, body in store.entry_bodies(session, 5, 7))
    _rewrite(factory, {5: six, 6: five})  # swapped rows, nodes and head rebuilt over them
    with pytest.raises(AuditIntegrityError, match="entry 5 is corrupt"), transaction(factory) as s:
        checkpoints.sign_pending(s, trail.signer, trail.clock.now())


def test_cosignatures_from_configured_witnesses_are_published(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    witness = generate_cosigner("witness.test/w1")
    stranger = generate_cosigner("stranger.test/w9")
    trail.witness_keys = [witness.verifier]
    record(factory, trail, 3)
    published = _sign(factory, trail)
    text, _ = split_note(published.note)
    line = cosign(witness, text, 1_800_000_000).line
    with transaction(factory) as session:
        accepted = trail.add_cosignatures(session, 3, line + cosign(stranger, text, 1).line)
    assert accepted == ["witness.test/w1"]
    with transaction(factory) as session:
        latest = checkpoints.latest(session)
    assert latest is not None
    assert latest.cosigners == ("witness.test/w1",)
    opened = open_checkpoint(latest.note, trail.verifier, witnesses=[witness.verifier])
    assert opened.cosigners == ("witness.test/w1",)
    forged = line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:]
    for bad in (cosign(stranger, text, 1).line, forged):
        with pytest.raises(CosignatureRejectedError), transaction(factory) as session:
            trail.add_cosignatures(session, 3, bad)
    with pytest.raises(NotFoundError), transaction(factory) as session:
        trail.add_cosignatures(session, 99, line)


def test_receipts_prove_inclusion_offline(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    record(factory, trail, 7)
    with pytest.raises(NotFoundError, match="no signed checkpoint"), transaction(factory) as s:
        trail.receipt(s, 2)
    _sign(factory, trail)
    with transaction(factory) as session:
        receipt = trail.receipt(session, 2)
        body = store.entry_bodies(session, 2, 3)[0][1]
    assert receipt.extra == body
    signed = verify_receipt(receipt, body, trail.verifier)
    assert signed.checkpoint.size == 7


def test_scheduler_signs_after_n_entries_or_t_seconds(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    trail.checkpoint_max_entries = 4
    trail.checkpoint_max_seconds = 60
    scheduler = CheckpointScheduler(trail, factory)
    assert scheduler.run_once() is None  # empty log
    record(factory, trail, 1)
    first = scheduler.run_once()
    assert first is not None
    assert first.tree_size == 1  # the first entry gets a checkpoint at once
    record(factory, trail, 2)
    assert scheduler.run_once() is None  # 2 new < 4, and not 60 s yet
    record(factory, trail, 2)
    four = scheduler.run_once()
    assert four is not None
    assert four.tree_size == 5
    record(factory, trail, 1)
    assert scheduler.run_once() is None
    trail.clock.current += timedelta(seconds=61)  # type: ignore[attr-defined]
    later = scheduler.run_once()
    assert later is not None
    assert later.tree_size == 6


def test_scheduler_thread_wakes_after_commit(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    import time

    trail.checkpoint_max_entries = 3
    trail.checkpoint_max_seconds = 3600
    scheduler = CheckpointScheduler(trail, factory, poll_seconds=30)
    record(factory, trail, 1)
    scheduler.run_once()
    scheduler.start()
    try:
        record(factory, trail, 2)  # size 3: the commit wakes the thread long before 30 s
        deadline = time.monotonic() + 10
        size = 0
        while time.monotonic() < deadline and size != 3:
            with transaction(factory) as session:
                latest = checkpoints.latest(session)
                size = latest.tree_size if latest else 0
            time.sleep(0.05)
        assert size == 3
    finally:
        scheduler.stop()


def test_two_schedulers_never_sign_one_size_twice(
    factory: sessionmaker[Session],
    trail: AuditTrail,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two processes' schedulers on one database: one sequences and signs at a time (the
    sequencer's lock covers the signing), so no tree size gets a second signer."""
    import threading
    import time

    other = build_audit_trail(settings, clock=TickingClock())
    other.reservations.grace_seconds = 0
    signed: list[int] = []
    real = checkpoints.sign_checkpoint

    def slow(checkpoint: Checkpoint, signer: Signer) -> str:
        signed.append(checkpoint.size)
        time.sleep(0.2)  # a slow signer widens the window a second signer would use
        return real(checkpoint, signer)

    monkeypatch.setattr(checkpoints, "sign_checkpoint", slow)
    schedulers = []
    for each in (trail, other):
        each.checkpoint_max_entries = 1
        schedulers.append(CheckpointScheduler(each, factory))
    for _ in range(3):
        record(factory, trail, 2)
        start = threading.Barrier(len(schedulers))

        def run(scheduler: CheckpointScheduler, start: threading.Barrier = start) -> None:
            start.wait()
            scheduler.run_once()

        threads = [threading.Thread(target=run, args=(s,)) for s in schedulers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert signed == [2, 4, 6]
