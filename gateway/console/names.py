"""Names and texts instead of codes: purposes, partners, reasons, actions and articles.

Pages and reports speak of "Payment screening" and "Demobank Noord N.V.", not of
``payment_screening`` and ``bank-a``; a code stays available next to its name where an
auditor needs it. Policy texts come from the bundle in the reader's language, partner names
from the partner registry, action names from the console's message table, and GDPR
references are written the Dutch way (``AVG art. 6 lid 1 sub f``) on Dutch pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.console.i18n import Translator, dutch_article
from gateway.partners.models import Partner
from gateway.policy.bundle import PolicyBundle


def partner_names(session: Session) -> dict[str, str]:
    """Partner id -> registered name, from the partner registry."""
    return {str(pid): str(name) for pid, name in session.execute(select(Partner.id, Partner.name))}


@dataclass(frozen=True, slots=True)
class ReasonText:
    code: str
    text: str
    articles: tuple[str, ...]


@dataclass(frozen=True)
class Names:
    """Everything a page needs to name what the log and the policy hold as codes."""

    t: Translator
    data: Mapping[str, Any]
    reasons: Mapping[str, Any]
    partners: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, t: Translator, bundle: PolicyBundle, session: Session | None = None) -> Names:
        partners = partner_names(session) if session is not None else {}
        catalog = {code: entry.reason for code, entry in bundle.catalog.entries.items()}
        return cls(t, bundle.data, catalog, partners)

    def article(self, reference: str) -> str:
        return dutch_article(reference) if self.t.language == "nl" else reference

    def purpose(self, purpose_id: str | None) -> str:
        if not purpose_id:
            return "-"
        item = self.data.get("purposes", {}).get(purpose_id)
        return self.t.pick(item, "label", purpose_id)

    def partner(self, partner_id: str | None) -> str:
        if not partner_id:
            return "-"
        return self.partners.get(partner_id) or partner_id

    def legal_basis(self, basis_id: str | None) -> str:
        if not basis_id:
            return "-"
        item = self.data.get("legal_bases", {}).get(basis_id)
        if not item:
            return basis_id
        return f"{self.t.pick(item, 'label', basis_id)} ({self.article(item.get('article', ''))})"

    def sector(self, sector_id: str | None) -> str:
        item = self.data.get("sectors", {}).get(sector_id or "")
        return self.t.pick(item, "label", sector_id or "-")

    def action(self, tag: str | None) -> str:
        if not tag:
            return "-"
        key = f"tag.{tag}"
        text = self.t(key)
        return tag if text == key else text

    def evidence(self, level: str | None) -> str:
        if level is None:
            return self.t("review.evidence_unstated")
        item = self.data.get("evidence", {}).get("levels", {}).get(level)
        return self.t.pick(item, "label", level)

    def obligation(self, code: str) -> str:
        item = self.data.get("obligations", {}).get(code)
        return self.t.pick(item, "text", code)

    def decision(self, decision: str | None) -> str:
        return self.t(f"decision.{decision}" if decision in ("allow", "deny") else "decision.none")

    def reason(self, code: str) -> ReasonText:
        """A reason's text in the reader's language and its articles (the code if unknown)."""
        found = self.reasons.get(code)
        if found is None:
            return ReasonText(code, code, ())
        text = found.text_nl if self.t.language == "nl" else found.text_en
        return ReasonText(code, text, tuple(self.article(ref) for ref in found.basis))
