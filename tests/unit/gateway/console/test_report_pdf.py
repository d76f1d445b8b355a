"""The regulator's report keeps its integrity statement whole, wherever the page ends."""

from __future__ import annotations

import io

from pypdf import PdfReader

from gateway.console.i18n import Translator
from gateway.console.names import Names
from gateway.console.period import quarter
from gateway.console.report_pdf import Integrity, ReportData, audit_report
from gateway.console.review import Review

NOTE = "ppsgate.local/audit\n38\nAAAA\n\n\u2014 ppsgate.local/audit sig\n"


def _report(oversight_rows: int) -> list[str]:
    review = Review(quarter(2026, 4), [], [], {}, oversight_rows, 0, [])
    data = ReportData(
        period_label="4e kwartaal 2026",
        partner="alle partners",
        generated_at="2026-12-07 12:00 UTC",
        generated_by="dora",
        review=review,
        alerts=0,
        oversight_by_action=[(f"tag-{n}", n) for n in range(oversight_rows)],
        first_seq=0,
        last_seq=37,
        integrity=Integrity(NOTE, 38, "AAAA", "2026-12-07", True, (), "ppsgate.local/audit+key"),
    )
    names = Names(Translator("nl"), {}, {})
    reader = PdfReader(io.BytesIO(audit_report(data, names)))
    return [page.extract_text() for page in reader.pages]


def test_integrity_statement_checkpoint_and_key_stay_on_one_page() -> None:
    for rows in range(0, 70, 4):
        pages = _report(rows)
        with_heading = [text for text in pages if "Verklaring over de integriteit" in text]
        assert len(with_heading) == 1, rows
        assert "Verificatiesleutel van het logboek:" in with_heading[0], rows
        assert "ppsgate.local/audit+key" in with_heading[0], rows
        assert with_heading[0] is pages[-1], rows
