"""Appending entries: contiguous, in the caller's transaction, proofs from stored nodes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from audit import merkle
from audit.entry import Entry, decode_detail, detail_digest
from audit.export import ExportFileSource
from audit.verify import LogVerifier
from gateway.audit_trail import queries, service, store
from gateway.audit_trail.errors import AuditEventInvalidError
from gateway.audit_trail.events import AuditEvent
from gateway.audit_trail.models import AuditDetail, AuditDetailToken, AuditEntry, AuditNode
from gateway.audit_trail.service import AuditTrail
from gateway.db import transaction
from tests.unit.gateway.audit_trail.helpers import TOKEN, event, record


def _bodies(factory: sessionmaker[Session]) -> list[bytes]:
    with transaction(factory) as session:
        return [body for _, body in store.entry_bodies(session, 0, 1_000_000)]


def _integrate(factory: sessionmaker[Session], trail: AuditTrail) -> int:
    with transaction(factory) as session:
        return trail.integrate(session)


def test_entries_are_contiguous_and_hash_to_the_head(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    receipts = record(factory, trail, 23)
    assert [r.leaf_index for r in receipts] == list(range(23))
    bodies = _bodies(factory)
    assert [Entry.decode(body).seq for body in bodies] == list(range(23))
    assert [merkle.leaf_hash(body) for body in bodies] == [r.leaf_hash for r in receipts]
    with transaction(factory) as session:
        assert store.read_head(session).size == 0  # committed, not yet in the tree
    assert _integrate(factory, trail) == 23
    with transaction(factory) as session:
        head = store.read_head(session)
        assert head.size == 23
        assert head.root_hash == merkle.root(bodies)
        nodes = session.scalar(select(func.count()).select_from(AuditNode))
        assert nodes == 2 * 23 - (23).bit_count()


def test_stored_proofs_equal_reference_proofs(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    record(factory, trail, 19)
    _integrate(factory, trail)
    bodies = _bodies(factory)
    with transaction(factory) as session:
        for size in (1, 7, 8, 19):
            for index in range(size):
                expected = merkle.inclusion_proof(bodies[:size], index)
                assert store.inclusion_proof(session, index, size) == expected
            for old in range(1, size + 1):
                expected = merkle.consistency_proof(bodies[:size], old)
                assert store.consistency_proof(session, old, size) == expected
            assert store.root_at(session, size) == merkle.root(bodies[:size])


def test_rolled_back_request_leaves_no_entry_and_no_gap(
    backend: str, factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    record(factory, trail, 3)

    class AbandonedError(Exception):
        pass

    def abandoned_request() -> None:
        with transaction(factory) as session:
            assert trail.record(session, event(99)).leaf_index == 3
            raise AbandonedError

    with pytest.raises(AbandonedError):
        abandoned_request()
    receipt = record(factory, trail, 1)[0]
    assert _integrate(factory, trail) == receipt.leaf_index + 1
    entries = [Entry.decode(body) for body in _bodies(factory)]
    assert [e.seq for e in entries] == list(range(len(entries)))
    assert "req-99" not in {e.request_id for e in entries}
    if backend == "sqlite":
        # The reservation rolled back with the request: the number is handed out again.
        assert receipt.leaf_index == 3
    else:
        # A drawn number is never reused: the gap becomes a void entry saying so.
        assert receipt.leaf_index == 4
        assert (entries[3].tag, entries[3].reasons) == (
            "audit:sequence:void",
            ("reservation-abandoned",),
        )


def test_detail_record_is_stored_apart_and_committed_by_digest(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    detail = {"tokens": [TOKEN], "disclosed": {TOKEN: ["category"]}}
    with transaction(factory) as session:
        receipt = trail.record(session, event(0, detail=detail))
    with transaction(factory) as session:
        stored = session.get(AuditDetail, receipt.leaf_index)
        assert stored is not None
        entry = Entry.decode(store.entry_bodies(session, 0, 1)[0][1])
        assert entry.detail_sha256 == detail_digest(stored.body)
        assert decode_detail(stored.body)["disclosed"] == {TOKEN: ["category"]}
        tokens = session.scalars(select(AuditDetailToken.token_hash)).all()
        assert tokens == [bytes.fromhex(TOKEN)]
        assert TOKEN.encode() not in entry.encode()


def test_purge_deletes_expired_details_without_breaking_proofs(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    detail = {"tokens": [TOKEN]}
    receipts = record(factory, trail, 4, detail=detail)
    _integrate(factory, trail)
    bodies = _bodies(factory)
    root = merkle.root(bodies)
    cutoff = receipts[1].time + trail.detail_retention
    with transaction(factory) as session:
        purged = trail.purge_details(session, before=cutoff)
    assert purged == 2  # the two oldest records expired by the cutoff
    with transaction(factory) as session:
        left = session.scalars(select(AuditDetail.seq).order_by(AuditDetail.seq)).all()
        assert left == [2, 3]
        assert session.scalar(select(func.count()).select_from(AuditDetailToken)) == 2
        assert store.read_head(session).root_hash == root
        assert _bodies(factory) == bodies
        for index in range(4):
            proof = store.inclusion_proof(session, index, 4)
            merkle.verify_inclusion(merkle.leaf_hash(bodies[index]), index, 4, proof, root)


@pytest.mark.parametrize(
    "overrides",
    [
        {"actor_user": "alice@example.nl"},
        {"purpose": "fraud prevention"},
        {"counts": {"items": -1}},
        {"detail": {"tokens": ["not-hex"]}},
        {"detail": {"score": 0.5}},
    ],
)
def test_invalid_events_are_refused_before_anything_is_written(
    factory: sessionmaker[Session], trail: AuditTrail, overrides: dict[str, object]
) -> None:
    with pytest.raises(AuditEventInvalidError), transaction(factory) as session:
        trail.record(session, event(0, **overrides))
    with transaction(factory) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_record_flushes_the_callers_pending_changes_first(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    from gateway.partners.models import Partner

    with transaction(factory) as session:
        session.add(Partner(id="bank-a", name="Bank A", sector="bank"))
        trail.record(session, event(0))
        assert session.get(Partner, "bank-a") is not None
    with transaction(factory) as session:
        assert session.get(Partner, "bank-a") is not None
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_new_entries_are_v2_with_their_own_nonce(
    factory: sessionmaker[Session], trail: AuditTrail
) -> None:
    record(factory, trail, 3)
    entries = [Entry.decode(body) for body in _bodies(factory)]
    assert {entry.version for entry in entries} == {2}
    assert len({entry.nonce for entry in entries}) == 3


def test_a_database_begun_in_format_v1_goes_on_in_v2_and_verifies(
    factory: sessionmaker[Session],
    trail: AuditTrail,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Entries an older gateway wrote keep their v1 bytes; checkpoints and exports verify."""
    current = service._entry

    def as_before_the_nonce(event: AuditEvent, digest: str | None, time: str) -> Entry:
        return replace(current(event, digest, time), version=1, nonce=None)

    monkeypatch.setattr(service, "_entry", as_before_the_nonce)
    record(factory, trail, 6)
    with transaction(factory) as session:
        assert trail.sign_checkpoint(session) is not None
    monkeypatch.undo()
    record(factory, trail, 7)
    with transaction(factory) as session:
        assert trail.sign_checkpoint(session) is not None
    assert [Entry.decode(body).version for body in _bodies(factory)] == [1] * 6 + [2] * 7
    export = tmp_path / "export.jsonl"
    with transaction(factory) as session:
        lines = queries.export_jsonl(
            session,
            queries.AuditFilter(),
            scope=None,
            origin=trail.origin,
            exported_at="2026-11-29T12:00:00.000000Z",
        )
        export.write_text("".join(lines), encoding="utf-8")
    report, _ = LogVerifier(trail.verifier).verify(ExportFileSource(export))
    assert (report.size, report.entries_checked, report.checkpoints_checked) == (13, 13, 2)
