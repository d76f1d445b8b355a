"""Privacy officers' reads: search, exports that verify offline, subject access."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from audit.export import ExportFileSource
from audit.verify import LogVerifier
from gateway.audit_trail import queries
from gateway.audit_trail.events import AuditTag
from gateway.audit_trail.models import AuditEntry
from gateway.audit_trail.service import AuditTrail
from gateway.db import transaction
from gateway.errors import PermissionDeniedError
from tests.unit.gateway.audit_trail.helpers import START, TOKEN, event

OTHER = "cd" * 32


@pytest.fixture
def populated(factory: sessionmaker[Session], trail: AuditTrail) -> AuditTrail:
    with transaction(factory) as session:
        for number in range(12):
            partner = "bank-a" if number % 3 else "telecom-b"
            detail = {"tokens": [TOKEN, OTHER], "disclosed": {TOKEN: ["category"]}}
            trail.record(
                session,
                event(
                    number,
                    actor_partner=partner,
                    decision="deny" if number == 7 else "allow",
                    tag=AuditTag.MATCH_QUERY_DENY if number == 7 else AuditTag.MATCH_QUERY_ALLOW,
                    detail=detail if number in (1, 3, 4) else None,
                ),
            )
    with transaction(factory) as session:
        trail.sign_checkpoint(session)
    return trail


def test_search_filters_scope_and_pages(
    factory: sessionmaker[Session], populated: AuditTrail
) -> None:
    with transaction(factory) as session:
        everything = queries.search(session, queries.AuditFilter(), scope=None, limit=100)
        assert [seq for seq, _ in everything.entries] == list(range(11, -1, -1))
        own = queries.search(session, queries.AuditFilter(), scope="telecom-b")
        assert [seq for seq, _ in own.entries] == [9, 6, 3, 0]
        assert all(e["actor"]["partner"] == "telecom-b" for _, e in own.entries)
        denied = queries.search(session, queries.AuditFilter(decision="deny"), scope=None)
        assert [seq for seq, _ in denied.entries] == [7]
        window = queries.AuditFilter(
            since=START.replace(second=3), until=START.replace(second=6), tag="match:query:allow"
        )
        assert [s for s, _ in queries.search(session, window, scope=None).entries] == [4, 3, 2]
        first = queries.search(session, queries.AuditFilter(), scope=None, limit=5)
        assert first.next_before == 7
        second = queries.search(session, queries.AuditFilter(), scope=None, before=7, limit=5)
        assert [seq for seq, _ in second.entries] == [6, 5, 4, 3, 2]
        with pytest.raises(PermissionDeniedError, match="telecom-b"):
            queries.search(session, queries.AuditFilter(partner="bank-a"), scope="telecom-b")


def test_full_export_verifies_with_the_standalone_verifier(
    factory: sessionmaker[Session], populated: AuditTrail, tmp_path: Path
) -> None:
    path = tmp_path / "log.jsonl"
    with transaction(factory) as session:
        lines = queries.export_jsonl(
            session,
            queries.AuditFilter(),
            scope=None,
            origin=populated.origin,
            exported_at="2026-11-29T10:00:00.000000Z",
            include_details=True,
        )
        path.write_text("".join(lines))
    report, _ = LogVerifier(populated.verifier).verify(ExportFileSource(path))
    assert report.size == 12
    assert report.details_checked == 3


def test_filtered_export_carries_proofs(
    factory: sessionmaker[Session], populated: AuditTrail, tmp_path: Path
) -> None:
    path = tmp_path / "telecom.jsonl"
    with transaction(factory) as session:
        lines = queries.export_jsonl(
            session,
            queries.AuditFilter(),
            scope="telecom-b",
            origin=populated.origin,
            exported_at="2026-11-29T10:00:00.000000Z",
        )
        path.write_text("".join(lines))
    checkpoint, count = ExportFileSource(path).verify_filtered(populated.verifier)
    assert (checkpoint.size, count) == (12, 4)


def test_csv_export(factory: sessionmaker[Session], populated: AuditTrail) -> None:
    with transaction(factory) as session:
        denied = queries.AuditFilter(decision="deny")
        text = "".join(queries.export_csv(session, denied, scope=None))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(queries.CSV_COLUMNS)
    assert len(rows) == 2
    assert rows[1][0] == "7"
    assert rows[1][2] == "match:query:deny"


def test_subject_access_lists_retained_disclosures(
    factory: sessionmaker[Session], populated: AuditTrail
) -> None:
    token_hash = bytes.fromhex(TOKEN)
    with transaction(factory) as session:
        records = queries.subject_access(session, token_hash, scope=None)
        assert [r.leaf_index for r in records] == [1, 3, 4]
        assert [r.partner for r in records] == ["bank-a", "telecom-b", "bank-a"]
        assert all(r.disclosed == ["category"] for r in records)
        assert all(r.purpose == "fraud-prevention" for r in records)
        other = queries.subject_access(session, bytes.fromhex(OTHER), scope="telecom-b")
        assert [(r.leaf_index, r.disclosed) for r in other] == [(3, None)]
    with transaction(factory) as session:
        populated.purge_details(session, before=populated.clock.now() + populated.detail_retention)
    with transaction(factory) as session:
        assert queries.subject_access(session, token_hash, scope=None) == []


def test_entries_in_range_give_contents_only_within_the_scope(
    factory: sessionmaker[Session], populated: AuditTrail
) -> None:
    with transaction(factory) as session:
        everything = queries.entries_in_range(session, 0, 12, scope=None)
        own = queries.entries_in_range(session, 0, 12, scope="telecom-b")
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
        gapped = queries.entries_in_range(session, 0, 12, scope=None)
    assert [seq for seq, _, _ in everything] == list(range(12))
    assert all(body is not None for _, _, body in everything)
    assert [(seq, leaf) for seq, leaf, _ in own] == [(seq, leaf) for seq, leaf, _ in everything]
    shown = [json.loads(body)["actor"]["partner"] for _, _, body in own if body is not None]
    assert shown == ["telecom-b"] * 4  # numbers 0, 3, 6, 9
    assert [seq for seq, _, _ in gapped] == [seq for seq in range(12) if seq != 5]


def test_one_entry_is_checked_against_the_scope(
    factory: sessionmaker[Session], populated: AuditTrail
) -> None:
    with transaction(factory) as session:
        queries.check_entry_scope(session, 0, scope="telecom-b")
        queries.check_entry_scope(session, 1, scope=None)
        with pytest.raises(PermissionDeniedError) as refused:
            queries.check_entry_scope(session, 1, scope="telecom-b")
    assert refused.value.field == "leaf_index"
