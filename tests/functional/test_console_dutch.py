"""Every console page in Dutch is Dutch: no English message, word or "GDPR" on it.

Each role's pages are fetched with the Dutch language chosen, including an entry with
reasons, a help desk answer and a recorded case; the check (``tests.support.dutch``) skips
code, preformatted entries and anything marked as English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.audit_trail.models import AuditEntry
from gateway.db import transaction
from tests.functional.console_support import ConsoleApp, console_app, csrf_of
from tests.support.dutch import english_on_dutch_page

QUESTION = (
    "/console/helpdesk?sector=telecom&action=match:query&purpose=spoofing_prevention"
    "&kinds=iban&disclosure=reporter"
)


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Iterator[ConsoleApp]:
    with console_app(database_url, tmp_path / "data") as running:
        yield running


def _dutch(console: ConsoleApp, username: str) -> TestClient:
    client = console.sign_in(username)
    client.get("/console/language/nl?next=/console/overview")
    return client


def _check(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert english_on_dutch_page(response.text) == [], path
    return response.text


def _denied_entry(console: ConsoleApp) -> int:
    with transaction(console.services.session_factory) as session:
        seq = session.scalar(
            select(AuditEntry.seq).where(
                AuditEntry.actor_partner == "bank-a", AuditEntry.decision == "deny"
            )
        )
    assert seq is not None
    return int(seq)


def test_the_checker_finds_english() -> None:
    assert english_on_dutch_page("<p>Entries, newest first</p>") != []
    assert english_on_dutch_page("<p>Zie AVG en GDPR</p>") == ["Zie AVG en GDPR"]
    assert english_on_dutch_page("<p>Vermeldingen <code>match:query:deny</code></p>") == []
    assert english_on_dutch_page('<a lang="en">EN</a><p title="the reason">x</p>') == ["the reason"]


def test_privacy_officer_pages_are_dutch(console: ConsoleApp) -> None:
    client = _dutch(console, "petra")
    for path in (
        "/console/overview",
        "/console/overview?period=2026-11",
        "/console/audit",
        f"/console/audit/entries/{_denied_entry(console)}",
        "/console/policies",
        "/console/policies/tests",
        "/console/policies/history",
        "/console/register",
        "/console/audit/lookup",
        "/console/audit/lookup?request_id=req-bank-a-5",
    ):
        _check(client, path)


def test_help_desk_pages_are_dutch(console: ConsoleApp) -> None:
    client = _dutch(console, "hanna")
    answer = _check(client, QUESTION)
    run = re.search(r"/console/helpdesk/runs/(\d+)", answer)
    assert run is not None
    form = _check(client, f"/console/helpdesk/cases/new?run={run.group(1)}")
    created = client.post(
        "/console/helpdesk/cases",
        data={
            "csrf_token": csrf_of(form),
            "title": "Telecom vraagt welke bank meldde",
            "question": "Mag de operator de meldende bank te weten komen?",
            "answer": "Nee; alleen de politie en de deurwaarder van een slachtoffer.",
            "status": "answered",
            "assignee": "hanna",
            "run": [run.group(1)],
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    for path in (
        "/console/helpdesk",
        f"/console/helpdesk/runs/{run.group(1)}",
        "/console/helpdesk/cases",
        created.headers["location"],
        QUESTION,
    ):
        _check(client, path)


def test_partnership_dpo_pages_are_dutch(console: ConsoleApp) -> None:
    client = _dutch(console, "dora")
    for path in ("/console/overview", "/console/audit", "/console/policies/rego"):
        _check(client, path)
