"""Printable PDF documents: the regulator's audit report and the Art. 30 register.

Rendered with fpdf2 (pure Python, no system libraries). Its built-in Helvetica covers
Latin-1 only, so text is folded to Latin-1 first (typographic dashes and quotes to their
ASCII forms); identifiers never appear in these documents, only partners, purposes,
counts, digests and the signed tree head.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


class _Document(FPDF):
    def __init__(self, title: str, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.title_text = latin1(title)
        self.footer_text = latin1(footer_text)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(self.title_text)
        self.set_creator("ppsgate console")
        self.add_page()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(0, 5, f"{self.footer_text} - page {self.page_no()}", align="C")

    def heading(self, text: str, size: int = 14) -> None:
        self.set_font("Helvetica", style="B", size=size)
        self.multi_cell(0, size * 0.5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)

    def para(self, text: str, size: int = 9, *, mono: bool = False) -> None:
        self.set_font("Courier" if mono else "Helvetica", size=size)
        self.multi_cell(0, size * 0.5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def facts(self, rows: Iterable[tuple[str, str]]) -> None:
        for label, value in rows:
            self.set_font("Helvetica", style="B", size=9)
            self.cell(48, 5, latin1(label))
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


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the regulator's report states (already scope-checked and counted)."""

    period: str
    partner: str
    filters: str
    generated_at: str
    generated_by: str
    total: int
    first_seq: int | None
    last_seq: int | None
    by_purpose: Sequence[tuple[str, str, int]]
    by_action: Sequence[tuple[str, str, int]]
    policy_digests: Sequence[str]
    checkpoint_note: str | None
    tree_size: int | None
    root_b64: str | None
    signature_ok: bool
    cosigners: Sequence[str]
    verifier_key: str


def audit_report(data: ReportData) -> bytes:
    """The quarterly (or any period) report a privacy officer sends to the regulator."""
    doc = _Document(
        "Audit report - ppsgate", f"ppsgate audit report, generated {data.generated_at}"
    )
    doc.heading("Report on data exchange through the ppsgate gateway", 15)
    doc.facts(
        [
            ("Period", data.period),
            ("Partner", data.partner),
            ("Filters", data.filters or "none"),
            ("Generated", f"{data.generated_at} by {data.generated_by}"),
            ("Audit entries", str(data.total)),
            (
                "Leaf indexes",
                "-" if data.first_seq is None else f"{data.first_seq} to {data.last_seq}",
            ),
        ]
    )
    doc.heading("Requests by purpose and decision", 12)
    doc.grid(
        ["Purpose", "Decision", "Entries"],
        [[p, d, str(n)] for p, d, n in data.by_purpose] or [["-", "-", "0"]],
        (90, 50, 40),
    )
    doc.heading("Requests by action and decision", 12)
    doc.grid(
        ["Action", "Decision", "Entries"],
        [[a, d, str(n)] for a, d, n in data.by_action] or [["-", "-", "0"]],
        (90, 50, 40),
    )
    doc.heading("Policy versions that decided these requests", 12)
    doc.para("\n".join(data.policy_digests) or "none recorded", 8, mono=True)
    doc.heading("Integrity statement", 12)
    if data.checkpoint_note is None:
        doc.para(
            "No signed checkpoint exists yet; the entries above are not yet covered by "
            "a signed tree head."
        )
    else:
        verdict = "verified" if data.signature_ok else "DID NOT VERIFY"
        doc.para(
            f"The audit log is an append-only Merkle tree (RFC 6962). Its latest signed tree "
            f"head covers {data.tree_size} entries with root hash {data.root_b64}; the "
            f"gateway checked its Ed25519 signature with the log key below when this report "
            f"was generated: {verdict}. Witness cosignatures: "
            f"{', '.join(data.cosigners) or 'none'}. Every entry counted above can be proved "
            "to be in this tree with an inclusion proof (GET /v1/audit/proof/inclusion), and "
            "`ppsgate audit verify` checks an export offline."
        )
        doc.para("Signed tree head (C2SP tlog-checkpoint):", 9)
        doc.para(data.checkpoint_note, 7, mono=True)
        doc.para(f"Log verifier key: {data.verifier_key}", 7, mono=True)
    return doc.bytes()


def register_pdf(rows: Sequence[RegisterRow], *, digest: str, generated_at: str) -> bytes:
    """The Art. 30 register: one block per registration of a purpose by a controller."""
    doc = _Document(
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
