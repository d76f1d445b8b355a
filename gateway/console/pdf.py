"""Printable PDF documents: the page layout they share, and the Art. 30 register.

Rendered with fpdf2 (pure Python, no system libraries). Its built-in Helvetica covers
Latin-1 only, so text is folded to Latin-1 first (typographic dashes and quotes to their
ASCII forms); identifiers never appear in these documents, only partners, purposes,
counts, digests and the signed tree head.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from gateway.console.i18n import Translator
from gateway.console.register_view import Controller, SignOff
from gateway.policy.register import RegisterRow, general_safeguards

_FOLD = str.maketrans(
    {
        "\u2014": "-",
        "\u2013": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2212": "-",
        "\u00a0": " ",
        "\u20ac": "EUR",
        "\u2192": "->",
    }
)


def latin1(text: object) -> str:
    """``text`` in the core font's character set (unknown characters become '?')."""
    folded = str(text).translate(_FOLD)
    return folded.encode("latin-1", "replace").decode("latin-1")


class Document(FPDF):
    def __init__(
        self, title: str, footer_text: str, *, page_word: str = "page", language: str = "en"
    ) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.title_text = latin1(title)
        self.footer_text = latin1(footer_text)
        self.page_word = latin1(page_word)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(self.title_text)
        self.set_lang(language)
        self.set_creator("ppsgate console")
        self.add_page()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(0, 5, f"{self.footer_text} - {self.page_word} {self.page_no()}", align="C")

    def embed_text(self, name: str, text: str, description: str) -> None:
        """Attach a text file to the PDF (shown in a reader's attachments panel)."""
        self.embed_file(
            bytes=text.encode("utf-8"), basename=name, mime_type="text/plain", desc=description
        )

    def heading(self, text: str, size: int = 14) -> None:
        self.set_font("Helvetica", style="B", size=size)
        self.multi_cell(0, size * 0.5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)

    def para(self, text: str, size: int = 9, *, mono: bool = False) -> None:
        self.set_font("Courier" if mono else "Helvetica", size=size)
        self.multi_cell(0, size * 0.5, latin1(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def text_height(self, text: str, size: int = 9, *, mono: bool = False) -> float:
        """The height :meth:`para` would take for ``text`` (measured, nothing drawn)."""
        self.set_font("Courier" if mono else "Helvetica", size=size)
        lines = self.multi_cell(
            0, size * 0.5, latin1(text), align="L", dry_run=True, output="LINES"
        )
        count = len(lines) if isinstance(lines, list) else 1
        return float(count * size * 0.5 + 1)

    def keep_together(self, height: float) -> None:
        """Start a new page unless ``height`` still fits on this one (a block never splits)."""
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()

    def facts(self, rows: Iterable[tuple[str, str]], *, label_width: int = 48) -> None:
        for label, value in rows:
            self.set_font("Helvetica", style="B", size=9)
            self.cell(label_width, 5, latin1(label))
            self.set_font("Helvetica", size=9)
            self.multi_cell(0, 5, latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def grid(
        self, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
    ) -> None:
        self.set_font("Helvetica", size=8)
        with self.table(col_widths=tuple(widths), text_align="LEFT", line_height=4.2) as table:
            head = table.row()
            for text in header:
                head.cell(latin1(text))
            for values in rows:
                row = table.row()
                for text in values:
                    row.cell(latin1(text))
        self.ln(3)

    def bytes(self) -> bytes:
        return bytes(self.output())


def _register_header(doc: Document, t: Translator, sign_off: SignOff | None) -> None:
    doc.heading(t("register.sign_off"), 12)
    if sign_off is None:
        doc.para(t("register.not_stored"))
        return
    since = sign_off.activated_at.strftime("%Y-%m-%d %H:%M UTC") if sign_off.activated_at else "-"
    doc.facts(
        [
            (t("audit.policy_version"), sign_off.digest[:16]),
            (t("register.in_force_since"), f"{since} ({sign_off.activated_by or '-'})"),
            (
                t("register.approved_by"),
                ", ".join(sign_off.approvers) or t("register.no_approvals"),
            ),
            (
                t("register.next_review"),
                sign_off.next_review.isoformat() if sign_off.next_review else "-",
            ),
        ],
        label_width=70,
    )


def _register_controllers(doc: Document, t: Translator, found: Sequence[Controller]) -> None:
    doc.heading(f"{t('register.controllers')} ({t.article('GDPR Art. 30(1)(a)')})", 12)
    rows = [
        [
            f"{item.name} ({item.partner_id})",
            item.legal_entity or "-",
            t(f"register.status.{item.status}"),
            item.contact or "-",
            item.dpo or "-",
        ]
        for item in found
    ]
    header = [
        t("audit.partner"),
        t("register.controller"),
        t("register.status"),
        t("register.contact"),
        t("register.dpo_contact"),
    ]
    doc.grid(header, rows, (46, 46, 22, 34, 34))


def register_pdf(
    rows: Sequence[RegisterRow],
    *,
    t: Translator,
    controllers: Sequence[Controller],
    sign_off: SignOff | None,
    digest: str,
    generated_at: str,
) -> bytes:
    """The Art. 30 register: sign-off, controllers, then one block per processing activity."""
    names = {item.partner_id: item.name for item in controllers}
    doc = Document(
        t("register.title"),
        f"{t('register.title')} - {digest[:12]} - {generated_at}",
        page_word=t("report.page"),
        language=t.language,
    )
    doc.heading(t("register.title"), 15)
    doc.para(t("register.generated", digest=digest))
    _register_header(doc, t, sign_off)
    _register_controllers(doc, t, controllers)
    current = None
    for row in rows:
        if row.purpose_id != current:
            current = row.purpose_id
            doc.heading(row.purpose, 12)
            doc.facts(
                [
                    (t("register.subjects"), row.data_subjects),
                    (t("register.data"), row.data_categories),
                    (t("register.recipients"), row.recipients),
                    (t("policies.retention"), row.retention),
                    (t("register.safeguards"), row.safeguards or "-"),
                ]
            )
        doc.facts(
            [
                (
                    t("register.controller"),
                    f"{names.get(row.partner_id, row.partner)}, {row.controller}",
                ),
                (t("policies.legal_basis"), t.article(row.legal_basis)),
                (t("register.art10_condition"), t.article(row.art10_condition)),
                (t("policies.instruments"), t.article(row.instruments)),
                (t("policies.kinds"), row.identifier_kinds),
            ]
        )
    doc.heading(f"{t('register.general')} ({t.article('GDPR Art. 30(1)(g) and 32')})", 12)
    for text in general_safeguards(t.language):
        doc.para(f"- {text}")
    return doc.bytes()
