"""The console in a real browser: the privacy officer's review and the help desk's answer.

Scenario 7 (a bank's privacy officer filters the audit trail, exports it, checks an entry's
inclusion proof in the page, and cannot see another bank's entries) and scenario 8 (the
help desk simulates "may a telecom operator learn which bank reported an IBAN?", records
the answer, and finds it again), plus the language switch. Screenshots for docs/console.md
are taken on the way.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.audit_trail.models import AuditEntry
from gateway.audit_trail.queries import CSV_COLUMNS
from gateway.db import transaction
from tests.e2e.console_setup import PASSWORD, Console

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1280, "height": 860}
TABLET = {"width": 820, "height": 1180}


def _page(browser: Any, console: Console, *, viewport: dict[str, int] = LAPTOP) -> Any:
    context = browser.new_context(
        viewport=viewport, accept_downloads=True, base_url=console.url, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _sign_in(page: Any, console: Console, username: str) -> None:
    page.goto("/console/signin")
    page.get_by_label(re.compile("User name|Gebruikersnaam")).fill(username)
    page.get_by_label(re.compile("^(Password|Wachtwoord)$")).fill(PASSWORD)
    page.get_by_label(re.compile("Authenticator")).fill(console.code(username))
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/console/overview"))


def _download(page: Any, locator: Any) -> bytes:
    with page.expect_download() as info:
        locator.click()
    return Path(info.value.path()).read_bytes()


def test_privacy_officer_reviews_the_audit_trail(
    browser: Any, console: Console, shots: Path
) -> None:
    page = _page(browser, console)
    _sign_in(page, console, "petra")
    page.get_by_role("button", name="Verify the log now").click()
    expect_text = page.get_by_test_id("last-verified")
    assert "by petra (bank-a)" in expect_text.inner_text()
    assert "verified" in expect_text.inner_text()

    page.get_by_role("link", name="Audit trail").click()
    assert page.get_by_test_id("scope").inner_text() == "You see the entries of bank-a."
    page.get_by_label("Purpose").select_option("watchlist_alerts")
    page.get_by_label("Decision").select_option("allow")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"purpose=watchlist_alerts"))
    rows = page.get_by_test_id("entries").locator("tbody tr")
    assert rows.count() >= 2
    for text in rows.all_inner_texts():
        assert "Watching one's own customers' identifiers for alerts" in text
        assert "bank-a" in text
    page.screenshot(path=str(shots / "audit.png"))

    exported = _download(page, page.get_by_test_id("export-csv")).decode("utf-8")
    table = list(csv.reader(io.StringIO(exported)))
    assert tuple(table[0]) == CSV_COLUMNS
    assert len(table) - 1 == rows.count()
    assert {row[4] for row in table[1:]} == {"bank-a"}
    assert {(row[7], row[9]) for row in table[1:]} == {("watchlist_alerts", "allow")}
    report = _download(page, page.get_by_test_id("report-pdf"))
    assert report.startswith(b"%PDF-")

    rows.first.get_by_role("link").click()
    status = page.get_by_test_id("proof-status")
    page.wait_for_selector("#proof-status[data-verified]")
    assert status.get_attribute("data-verified") == "true", status.inner_text()
    assert "Verified in your browser" in status.inner_text()
    page.screenshot(path=str(shots / "audit-entry.png"), full_page=True)

    page.get_by_role("link", name="Policies").click()
    assert page.get_by_role("heading", name=re.compile("Spoofing prevention")).count() == 1
    page.screenshot(path=str(shots / "policies.png"))
    page.get_by_role("link", name="Version history").click()
    page.get_by_role("button", name="Show differences").click()
    assert "No decision on the decision table changes." in page.content()
    assert "(reviewed 2026)" in page.locator("pre.diff").first.inner_text()
    page.screenshot(path=str(shots / "policies-history.png"), full_page=True)

    page.get_by_role("link", name="Register").click()
    assert page.get_by_role("heading", name=re.compile("Art. 30")).count() >= 1
    page.screenshot(path=str(shots / "register.png"))
    assert _download(page, page.get_by_test_id("register-pdf")).startswith(b"%PDF-")
    page.context.close()


def test_privacy_officer_of_one_bank_cannot_see_the_other(browser: Any, console: Console) -> None:
    with transaction(console.gateway.services.session_factory) as session:
        foreign = session.scalar(
            select(AuditEntry.seq).where(AuditEntry.actor_partner == "bank-a").limit(1)
        )
    assert foreign is not None
    page = _page(browser, console)
    _sign_in(page, console, "bram")
    page.goto("/console/audit")
    assert page.get_by_test_id("scope").inner_text() == "You see the entries of bank-b."
    partners = page.get_by_label("Partner").locator("option").all_inner_texts()
    assert "bank-a" not in partners
    listed = page.get_by_test_id("entries").locator("tbody tr").all_inner_texts()
    assert listed
    assert all("bank-b" in row and "bank-a" not in row for row in listed)

    refused = page.goto("/console/audit?partner=bank-a")
    assert refused is not None
    assert refused.status == 403
    assert "audit-scope-exceeded" in page.content()
    refused = page.goto(f"/console/audit/entries/{foreign}")
    assert refused is not None
    assert refused.status == 403
    page.context.close()


def test_help_desk_answers_the_telecom_question(
    browser: Any, console: Console, shots: Path
) -> None:
    page = _page(browser, console)
    _sign_in(page, console, "hanna")
    page.get_by_role("link", name="Help desk").click()
    page.get_by_label("or every partner of sector").select_option("telecom")
    page.get_by_label("Action").select_option("match:query")
    page.get_by_label("Purpose").select_option("spoofing_prevention")
    page.get_by_role("checkbox", name="iban").check()
    page.get_by_role("checkbox", name="reporting partner").check()
    page.get_by_role("button", name="Run the simulation").click()
    verdict = page.get_by_test_id("verdict")
    assert verdict.get_attribute("data-verdict") == "deny"
    result = page.get_by_test_id("result").inner_text()
    assert "reporter-identity-not-permitted" in result
    assert "GDPR Art. 6(1)" in result
    assert "Computed on policy version" in result
    page.screenshot(path=str(shots / "helpdesk.png"), full_page=True)

    shared = page.get_by_test_id("share-link").get_attribute("href")
    assert shared is not None
    assert "disclosure=reporter" in shared
    other = page.context.new_page()
    other.goto(shared)
    assert other.get_by_test_id("verdict").get_attribute("data-verdict") == "deny"
    other.close()

    page.get_by_test_id("save-case").click()
    page.get_by_label("Title").fill("Telecom operator asks which bank reported an IBAN")
    page.get_by_label("Question").fill(
        "Telecom A sees an IBAN in its spoofing cases and asks whether it may learn which "
        "bank reported it."
    )
    page.get_by_label("Answer given").fill(
        "No. The reporter's identity is disclosed only to the police and, for civil "
        "recovery, to a victim's bailiff; see the simulator run for the articles."
    )
    page.get_by_label("Status").select_option("answered")
    page.get_by_label("Assignee").select_option("hanna")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_test_id("saved").is_visible()

    page.goto("/console/helpdesk/cases")
    page.get_by_role("searchbox", name="Search the cases").fill("bailiff reporter")
    page.get_by_role("button", name="Search", exact=True).click()
    found = page.get_by_test_id("cases").inner_text()
    assert "Telecom operator asks which bank reported an IBAN" in found
    page.screenshot(path=str(shots / "helpdesk-cases.png"))

    page.goto(shared)
    assert (
        "Telecom operator asks which bank reported an IBAN"
        in page.get_by_test_id("result").inner_text()
    )
    page.context.close()


def test_language_switch_is_remembered(browser: Any, console: Console, shots: Path) -> None:
    page = _page(browser, console)
    page.goto("/console/signin")
    assert page.evaluate("document.activeElement.id") == "username"  # autofocus
    page.get_by_role("link", name="NL", exact=True).click()
    assert page.get_by_role("heading", name="Aanmelden").is_visible()
    page.screenshot(path=str(shots / "signin-nl.png"))
    _sign_in(page, console, "dora")
    assert page.get_by_role("link", name="Overzicht").is_visible()
    page.keyboard.press("Tab")  # keyboard users first meet the skip link
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto("/console/policies")
    assert page.get_by_role("heading", name="Beleid", exact=True).is_visible()
    page.goto("/console/overview")
    page.set_viewport_size(TABLET)
    page.screenshot(path=str(shots / "overview-nl-tablet.png"), full_page=True)
    page.set_viewport_size(LAPTOP)
    page.get_by_role("link", name="EN", exact=True).click()
    assert page.get_by_role("link", name="Overview").is_visible()
    assert "Activity of all partners" in page.content()
    page.screenshot(path=str(shots / "overview.png"), full_page=True)
    page.context.close()
