"""Who sees what in the console: roles, policy decisions on audit reads, and their audit."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.audit_trail.models import AuditEntry
from gateway.db import transaction
from tests.functional.console_support import ConsoleApp, console_app


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Iterator[ConsoleApp]:
    with console_app(database_url, tmp_path / "data") as running:
        yield running


def _last(console: ConsoleApp, tag: str) -> dict[str, object]:
    with transaction(console.services.session_factory) as session:
        body = session.scalar(
            select(AuditEntry.body).where(AuditEntry.tag == tag).order_by(AuditEntry.seq.desc())
        )
    assert body is not None, f"no {tag} entry"
    return dict(json.loads(bytes(body)))


def _seq_of(console: ConsoleApp, partner: str) -> int:
    with transaction(console.services.session_factory) as session:
        seq = session.scalar(select(AuditEntry.seq).where(AuditEntry.actor_partner == partner))
    assert seq is not None
    return int(seq)


def test_officer_sees_only_their_partner_and_the_view_is_audited(console: ConsoleApp) -> None:
    client = console.sign_in("petra")
    page = client.get("/console/audit").text
    assert "You see the entries of bank-a." in page
    assert "bank-b" not in page
    view = _last(console, "audit:entries:view")
    assert view["actor"] == {"partner": "bank-a", "client": None, "user": "petra"}
    assert view["purpose"] == "accountability"
    assert view["decision"] == "allow"
    assert view["policy_digest"] == console.services.policy.digest


def test_officer_asking_for_another_partner_is_refused_by_policy(console: ConsoleApp) -> None:
    client = console.sign_in("petra")
    response = client.get("/console/audit?partner=bank-b")
    assert response.status_code == 403
    assert "audit-scope-exceeded" in response.text
    denial = _last(console, "audit:access:deny")
    assert denial["reasons"] == ["audit-scope-exceeded"]
    assert denial["actor"]["user"] == "petra"  # type: ignore[index]
    for path in (
        f"/console/audit/entries/{_seq_of(console, 'bank-b')}",
        "/console/audit/export.csv?partner=bank-b",
        "/console/audit/report.pdf?partner=bank-b",
    ):
        assert client.get(path).status_code == 403, path
    assert client.get(f"/console/audit/entries/{_seq_of(console, 'bank-a')}").status_code == 200


def test_export_follows_the_scope_and_is_audited(console: ConsoleApp) -> None:
    client = console.sign_in("petra")
    response = client.get("/console/audit/export.csv?decision=deny")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows
    assert {(row["partner"], row["decision"]) for row in rows} == {("bank-a", "deny")}
    assert _last(console, "audit:export:download")["actor"]["user"] == "petra"  # type: ignore[index]
    jsonl = client.get("/console/audit/export.jsonl").text.splitlines()
    assert json.loads(jsonl[0])["filtered"] is True


def test_dpo_sees_every_partner(console: ConsoleApp) -> None:
    client = console.sign_in("dora")
    page = client.get("/console/audit?partner=bank-b").text
    assert "You see the entries of all partners." in page
    assert "bank-b" in page
    overview = client.get("/console/overview").text
    assert "Activity of all partners" in overview
    assert _last(console, "console:overview:view")["purpose"] == "oversight"


def test_help_desk_reads_no_audit_entries(console: ConsoleApp) -> None:
    client = console.sign_in("hanna")
    response = client.get("/console/audit")
    assert response.status_code == 403
    assert "permission-missing" in response.text
    assert _last(console, "audit:access:deny")["reasons"] == ["permission-missing"]
    nav = client.get("/console/overview").text
    assert 'href="/console/audit"' not in nav
    assert 'href="/console/helpdesk"' in nav


def test_admin_has_no_help_desk_and_no_audit(console: ConsoleApp) -> None:
    client = console.sign_in("otto")
    assert client.get("/console/helpdesk").status_code == 403
    assert client.get("/console/audit").status_code == 403
    assert client.get("/console/policies").status_code == 200
    assert client.get("/console/register.csv").status_code == 200
    assert _last(console, "register:export:download")["actor"]["user"] == "otto"  # type: ignore[index]


def test_simulator_needs_the_policy_allow(console: ConsoleApp) -> None:
    officer = console.sign_in("petra")
    question = (
        "/console/helpdesk?partner=telecom-a&action=match:query"
        "&purpose=spoofing_prevention&kinds=phone&disclosure=reporter"
    )
    # A bank's officer has no simulate purpose registered, so the policy could only refuse
    # her: her role does not offer the simulator at all, and the navigation hides it.
    assert 'href="/console/helpdesk"' not in officer.get("/console/overview").text
    refused = officer.get(question)
    assert refused.status_code == 403
    denial = _last(console, "policy:simulation:deny")
    assert denial["reasons"] == ["permission-missing"]
    helpdesk = console.sign_in("hanna")
    answered = helpdesk.get(question)
    assert answered.status_code == 200
    assert 'data-verdict="deny"' in answered.text
    assert "reporter-identity-not-permitted" in answered.text
    run = _last(console, "policy:simulation:run")
    assert run["purpose"] == "legal_helpdesk"
    assert run["counts"] == {"allowed": 0, "partners": 1, "run": 1}
