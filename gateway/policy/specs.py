"""Per-row refusals of submissions and watch-list writes: which field, and in what words.

Rows are decided per (kind, hashing spec) and, for submissions, per category. A refused row
names the field the partner must change: ``spec`` when the deployment requires a stronger
hashing spec for the kind (``spec-too-weak``; the partner re-hashes), ``category`` when the
category is refused, otherwise ``kind``. The policy's reason texts are fixed METADATA, so the
row's text adds the kind and spec the row used, which the partner needs to find its rows.
"""

from __future__ import annotations

from gateway.policy.decision import Decision
from gateway.policy.refusals import denial_text

SPEC_TOO_WEAK = "spec-too-weak"


def denied_field(decision: Decision) -> str:
    """The request field a refused row should change (see the module docstring)."""
    codes = decision.reason_codes
    if SPEC_TOO_WEAK in codes:
        return "spec"
    return "category" if any("categor" in code for code in codes) else "kind"


def row_denial_text(decision: Decision, kind: str, spec: str) -> str:
    """The policy's reasons, plus the row's kind and spec when the spec is what was refused."""
    text = denial_text(decision)
    if SPEC_TOO_WEAK in decision.reason_codes:
        return f"{text} (this row: kind {kind}, spec {spec})"
    return text
