"""The privacy officer's period review: data exchange apart from her own console activity.

The console's activity (bank-a and bank-b each made 5 allowed and 1 refused payment
screening request) is counted per period and scope; the privacy officer's own page views
and refused clicks are oversight activity, kept in the audit log but never counted as the
partnership's requests. The regulator's report says the same in the console's language and
counts only entries that the checkpoint it cites covers.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from audit.checkpoint import open_checkpoint
from gateway.audit_trail.events import (
    ACCESS_TAGS,
    EXCHANGE_TAGS,
    Activity,
    AuditTag,
    activity_of,
    tags_of,
)
from gateway.audit_trail.models import AuditEntry
from gateway.db import transaction
from gateway.indicators.models import Indicator
from tests.functional.console_support import ConsoleApp, console_app

REASON_EN = "reporter-identity-not-permitted"


@pytest.fixture
def console(database_url: str, tmp_path: Path) -> Iterator[ConsoleApp]:
    with console_app(database_url, tmp_path / "data") as running:
        yield running


def _testid(html: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>(.*?)</', html, re.S)
    assert found is not None, f"no {name} on the page"
    return found.group(1).strip()


def _block(html: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>(.*?)</(?:table|dl|ol)>', html, re.S)
    assert found is not None, f"no {name} on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def _count(console: ConsoleApp, tag: AuditTag) -> int:
    with transaction(console.services.session_factory) as session:
        return int(session.scalar(select(func.count()).where(AuditEntry.tag == tag.value)) or 0)


def test_every_tag_belongs_to_exactly_one_activity() -> None:
    assert EXCHANGE_TAGS.isdisjoint(ACCESS_TAGS)
    assert activity_of(AuditTag.MATCH_QUERY_DENY) is Activity.EXCHANGE
    assert activity_of("console:overview:view") is Activity.OVERSIGHT
    assert activity_of(AuditTag.AUDIT_ACCESS_DENY) is Activity.OVERSIGHT
    assert activity_of(AuditTag.AUTH_TOKEN_ISSUE) is Activity.ACCESS
    every = [tag for activity in Activity for tag in tags_of(activity)]
    assert sorted(every) == sorted(tag.value for tag in AuditTag)


def test_her_own_clicks_do_not_change_the_partnerships_figures(console: ConsoleApp) -> None:
    client = console.sign_in("petra")
    console.clock.current += timedelta(minutes=1)  # her sign-in lies inside any window now
    before = client.get("/console/overview").text
    assert _testid(before, "kpi-requests") == "6"
    assert _testid(before, "kpi-denial-rate") == "16.7%"
    for _ in range(4):  # refused clicks: another bank's entries
        assert client.get("/console/audit?partner=bank-b").status_code == 403
        console.clock.current += timedelta(seconds=5)
    client.get("/console/audit")
    console.clock.current += timedelta(minutes=1)
    after = client.get("/console/overview").text
    assert _testid(after, "kpi-requests") == "6"
    assert _testid(after, "kpi-denial-rate") == "16.7%"
    assert int(_testid(after, "kpi-oversight")) > int(_testid(before, "kpi-oversight"))
    assert "4 refused" in after
    assert _count(console, AuditTag.AUDIT_ACCESS_DENY) == 4  # still in the audit log


def test_audit_trail_filters_by_activity(console: ConsoleApp) -> None:
    client = console.sign_in("petra")
    exchange = client.get("/console/audit?activity=exchange").text
    rows = re.findall(r'<a href="/console/audit/entries/\d+">', exchange)
    assert len(rows) == 6
    assert "console:signin:success" not in _block(exchange, "entries")
    oversight = _block(client.get("/console/audit?activity=oversight").text, "entries")
    assert "console:signin:success" in oversight
    assert "match:query:allow" not in oversight
    wrong = client.get("/console/audit?activity=browsing")
    assert wrong.status_code == 422
    assert "activity" in wrong.text


def test_review_of_a_quarter_in_both_languages(console: ConsoleApp) -> None:
    client = console.sign_in("dora")
    page = client.get("/console/overview?period=2026-Q4").text
    assert _testid(page, "period-label").startswith("Q4 2026")
    table = _block(page, "purpose-decisions")
    assert "Real-time screening of a payment or new account 10 2 0 12" in table
    reasons = _block(page, "denial-reasons")
    assert REASON_EN in reasons
    assert "GDPR Art. 6(1)" in reasons
    assert reasons.rstrip().endswith("2")
    assert "bootstrap" in _block(page, "policy-timeline")

    client.get("/console/language/nl?next=/console/overview")
    dutch = client.get("/console/overview?period=2026-Q4").text
    assert _testid(dutch, "period-label").startswith("4e kwartaal 2026")
    assert "Realtime screening van een betaling of nieuwe rekening 10 2 0 12" in _block(
        dutch, "purpose-decisions"
    )
    nl_reasons = _block(dutch, "denial-reasons")
    assert "AVG art. 6 lid 1" in nl_reasons
    assert "GDPR" not in nl_reasons

    earlier = client.get("/console/overview?period=2026-Q3").text
    assert _testid(earlier, "kpi-requests") == "0"
    month = client.get("/console/overview?period=2026-11").text
    assert _testid(month, "kpi-requests") == "12"
    custom = client.get("/console/overview?period=custom&since=2026-11-29&until=2026-11-29")
    assert _testid(custom.text, "kpi-requests") == "12"


def test_a_bad_period_names_the_field(console: ConsoleApp) -> None:
    client = console.sign_in("dora")
    missing = client.get("/console/overview?period=custom&since=2026-11-01")
    assert missing.status_code == 422
    assert "until" in missing.text
    assert client.get("/console/overview?period=2026-Q5").status_code == 422


def _pdf_text(content: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text), reader


def test_report_is_dutch_named_and_counts_what_its_checkpoint_covers(
    console: ConsoleApp,
) -> None:
    client = console.sign_in("petra")
    client.get("/console/language/nl?next=/console/overview")
    client.get("/console/overview")  # oversight entries after the last checkpoint
    response = client.get("/console/audit/report.pdf?period=2026-Q4")
    assert response.status_code == 200
    text, reader = _pdf_text(response.content)
    assert "Kwartaalrapportage" in text
    assert "4e kwartaal 2026" in text
    assert "payment_screening" not in text
    assert "Weigeringen per reden" in text
    assert "AVG art. 6 lid 1" in text
    assert "GDPR" not in text
    attached = {name: data[0] for name, data in reader.attachments.items()}
    assert set(attached) == {"checkpoint.txt", "log-verifier-key.txt"}
    note = attached["checkpoint.txt"].decode()
    signed = open_checkpoint(note, console.services.audit.verifier)
    size = signed.checkpoint.size
    with transaction(console.services.session_factory) as session:
        last = session.scalar(select(func.max(AuditEntry.seq)))
    assert last == size  # only the report's own download was written after the checkpoint
    assert f"{size} vermeldingen" in text
    assert "Vermeldingen gegevensuitwisseling 6" in text
    assert attached["log-verifier-key.txt"].decode().strip() == (
        console.services.audit.verifier_key
    )


def test_long_pages_have_contents_and_show_one_purpose(console: ConsoleApp) -> None:
    client = console.sign_in("dora")
    for page in ("/console/policies", "/console/register"):
        every = client.get(page).text
        assert 'id="contents-h"' in every
        assert every.count('<section class="card" aria-labelledby="') > 5
        one = client.get(f"{page}?purpose=payment_screening").text
        headings = re.findall(r'<h[23] id="(?:purpose|act)-([a-z_]+)"', one)
        assert headings == ["payment_screening"], page
        unknown = client.get(f"{page}?purpose=marketing")
        assert unknown.status_code == 422
        assert "purpose" in unknown.text


def test_register_is_generated_from_the_registry_and_the_live_policy(
    console: ConsoleApp,
) -> None:
    from gateway.audit_trail.events import Actor
    from gateway.partners.models import Partner
    from gateway.partners.service import PartnerRegistry

    services = console.services
    with transaction(services.session_factory) as session:
        session.get(Partner, "bank-a").name = "Demobank Noord N.V."  # type: ignore[union-attr]
        PartnerRegistry(session, services.audit, actor=Actor(request_id="t")).add_partner(
            name="Sleutelbeheer Stichting PPS", sector="partnership_dpo", partner_id="custodian-pps"
        )
    client = console.sign_in("dora")
    page = client.get("/console/register").text
    controllers = _block(page, "controllers")
    assert "Demobank Noord N.V." in controllers
    assert "Bank A N.V. (demo)" not in controllers
    assert "Sleutelbeheer Stichting PPS" in controllers
    assert "privacy@bank-a.example" in controllers
    assert "fg@bank-a.example" in controllers
    assert "7 years" in page
    assert "2555 days" not in page
    assert _testid(page, "next-review") == "2027-11-29"  # installed 2026-11-29, 12 months
    client.get("/console/language/nl?next=/console/register")
    report = client.get("/console/register.pdf")
    assert report.status_code == 200
    text, _reader = _pdf_text(report.content)
    assert "Vaststelling en herziening" in text
    assert "Demobank Noord N.V." in text
    assert "7 jaar" in text
    assert "AVG art. 6 lid 1 sub c" in text
    assert "GDPR" not in text


def test_review_shows_live_reports_by_evidence_level(console: ConsoleApp) -> None:
    """How well established the partnership's live reports are, in the reader's language."""
    now = console.clock.now()
    levels = ["police_report", "police_report", "victim_statement", None]
    with transaction(console.services.session_factory) as session:
        for n, level in enumerate(levels):
            session.add(
                Indicator(
                    partner_id="bank-a",
                    kind="iban",
                    epoch=1,
                    token_hash=bytes([n]) * 32,
                    category="purchase_fraud",
                    role="suspect",
                    reference_hash=bytes(32),
                    purpose="indicator_submission",
                    legal_basis="art6_1_f",
                    evidence=level,
                    observed_at=now - timedelta(days=1),
                    expires_at=now + timedelta(days=100),
                )
            )
    client = console.sign_in("dora")
    shown = _block(client.get("/console/overview").text, "review-evidence")
    assert "Police report filed 2" in shown
    assert "Victim&#39;s statement 1" in shown  # escaped on the page
    assert "No level stated 1" in shown
    client.get("/console/language/nl?next=/console/overview")
    dutch = _block(client.get("/console/overview").text, "review-evidence")
    assert "Aangifte gedaan 2" in dutch


def test_review_shows_which_policy_versions_were_in_force_and_who_approved(
    console: ConsoleApp,
) -> None:
    import json as jsonlib

    from gateway.governance import PolicyGovernance
    from gateway.policy.bundle import bundle_from_files
    from gateway.policy.governance import active_version, stored_bundle

    services = console.services
    first = console.clock.now()
    console.clock.current += timedelta(days=3)
    with transaction(services.session_factory) as session:
        version = active_version(session)
        assert version is not None
        bundle = stored_bundle(version)
        files = {module.path: module.text.encode() for module in bundle.modules}
        data = jsonlib.loads(jsonlib.dumps(dict(bundle.data)))
        data["purposes"]["payment_screening"]["label_en"] += " (reviewed)"
        files.update(
            {f"data/{name}.json": jsonlib.dumps(value).encode() for name, value in data.items()}
        )
        governance = PolicyGovernance(session, services.audit, console.clock, request_id="t")
        proposed = governance.propose(
            bundle_from_files(files, source="test"), by="dora", note="Clarify a label"
        )
        governance.approve(proposed.digest, by="petra")
        governance.approve(proposed.digest, by="bram")
        governance.activate(proposed.digest, by="dora")
    client = console.sign_in("dora")
    timeline = _block(client.get("/console/overview?period=2026-Q4").text, "policy-timeline")
    assert "by bootstrap" in timeline
    assert f"in force until {(first + timedelta(days=3)).strftime('%Y-%m-%d %H:%M')}" in timeline
    assert f"{proposed.digest[:12]} activated" in timeline
    assert "approved by petra, bram" in timeline
    assert "still in force" in timeline
    assert "Clarify a label" in timeline
    earlier = _block(client.get("/console/overview?period=2026-11").text, "policy-timeline")
    assert proposed.digest[:12] not in earlier  # activated in December
