"""The regulator's report (kwartaalrapportage) as a PDF in the console's language.

It states the period's data exchange with names and texts instead of codes (purposes,
partners, reasons with their articles, actions), the oversight activity apart, the policy
versions in force, and an integrity statement that is true by construction: the route
signs a checkpoint first and every count is limited to the entries below its tree size,
so each entry counted can be proved to be in the tree the report cites. The signed
checkpoint and the log's verifier key are attached to the PDF (embedded files) so that a
regulator can check the signature offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.console.i18n import Translator
from gateway.console.names import Names
from gateway.console.pdf import Document
from gateway.console.review import Review

CHECKPOINT_FILE = "checkpoint.txt"
VERIFIER_KEY_FILE = "log-verifier-key.txt"


@dataclass(frozen=True, slots=True)
class Integrity:
    """The checkpoint the report's counts are limited to, as checked when it was made."""

    note: str
    tree_size: int
    root_b64: str
    signed_at: str
    signature_ok: bool
    cosigners: Sequence[str]
    verifier_key: str


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the regulator's report states (already scope-checked and counted)."""

    period_label: str
    partner: str
    generated_at: str
    generated_by: str
    review: Review
    alerts: int
    oversight_by_action: Sequence[tuple[str, int]]
    first_seq: int | None
    last_seq: int | None
    integrity: Integrity | None


def _summary(doc: Document, t: Translator, data: ReportData) -> None:
    review = data.review
    span = "-" if data.first_seq is None else f"{data.first_seq} - {data.last_seq}"
    doc.facts(
        [
            (t("report.period"), data.period_label),
            (t("report.partner"), data.partner),
            (
                t("report.generated"),
                t("report.generated_by", time=data.generated_at, user=data.generated_by),
            ),
            (t("report.exchange_entries"), str(review.exchange_total)),
            (t("report.oversight_entries"), str(review.oversight)),
            (t("report.leaf_range"), span),
        ],
        label_width=70,
    )


def _exchange(doc: Document, t: Translator, names: Names, review: Review) -> None:
    doc.heading(t("review.by_purpose"), 12)
    rows = [
        [
            names.purpose(row.purpose)
            if row.purpose
            else f"{names.action(row.action)} ({t('review.no_purpose')})",
            str(row.allow),
            str(row.deny),
            str(row.other),
            str(row.total),
        ]
        for row in review.by_purpose
    ]
    header = [
        t("audit.purpose"),
        t("decision.allow"),
        t("decision.deny"),
        t("decision.none"),
        t("review.total"),
    ]
    doc.grid(header, rows or [[t("review.no_exchange"), "", "", "", ""]], (90, 24, 24, 24, 20))
    doc.heading(t("review.denials"), 12)
    if not review.denial_reasons:
        doc.para(t("review.no_denials"))
    else:
        reasons = []
        for code, count in review.denial_reasons:
            reason = names.reason(code)
            reasons.append([reason.text, "; ".join(reason.articles), str(count)])
        doc.grid(
            [t("audit.reasons"), t("helpdesk.articles"), t("review.count")], reasons, (110, 56, 16)
        )


def _events(doc: Document, t: Translator, data: ReportData) -> None:
    doc.heading(t("review.events"), 12)
    rows = [(t("overview.alerts"), str(data.alerts))]
    rows += [(t(f"review.event.{name}"), str(n)) for name, n in data.review.events.items()]
    doc.facts(rows, label_width=70)


def _oversight(doc: Document, t: Translator, names: Names, data: ReportData) -> None:
    doc.heading(t("report.oversight"), 12)
    doc.para(t("report.oversight_intro"))
    rows = [[names.action(tag), str(n)] for tag, n in data.oversight_by_action]
    doc.grid([t("audit.action"), t("review.count")], rows or [["-", "0"]], (150, 32))


def _versions(doc: Document, t: Translator, review: Review) -> None:
    doc.heading(t("review.versions"), 12)
    if not review.versions:
        doc.para(t("review.no_versions"))
        return
    rows = []
    for version in review.versions:
        start = version.activated_at.strftime("%Y-%m-%d %H:%M") if version.activated_at else "-"
        end = (
            version.until.strftime("%Y-%m-%d %H:%M") if version.until else t("review.still_active")
        )
        rows.append(
            [
                version.digest[:16],
                f"{start} ({version.activated_by or '-'})",
                ", ".join(version.approvers) or "-",
                end,
            ]
        )
    header = [
        t("audit.policy_version"),
        t("report.activated"),
        t("report.approved"),
        t("report.until"),
    ]
    doc.grid(header, rows, (40, 56, 46, 40))


def _integrity(doc: Document, t: Translator, data: ReportData) -> None:
    found = data.integrity
    if found is None:
        doc.keep_together(20)
        doc.heading(t("report.integrity"), 12)
        doc.para(t("report.no_checkpoint"))
        return
    verdict = t("report.signature_ok") if found.signature_ok else t("report.signature_bad")
    texts = [
        (
            t(
                "report.integrity_text",
                size=found.tree_size,
                root=found.root_b64,
                signed_at=found.signed_at,
                verdict=verdict,
                cosigners=", ".join(found.cosigners) or t("overview.none"),
            ),
            9,
            False,
        ),
        (t("report.attachments", checkpoint=CHECKPOINT_FILE, keyfile=VERIFIER_KEY_FILE), 9, False),
        (found.note, 7, True),
        (f"{t('report.verifier_key')}: {found.verifier_key}", 7, True),
    ]
    # The statement, its checkpoint and key stay on one page: never a page of leftovers.
    doc.keep_together(
        10 + sum(doc.text_height(text, size, mono=mono) for text, size, mono in texts)
    )
    doc.heading(t("report.integrity"), 12)
    for text, size, mono in texts:
        doc.para(text, size, mono=mono)
    doc.embed_text(CHECKPOINT_FILE, found.note, t("report.attachment_checkpoint"))
    doc.embed_text(VERIFIER_KEY_FILE, found.verifier_key + "\n", t("report.verifier_key"))


def audit_report(data: ReportData, names: Names) -> bytes:
    """The quarterly (or any period) report a privacy officer sends to the regulator."""
    t = names.t
    doc = Document(
        t("report.title", period=data.period_label),
        t("report.footer", time=data.generated_at),
        page_word=t("report.page"),
        language=t.language,
    )
    doc.heading(t("report.title", period=data.period_label), 15)
    _summary(doc, t, data)
    _exchange(doc, t, names, data.review)
    _events(doc, t, data)
    _versions(doc, t, data.review)
    _oversight(doc, t, names, data)
    _integrity(doc, t, data)
    return doc.bytes()
