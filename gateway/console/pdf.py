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

from gateway.policy.register import GENERAL_SAFEGUARDS, RegisterRow

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


def register_pdf(rows: Sequence[RegisterRow], *, digest: str, generated_at: str) -> bytes:
    """The Art. 30 register: one block per registration of a purpose by a controller."""
    doc = Document(
        "Register of processing activities (GDPR Art. 30)",
        f"ppsgate Art. 30 register, bundle {digest[:12]}, {generated_at}",
    )
    doc.heading("Record of processing activities (GDPR Art. 30)", 15)
    doc.para(f"Generated on {generated_at} from the live policy data, bundle digest {digest}.")
    current = None
    for row in rows:
        if row.purpose_id != current:
            current = row.purpose_id
            doc.heading(f"{row.purpose} ({row.purpose_id})", 12)
            doc.facts(
                [
                    ("Data subjects", row.data_subjects),
                    ("Personal data", row.data_categories),
                    ("Recipients", row.recipients),
                    ("Retention", row.retention),
                    ("Safeguards", row.safeguards or "-"),
                ]
            )
        doc.facts(
            [
                ("Controller", f"{row.partner} ({row.partner_id}), {row.controller}"),
                ("Legal basis", row.legal_basis),
                ("Art. 10 condition", row.art10_condition),
                ("Instruments", row.instruments),
                ("Identifier kinds", row.identifier_kinds),
            ]
        )
    doc.heading("General technical and organisational measures (Art. 30(1)(g), Art. 32)", 12)
    for text in GENERAL_SAFEGUARDS:
        doc.para(f"- {text}")
    return doc.bytes()
