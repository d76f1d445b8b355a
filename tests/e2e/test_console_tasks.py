"""Two people's tasks in the browser, in English and Dutch, with the numbers they read.

The privacy officer's quarterly review: she picks the quarter, reads her bank's data
exchange (counted independently from the audit log here), wanders into another bank's
entries and is refused, and finds her figures unchanged, her own activity counted apart;
then she downloads the report for the regulator and reads the same figures in her
language. The help desk's repeated question: an answer is recorded as a case and the same
question, asked again about one partner instead of its sector, shows that answer with the
decision and policy version it was given under, and that today's policy decides the same.
Screenshots for docs/console.md are taken on the way (the report's first page through
``pdftoppm`` when poppler-utils is installed).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from gateway.audit_trail.events import Activity, tags_of
from gateway.audit_trail.models import AuditEntry
from gateway.console.period import current_quarter_key, quarter
from gateway.db import transaction
from tests.e2e.console_setup import PASSWORD, Console

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1366, "height": 900}
TEXTS = {
    "en": {
        "overview": "Overview",
        "quarter": "Q{n} {year}",
        "show": "Show",
        "audit": "Audit trail",
        "report": "Report on data exchange through ppsgate",
        "exchange": "Data exchange entries",
        "denials": "Refusals by reason",
        "run": "Run the simulation",
        "save": "Save",
        "earlier": "Earlier answers to this question",
    },
    "nl": {
        "overview": "Overzicht",
        "quarter": "{n}e kwartaal {year}",
        "show": "Toon",
        "audit": "Auditlogboek",
        "report": "Kwartaalrapportage gegevensuitwisseling via ppsgate",
        "exchange": "Vermeldingen gegevensuitwisseling",
        "denials": "Weigeringen per reden",
        "run": "Simulatie uitvoeren",
        "save": "Opslaan",
        "earlier": "Eerdere antwoorden op deze vraag",
    },
}


def _sign_in(browser: Any, console: Console, username: str, language: str) -> Any:
    context = browser.new_context(
        viewport=LAPTOP, accept_downloads=True, base_url=console.url, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/console/signin")
    page.get_by_role("link", name=language.upper(), exact=True).click()
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#totp").fill(console.code(username))
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/console/overview"))
    return page


def _exchange(console: Console, partner: str, key: str) -> tuple[int, int, int]:
    """(requests, decided, denied) of ``partner``'s data exchange in the quarter ``key``."""
    year, number = key.split("-Q")
    period = quarter(int(year), int(number))
    with transaction(console.gateway.services.session_factory) as session:
        rows = session.execute(
            select(AuditEntry.decision, func.count())
            .where(
                AuditEntry.actor_partner == partner,
                AuditEntry.tag.in_(tags_of(Activity.EXCHANGE)),
                AuditEntry.time >= period.start,
                AuditEntry.time < period.end,
            )
            .group_by(AuditEntry.decision)
        ).all()
    counted = {decision: int(n) for decision, n in rows}
    decided = counted.get("allow", 0) + counted.get("deny", 0)
    return sum(counted.values()), decided, counted.get("deny", 0)


def _report_png(pdf: Path, target: Path) -> None:
    """The report's first page as a PNG (docs/img), when poppler-utils is installed."""
    if shutil.which("pdftoppm") is None:
        return
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(target.with_suffix("")),
        ],
        check=True,
    )


@pytest.mark.parametrize("language", ["en", "nl"])
def test_privacy_officer_reviews_her_quarter(
    browser: Any, console: Console, shots: Path, language: str
) -> None:
    words = TEXTS[language]
    key = current_quarter_key(console.gateway.clock.now())
    requests, decided, denied = _exchange(console, "bank-a", key)
    assert requests > 0
    page = _sign_in(browser, console, "petra", language)
    year, number = key.split("-Q")
    label = words["quarter"].format(n=number, year=year)
    page.get_by_label(re.compile("^(Period|Periode)$")).select_option(label=label)
    page.get_by_role("button", name=words["show"], exact=True).click()
    page.wait_for_url(re.compile(rf"period={key}"))
    assert page.get_by_test_id("period-label").inner_text().startswith(label)
    assert page.get_by_test_id("kpi-requests").inner_text() == str(requests)
    rate = f"{100 * denied / decided:.1f}%"
    assert page.get_by_test_id("kpi-denial-rate").inner_text() == rate
    oversight_before = int(page.get_by_test_id("kpi-oversight").inner_text())
    table = page.get_by_test_id("purpose-decisions").locator("tbody tr")
    totals = [int(row.locator("td").last.inner_text()) for row in table.all()]
    assert sum(totals) == requests
    if language == "en":
        page.screenshot(path=str(shots / "overview-quarter.png"), full_page=True)

    page.get_by_role("link", name=words["audit"], exact=True).click()
    refused = page.goto("/console/audit?partner=bank-b")
    assert refused is not None
    assert refused.status == 403
    page.goto(f"/console/overview?period={key}")
    assert page.get_by_test_id("kpi-requests").inner_text() == str(requests)
    assert page.get_by_test_id("kpi-denial-rate").inner_text() == rate
    assert int(page.get_by_test_id("kpi-oversight").inner_text()) > oversight_before

    if language == "en":  # what happened to one request: the lookup and its entries
        page.goto("/console/audit?activity=exchange")
        first = page.get_by_test_id("entries").locator("tbody tr").first.locator("a").first
        first.click()
        request_ref = page.evaluate(
            "JSON.parse(document.querySelector('.card pre').textContent).request_id"
        )
        page.goto(f"/console/audit/lookup?request_id={request_ref}")
        assert page.get_by_test_id("lookup-results").locator("tbody tr").count() >= 1
        page.screenshot(path=str(shots / "lookup.png"), full_page=True)
        page.goto(f"/console/overview?period={key}")

    with page.expect_download() as info:
        page.get_by_test_id("period-report").click()
    pdf = shots / f"report-{language}.pdf"
    info.value.save_as(str(pdf))
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages
    )
    assert words["report"] in text
    assert label in text
    assert f"{words['exchange']} {requests}" in text
    assert words["denials"] in text
    _report_png(pdf, shots / f"report-{language}.png")
    pdf.unlink()
    page.context.close()


@pytest.mark.parametrize("language", ["en", "nl"])
def test_help_desk_recognises_a_repeated_question(
    browser: Any, console: Console, shots: Path, language: str
) -> None:
    words = TEXTS[language]
    page = _sign_in(browser, console, "hanna", language)
    page.goto("/console/helpdesk")
    page.locator("#s-sector").select_option("telecom")
    page.locator("#s-action").select_option("match:query")
    page.locator("#s-purpose").select_option("spoofing_prevention")
    page.locator("input[name=kinds][value=iban]").check()
    page.locator("input[name=disclosure][value=category]").check()
    page.get_by_role("button", name=words["run"]).click()
    verdict = page.get_by_test_id("verdict").get_attribute("data-verdict")
    assert verdict in {"allow", "deny"}
    question = page.get_by_test_id("share-link").get_attribute("href")
    assert question is not None
    title = f"Telecom asks for the category of an IBAN ({language})"
    page.get_by_test_id("save-case").click()
    page.locator("#c-title").fill(title)
    page.locator("#c-question").fill("May a telecom operator learn the fraud category?")
    page.locator("#c-answer").fill("See the simulator run for the reasons and articles.")
    page.locator("#c-status").select_option("answered")
    page.get_by_role("button", name=words["save"], exact=True).click()
    assert page.get_by_test_id("saved").is_visible()

    # The same question, now put about the one telecom operator instead of the sector.
    page.goto(question.replace("sector=telecom", "partner=telecom-a"))
    result = page.get_by_test_id("result").inner_text()
    assert words["earlier"] in result
    earlier = page.get_by_test_id("earlier-answer").filter(has_text=title)
    assert earlier.count() == 1
    assert "See the simulator run for the reasons and articles." in earlier.inner_text()
    shown = earlier.locator("[data-verdict]").get_attribute("data-verdict")
    assert shown == verdict
    assert earlier.get_by_test_id("differs-today").get_attribute("data-differs") == "false"
    if language == "nl":
        page.screenshot(path=str(shots / "helpdesk-repeated-nl.png"), full_page=True)
    page.context.close()


def test_a_proof_that_fails_in_the_browser_is_explained_in_dutch(
    browser: Any, console: Console
) -> None:
    """The browser's own check reports a tampered entry in the page's language."""
    with transaction(console.gateway.services.session_factory) as session:
        seq = session.scalar(
            select(AuditEntry.seq).where(AuditEntry.actor_partner == "bank-a").limit(1)
        )
    assert seq is not None
    page = _sign_in(browser, console, "petra", "nl")

    def tamper(route: Any) -> None:
        response = route.fetch()
        html = re.sub(r'data-entry="[^"]*"', 'data-entry="e30="', response.text())  # "{}"
        route.fulfill(response=response, body=html)

    page.route(f"**/console/audit/entries/{seq}", tamper)
    page.goto(f"/console/audit/entries/{seq}")
    page.wait_for_selector("#proof-status[data-verified]")
    status = page.get_by_test_id("proof-status")
    assert status.get_attribute("data-verified") == "false"
    assert status.inner_text().startswith(
        "NIET geverifieerd in uw browser: het auditpad leidt naar een andere wortel ("
    )
    page.context.close()
