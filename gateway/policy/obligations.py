"""The obligations that come with a decision, as the API shows them (matches and alerts)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from gateway.policy.decision import Decision


class ObligationOut(BaseModel):
    """A duty that comes with what was disclosed, from the policy's obligations."""

    code: str
    text_en: str
    text_nl: str
    basis: list[str]


def obligations_out(decisions: Iterable[Decision]) -> list[ObligationOut]:
    """The obligations of the given decisions with their texts, each once, by code."""
    found = {o.code: o for decision in decisions for o in decision.obligation_texts}
    return [
        ObligationOut(code=o.code, text_en=o.text_en, text_nl=o.text_nl, basis=list(o.basis))
        for _, o in sorted(found.items())
    ]
