"""What happened to this identifier: lookup by token and request id, related entries.

Three entries name one token (bank-a's match, bank-b's alert, bank-a's retraction), each
with the peppered token in its detail as the gateway records it. A bank's officer finds her
own two, the partnership's DPO all three; the token is posted, never shown back or stored,
and the lookup is a subject-access entry holding only the peppered token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.audit_trail.models import AuditDetail, AuditEntry
from gateway.db import transaction
from tests.functional.console_support import ConsoleApp, console_app, csrf_of

TOKEN = "ab" * 32


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Iterator[ConsoleApp]:
    with console_app(database_url, tmp_path / "data") as running:
        _story(running)
        yield running


def _story(console: ConsoleApp) -> None:
    services = console.services
    peppered = services.pepper.token(TOKEN, epoch=1).hex()
    acts = (
        ("bank-a", AuditTag.MATCH_QUERY_ALLOW, "req-match"),
        ("bank-b", AuditTag.ALERT_DELIVERY_SEND, "req-alert"),
        ("bank-a", AuditTag.INDICATOR_RETRACT, "req-retract"),
    )
    with transaction(services.session_factory) as session:
        for partner, tag, request_id in acts:
            services.audit.record(
                session,
                AuditEvent(
                    tag=tag,
                    request_id=request_id,
                    actor_partner=partner,
                    purpose="payment_screening",
                    decision="allow",
                    detail={"tokens": [peppered]},
                ),
            )


def _seq(console: ConsoleApp, request_id: str) -> int:
    with transaction(console.services.session_factory) as session:
        seq = session.scalar(select(AuditEntry.seq).where(AuditEntry.request_id == request_id))
    assert seq is not None
    return int(seq)


def _found(html: str, testid: str) -> list[int]:
    table = re.search(rf'data-testid="{testid}">(.*?)</table>', html, re.S)
    assert table is not None, testid
    return [int(n) for n in re.findall(r'href="/console/audit/entries/(\d+)"', table.group(1))]


def _by_token(client: object, token: str) -> object:
    page = client.get("/console/audit/lookup").text  # type: ignore[attr-defined]
    return client.post(  # type: ignore[attr-defined]
        "/console/audit/lookup", data={"csrf_token": csrf_of(page), "token": token, "epoch": "1"}
    )


def test_officer_finds_her_entries_about_a_token_and_only_the_pepper_is_recorded(
    console: ConsoleApp,
) -> None:
    client = console.sign_in("petra")
    response = _by_token(client, TOKEN)
    assert response.status_code == 200  # type: ignore[attr-defined]
    page = response.text  # type: ignore[attr-defined]
    assert _found(page, "lookup-results") == [
        _seq(console, "req-match"),
        _seq(console, "req-retract"),
    ]
    assert TOKEN not in page
    with transaction(console.services.session_factory) as session:
        seq, body = session.execute(
            select(AuditEntry.seq, AuditEntry.body)
            .where(AuditEntry.tag == AuditTag.AUDIT_SUBJECT_ACCESS.value)
            .order_by(AuditEntry.seq.desc())
        ).first()  # type: ignore[misc]
        detail = session.get(AuditDetail, seq)
    assert json.loads(bytes(body))["actor"]["user"] == "petra"
    assert detail is not None
    assert TOKEN.encode() not in bytes(detail.body)
    assert console.services.pepper.token(TOKEN, epoch=1).hex().encode() in bytes(detail.body)


def test_dpo_finds_every_entry_and_related_entries_on_the_entry_page(
    console: ConsoleApp,
) -> None:
    client = console.sign_in("dora")
    page = _by_token(client, TOKEN).text  # type: ignore[attr-defined]
    assert len(_found(page, "lookup-results")) == 3
    with transaction(console.services.session_factory) as session:
        looked_up = session.scalar(
            select(AuditEntry.seq).where(AuditEntry.tag == AuditTag.AUDIT_SUBJECT_ACCESS.value)
        )
    entry = client.get(f"/console/audit/entries/{_seq(console, 'req-match')}").text
    # The alert and the retraction it led to, and the subject access that named the token.
    assert _found(entry, "related") == [
        _seq(console, "req-alert"),
        _seq(console, "req-retract"),
        looked_up,
    ]
    # What the disclosure obliged the asking partner to do, from the purpose's policy.
    duties = re.search(r'data-testid="entry-obligations">(.*?)</ul>', entry, re.S)
    assert duties is not None
    assert "disputed-do-not-act" in duties.group(1)
    officer = console.sign_in("petra")
    own = officer.get(f"/console/audit/entries/{_seq(console, 'req-match')}").text
    assert _found(own, "related") == [_seq(console, "req-retract")]  # not bank-b's alert


def test_lookup_by_request_id_and_bad_input_names_the_field(console: ConsoleApp) -> None:
    client = console.sign_in("petra")
    page = client.get("/console/audit/lookup?request_id=req-retract").text
    assert _found(page, "lookup-results") == [_seq(console, "req-retract")]
    foreign = client.get("/console/audit/lookup?request_id=req-alert").text
    assert 'data-testid="lookup-results">' in foreign
    assert 'href="/console/audit/entries/' not in foreign.split('id="found-h"')[1]
    bad = client.get("/console/audit/lookup?request_id=req%20with%20spaces")
    assert bad.status_code == 422
    assert "request_id" in bad.text
    wrong = _by_token(client, "not-a-token")
    assert wrong.status_code == 422  # type: ignore[attr-defined]
    assert "token" in wrong.text  # type: ignore[attr-defined]
