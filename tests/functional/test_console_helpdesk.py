"""The help desk's register over HTTP: a run becomes a case, found again by its words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.console_support import ConsoleApp, console_app, csrf_of

QUESTION = (
    "/console/helpdesk?sector=telecom&action=match:query&purpose=spoofing_prevention"
    "&kinds=iban&disclosure=reporter"
)


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Iterator[ConsoleApp]:
    with console_app(database_url, tmp_path / "data") as running:
        yield running


def test_case_with_run_is_found_by_search_and_by_the_same_question(console: ConsoleApp) -> None:
    client = console.sign_in("hanna")
    first = client.get(QUESTION).text
    run = re.search(r"/console/helpdesk/runs/(\d+)", first)
    assert run is not None
    form = client.get(f"/console/helpdesk/cases/new?run={run.group(1)}").text
    created = client.post(
        "/console/helpdesk/cases",
        data={
            "csrf_token": csrf_of(form),
            "title": "Telecom asks which bank reported",
            "question": "May the operator learn the reporting bank?",
            "answer": "No; only the police and a victim's bailiff may.",
            "status": "answered",
            "assignee": "hanna",
            "asker_partner": "bank-b",
            "run": [run.group(1)],
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    case_page = client.get(created.headers["location"]).text
    assert "HD-00001" in case_page
    assert console.audit_tags().count("helpdesk:case:create") == 1
    for query in ("bailif", "reporter identity", "spoofing", "HD-00001"):
        found = client.get("/console/helpdesk/cases", params={"q": query}).text
        assert "Telecom asks which bank reported" in found, query
    assert "No cases found." in client.get("/console/helpdesk/cases?q=marketing").text
    again = client.get(QUESTION).text
    assert "Earlier answers to this question" in again
    assert "HD-00001" in again


def test_register_refuses_identifiers_and_unanswered_closure(console: ConsoleApp) -> None:
    client = console.sign_in("hanna")
    token = csrf_of(client.get("/console/helpdesk/cases/new").text)
    leaked = client.post(
        "/console/helpdesk/cases",
        data={"csrf_token": token, "title": "Account", "question": "Is NL91 ABNA 0417 1643 00 ok?"},
    )
    assert leaked.status_code == 422
    assert "question" in leaked.text
    assert "IBAN" in leaked.text
    closed = client.post(
        "/console/helpdesk/cases",
        data={"csrf_token": token, "title": "T", "question": "Q", "status": "closed"},
    )
    assert closed.status_code == 422
    assert "answer" in closed.text
    assert "helpdesk:case:create" not in console.audit_tags()


def test_privacy_officer_reads_cases_only_with_permission(console: ConsoleApp) -> None:
    officer = console.sign_in("petra")
    assert officer.get("/console/helpdesk/cases").status_code == 403
    dpo = console.sign_in("dora")
    assert dpo.get("/console/helpdesk/cases").status_code == 200
    assert dpo.get("/console/helpdesk/cases/new").status_code == 403


def test_a_refused_case_keeps_the_typed_text_and_says_why_in_dutch(console: ConsoleApp) -> None:
    client = console.sign_in("hanna")
    client.get("/console/language/nl?next=/console/helpdesk")
    token = csrf_of(client.get("/console/helpdesk/cases/new").text)
    typed = "De klant noemde rekening NL91 ABNA 0417 1643 00 aan de telefoon."
    refused = client.post(
        "/console/helpdesk/cases",
        data={"csrf_token": token, "title": "Bellende klant", "question": typed},
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")
    assert 'id="c-question"' in refused.text
    assert typed in refused.text  # the text is kept for correcting it
    assert 'value="Bellende klant"' in refused.text
    problem = re.search(r'data-testid="problem">(.*?)</p>', refused.text, re.S)
    assert problem is not None
    assert "Niet opgeslagen" in problem.group(1)
    assert "bevat een identificator (IBAN)" in problem.group(1)
    assert 'aria-invalid="true"' in refused.text
    assert "helpdesk:case:create" not in console.audit_tags()


def test_an_earlier_answer_is_shown_with_its_decision_and_policy_version(
    console: ConsoleApp,
) -> None:
    client = console.sign_in("hanna")
    first = client.get(QUESTION).text
    run = re.search(r"/console/helpdesk/runs/(\d+)", first)
    assert run is not None
    form = client.get(f"/console/helpdesk/cases/new?run={run.group(1)}").text
    client.post(
        "/console/helpdesk/cases",
        data={
            "csrf_token": csrf_of(form),
            "title": "Telecom asks which bank reported",
            "question": "May the operator learn the reporting bank?",
            "answer": "No; only the police and a victim's bailiff may.",
            "status": "answered",
            "run": [run.group(1)],
        },
    )
    # The same question about one telecom operator instead of the whole sector.
    by_partner = QUESTION.replace("sector=telecom", "partner=telecom-a")
    again = client.get(by_partner).text
    earlier = re.search(r'data-testid="earlier-answer">(.*?)</li>', again, re.S)
    assert earlier is not None, "the partner's question did not find the sector's answer"
    shown = earlier.group(1)
    assert "HD-00001" in shown
    assert "No; only the police and a victim&#39;s bailiff may." in shown
    assert 'data-verdict="deny"' in shown
    assert console.services.policy.digest[:12] in shown
    assert "asked about every partner of sector" in shown
    assert 'data-differs="false"' in shown


def test_a_case_keeps_its_history(console: ConsoleApp) -> None:
    client = console.sign_in("hanna")
    token = csrf_of(client.get("/console/helpdesk/cases/new").text)
    created = client.post(
        "/console/helpdesk/cases",
        data={"csrf_token": token, "title": "Retention", "question": "How long are reports kept?"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    location = created.headers["location"].split("?")[0]
    updated = client.post(
        location,
        data={
            "csrf_token": token,
            "title": "Retention",
            "question": "How long are reports kept?",
            "answer": "180 days by default; longer for money mules.",
            "status": "answered",
            "assignee": "hanna",
        },
        follow_redirects=False,
    )
    assert updated.status_code == 303
    page = client.get(location).text
    history = re.search(r'data-testid="case-history">(.*?)</ol>', page, re.S)
    assert history is not None
    items = re.findall(r"<li>(.*?)</li>", history.group(1), re.S)
    assert len(items) == 2
    assert "created by hanna: open" in items[0]
    assert "changed by hanna: answered, assignee hanna" in items[1]
