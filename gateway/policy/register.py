"""The GDPR Art. 30 record of processing activities, generated from the live policy data.

The register is not written by hand: it is rendered from the same data documents the
engine decides with (partners, purposes, legal bases, instruments, retention, disclosure),
so it cannot say something the policies do not do. One processing activity per purpose;
per activity the controllers and the legal basis each relies on. Texts come in English or
Dutch (``language``), retention in years and months as a register states it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.policy.decision import Disclosure

GENERAL_SAFEGUARDS = (
    "Identifiers are pseudonymised by the partners before they leave them (HMAC-SHA256 with "
    "per-type keys of the current epoch); the gateway never sees an identifier in the clear.",
    "Tokens are peppered again at rest (HMAC-SHA256 under the gateway key K_gw, kept outside "
    "the database), so a database dump alone cannot be used to test guesses.",
    "Every request, allowed or denied, is written to an append-only audit log (RFC 6962 "
    "Merkle tree with signed checkpoints) together with the policy bundle digest.",
    "Every decision is made by the policy engine and fails closed: an engine error, timeout "
    "or undefined result refuses the request.",
    "Disclosure beyond a yes/no hit requires corroboration by distinct reports and "
    "reporting partners; the reporter's identity is disclosed only where a legal basis "
    "allows it.",
)


GENERAL_SAFEGUARDS_NL = (
    "Identificatoren worden door de partners gepseudonimiseerd voordat ze hen verlaten "
    "(HMAC-SHA256 met sleutels per soort van het actuele tijdvak); de gateway ziet nooit een "
    "identificator in leesbare vorm.",
    "Tokens worden in opslag opnieuw gepeperd (HMAC-SHA256 met de gatewaysleutel K_gw, "
    "buiten de database bewaard), zodat een databasedump alleen niet volstaat om gissingen "
    "te toetsen.",
    "Elk verzoek, toegestaan of geweigerd, wordt met de digest van de beleidsbundel "
    "vastgelegd in een auditlogboek waaraan alleen kan worden toegevoegd (RFC 6962 "
    "Merkle-boom met ondertekende controlepunten).",
    "Elk besluit wordt door de beleidsengine genomen en faalt gesloten: een fout, time-out "
    "of ongedefinieerde uitkomst weigert het verzoek.",
    "Verstrekking boven treffer of geen treffer vereist bevestiging door verschillende "
    "meldingen en meldende partners; de identiteit van de melder wordt alleen verstrekt "
    "waar een wettelijke grondslag dat toestaat.",
)


def general_safeguards(language: str = "en") -> tuple[str, ...]:
    """Art. 30(1)(g) measures that hold for every processing activity."""
    return GENERAL_SAFEGUARDS_NL if language == "nl" else GENERAL_SAFEGUARDS


# Fixed phrases of the register, (English, Dutch).
PHRASES: Mapping[str, tuple[str, str]] = {
    "nothing": (
        "none (nothing is disclosed to other partners under this purpose)",
        "geen (onder dit doel wordt niets aan andere partners verstrekt)",
    ),
    "not_applicable": (
        "not applicable (no criminal-offence data)",
        "niet van toepassing (geen strafrechtelijke gegevens)",
    ),
    "none": ("none", "geen"),
    "corroboration": (
        "corroboration: at least {reports} distinct reports from {reporters} reporting partner(s)",
        "bevestiging: minstens {reports} verschillende meldingen van {reporters} meldende "
        "partner(s)",
    ),
    "batch": (
        "at most {batch} identifiers per request",
        "hoogstens {batch} identificatoren per verzoek",
    ),
    "year": ("{n} year", "{n} jaar"),
    "years": ("{n} years", "{n} jaar"),
    "month": ("{n} month", "{n} maand"),
    "months": ("{n} months", "{n} maanden"),
    "days": ("{n} days", "{n} dagen"),
    "and": ("and", "en"),
}
DAYS_PER_YEAR = 365
DAYS_PER_MONTH = 30


def phrase(name: str, language: str = "en", **values: object) -> str:
    text = PHRASES[name][1 if language == "nl" else 0]
    return text.format(**values) if values else text


def duration(days: int, language: str = "en") -> str:
    """A retention period as a register states it: ``7 years``, ``6 months``, ``45 days``."""
    years, rest = divmod(days, DAYS_PER_YEAR)
    if years and rest <= 2:  # 730 = 2 years; leap days are not a period of their own
        return phrase("year" if years == 1 else "years", language, n=years)
    months = round(days / (DAYS_PER_YEAR / 12))
    if days >= DAYS_PER_MONTH - 2 and abs(days - months * DAYS_PER_YEAR / 12) <= 3:
        return phrase("month" if months == 1 else "months", language, n=months)
    return phrase("days", language, n=days)


def _pick(item: Mapping[str, Any], field: str, language: str, default: str = "") -> str:
    value = item.get(f"{field}_{language}") or item.get(f"{field}_en")
    return str(value) if value else default


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One controller's registration of one purpose (one CSV row)."""

    purpose_id: str
    purpose: str
    partner_id: str
    partner: str
    controller: str
    sector: str
    status: str
    legal_basis: str
    art10_condition: str
    instruments: str
    identifier_kinds: str
    data_categories: str
    data_subjects: str
    recipients: str
    retention: str
    safeguards: str


def _levels(levels: list[str]) -> str:
    order = [level.value for level in Disclosure]
    return ", ".join(sorted(levels, key=lambda lv: order.index(lv) if lv in order else 99))


def recipients(purpose: Mapping[str, Any], sectors: Mapping[str, Any], language: str = "en") -> str:
    """'sector: levels' for each sector that may learn something under the purpose."""
    disclosure: Mapping[str, list[str]] = purpose.get("disclosure", {})
    if not disclosure:
        return phrase("nothing", language)
    return "; ".join(
        f"{_pick(sectors.get(sector, {}), 'label', language, sector)}: {_levels(levels)}"
        for sector, levels in sorted(disclosure.items())
    )


def retention(purpose: Mapping[str, Any], taxonomy: Mapping[str, Any], language: str = "en") -> str:
    days = purpose.get("retention_days", {})
    text = duration(int(days.get("default", 0)), language)
    by_category = days.get("by_category", {})
    if by_category:
        labels = taxonomy.get("categories", {})
        parts = [
            f"{_pick(labels.get(cat, {}), 'label', language, cat)}: {duration(value, language)}"
            for cat, value in sorted(by_category.items())
        ]
        text += " (" + "; ".join(parts) + ")"
    return text


def safeguards(
    purpose: Mapping[str, Any], obligations: Mapping[str, Any], language: str = "en"
) -> str:
    parts: list[str] = []
    corroboration = purpose.get("corroboration")
    if corroboration:
        parts.append(
            phrase(
                "corroboration",
                language,
                reports=corroboration["min_reports"],
                reporters=corroboration["min_reporters"],
            )
        )
    if purpose.get("kinds"):
        parts.append(phrase("batch", language, batch=purpose.get("max_batch")))
    parts.extend(
        _pick(obligations.get(code, {}), "text", language, code)
        for code in purpose.get("obligations", [])
    )
    return "; ".join(parts)


def register_rows(data: Mapping[str, Any], language: str = "en") -> list[RegisterRow]:
    """Every (purpose, partner) registration, ordered by purpose then partner."""
    purposes: Mapping[str, Any] = data.get("purposes", {})
    partners: Mapping[str, Any] = data.get("partners", {})
    sectors: Mapping[str, Any] = data.get("sectors", {})
    bases: Mapping[str, Any] = data.get("legal_bases", {})
    conditions: Mapping[str, Any] = data.get("art10_conditions", {})
    instruments: Mapping[str, Any] = data.get("instruments", {})
    taxonomy: Mapping[str, Any] = data.get("taxonomy", {})
    obligations: Mapping[str, Any] = data.get("obligations", {})
    rows: list[RegisterRow] = []
    for purpose_id, purpose in sorted(purposes.items()):
        for partner_id, partner in sorted(partners.items()):
            registration = partner.get("registrations", {}).get(purpose_id)
            if registration is None:
                continue
            basis = bases.get(registration.get("legal_basis"), {})
            condition = conditions.get(registration.get("art10"), {})
            sector = sectors.get(partner.get("sector"), {})
            kinds = [k for k in purpose.get("kinds", []) if k in sector.get("kinds", [])]
            kinds += [k for k in registration.get("extra_kinds", []) if k not in kinds]
            rows.append(
                RegisterRow(
                    purpose_id=purpose_id,
                    purpose=_pick(purpose, "label", language, purpose_id),
                    partner_id=partner_id,
                    partner=partner.get("name", partner_id),
                    controller=partner.get("controller", ""),
                    sector=_pick(sector, "label", language, partner.get("sector", "")),
                    status=partner.get("status", ""),
                    legal_basis=f"{basis.get('article', '?')} "
                    f"({_pick(basis, 'label', language, '?')})",
                    art10_condition=condition.get("article", "")
                    if purpose.get("criminal_data")
                    else phrase("not_applicable", language),
                    instruments="; ".join(
                        f"{_pick(instruments.get(i, {}), 'title', language, i)} "
                        f"[{instruments.get(i, {}).get('reference', 'unknown')}]"
                        for i in registration.get("instruments", [])
                    ),
                    identifier_kinds=", ".join(kinds) or phrase("none", language),
                    data_categories=_pick(purpose, "data_categories", language),
                    data_subjects=_pick(purpose, "data_subjects", language),
                    recipients=recipients(purpose, sectors, language),
                    retention=retention(purpose, taxonomy, language),
                    safeguards=safeguards(purpose, obligations, language),
                )
            )
    return rows


def render_csv(data: Mapping[str, Any]) -> str:
    rows = register_rows(data)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RegisterRow.__slots__)
    for row in rows:
        writer.writerow([getattr(row, name) for name in RegisterRow.__slots__])
    return out.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(data: Mapping[str, Any], *, digest: str, generated_at: str) -> str:
    """The register as Markdown, for the privacy officer and the regulator."""
    purposes: Mapping[str, Any] = data.get("purposes", {})
    partners: Mapping[str, Any] = data.get("partners", {})
    sectors: Mapping[str, Any] = data.get("sectors", {})
    taxonomy: Mapping[str, Any] = data.get("taxonomy", {})
    rows = register_rows(data)
    lines = [
        "# Record of processing activities (GDPR Art. 30)",
        "",
        f"Generated on {generated_at} from the live policy data, bundle digest `{digest}`, "
        f"fraud taxonomy version {taxonomy.get('version', '?')}.",
        "",
        "## Controllers (Art. 30(1)(a))",
        "",
        "| Partner | Controller | Sector | Status |",
        "|---|---|---|---|",
    ]
    for partner_id, partner in sorted(partners.items()):
        sector = sectors.get(partner.get("sector"), {}).get("label_en", partner.get("sector"))
        lines.append(
            f"| `{partner_id}` {_cell(partner.get('name', ''))} | "
            f"{_cell(partner.get('controller', ''))} | {sector} | {partner.get('status')} |"
        )
    lines += ["", "## Processing activities", ""]
    for purpose_id, purpose in sorted(purposes.items()):
        registered = [row for row in rows if row.purpose_id == purpose_id]
        lines += [
            f"### {purpose.get('label_en', purpose_id)} (`{purpose_id}`)",
            "",
            f"- **Purpose (b):** {purpose.get('description_en', '')}",
            f"- **Data subjects (c):** {purpose.get('data_subjects_en', '')}",
            f"- **Personal data (c):** {purpose.get('data_categories_en', '')}; identifier "
            f"kinds: {', '.join(purpose.get('kinds', [])) or 'none'}",
            "- **Criminal-offence data (Art. 10):** "
            + ("yes" if purpose.get("criminal_data") else "no"),
            f"- **Recipients by sector (d):** {recipients(purpose, sectors)}",
            "- **Transfers to third countries (e):** none provided for by the policies",
            f"- **Retention (f):** {retention(purpose, taxonomy)}",
            f"- **Safeguards (g):** {safeguards(purpose, data.get('obligations', {}))}",
            "",
        ]
        if registered:
            lines += [
                "| Partner | Legal basis | Art. 10 condition | Instruments |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| `{row.partner_id}` | {_cell(row.legal_basis)} | "
                f"{_cell(row.art10_condition)} | {_cell(row.instruments)} |"
                for row in registered
            ]
        else:
            lines.append("No partner has registered this purpose.")
        lines.append("")
    lines += ["## General technical and organisational measures (Art. 30(1)(g), Art. 32)", ""]
    lines += [f"- {text}" for text in GENERAL_SAFEGUARDS]
    return "\n".join(lines) + "\n"
