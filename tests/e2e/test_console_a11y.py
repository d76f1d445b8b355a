"""Accessibility: axe-core finds no serious or critical violation on any console page.

Every page each role reaches is checked at a laptop width (1366 px) and a phone width
(414 px), in English and Dutch, with axe-core as shipped by the ``axe-playwright-python``
package (no download at run time). A violation is reported with its rule, its impact and
the first elements it names, so a failure says what to fix.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from gateway.audit_trail.models import AuditEntry
from gateway.db import transaction
from tests.e2e.console_setup import PASSWORD, Console

pytestmark = pytest.mark.e2e

WIDTHS = (1366, 414)
SERIOUS = {"serious", "critical"}
HELP_DESK_QUESTION = (
    "/console/helpdesk?sector=telecom&action=match:query&purpose=spoofing_prevention"
    "&kinds=iban&disclosure=reporter"
)


def _signed_in(browser: Any, console: Console, username: str, language: str) -> Any:
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, base_url=console.url, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"/console/language/{language}?next=/console/signin")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#totp").fill(console.code(username))
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/console/overview"))
    return page


def _serious(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in SERIOUS:
            targets = [str(node.get("target")) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {', '.join(targets)}")
    return found


def _check_pages(page: Any, paths: list[str]) -> list[str]:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in paths:
            response = page.goto(path)
            assert response is not None
            assert response.status == 200, path
            problems += [f"{path} @ {width}px: {text}" for text in _serious(page)]
    return problems


def _entry_with_reasons(console: Console) -> int:
    with transaction(console.gateway.services.session_factory) as session:
        seq = session.scalar(
            select(AuditEntry.seq).where(AuditEntry.decision == "deny").order_by(AuditEntry.seq)
        )
    assert seq is not None
    return int(seq)


@pytest.mark.parametrize("language", ["en", "nl"])
def test_partnership_dpo_pages_have_no_serious_violations(
    browser: Any, console: Console, language: str
) -> None:
    page = _signed_in(browser, console, "dora", language)
    paths = [
        "/console/overview",
        "/console/overview?period=2026-11",
        "/console/audit",
        "/console/audit?activity=exchange&decision=deny",
        f"/console/audit/entries/{_entry_with_reasons(console)}",
        "/console/audit/lookup",
        "/console/policies",
        "/console/policies/rego",
        "/console/policies/tests",
        "/console/policies/history",
        "/console/register",
        "/console/helpdesk/cases",
    ]
    assert _check_pages(page, paths) == []
    page.context.close()


def test_help_desk_and_sign_in_pages_have_no_serious_violations(
    browser: Any, console: Console
) -> None:
    anonymous = browser.new_context(base_url=console.url).new_page()
    problems = _check_pages(anonymous, ["/console/signin"])
    anonymous.context.close()
    page = _signed_in(browser, console, "hanna", "nl")
    page.goto(HELP_DESK_QUESTION)
    run = page.get_by_test_id("run-link").get_attribute("href")
    assert run is not None
    paths = [
        "/console/helpdesk",
        HELP_DESK_QUESTION,
        run,
        "/console/helpdesk/cases",
        "/console/helpdesk/cases/new",
    ]
    assert problems + _check_pages(page, paths) == []
    page.context.close()
