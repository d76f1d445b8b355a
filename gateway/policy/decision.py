"""Decisions as values: what the policy engine answers, with its reasons.

A decision is data, not a boolean, so it can be audited, explained in the console and
compared across policy versions. Composition fails closed: anything but an explicit allow
from a healthy engine becomes a :class:`Decision` with ``allow=False`` and a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Action(StrEnum):
    """What a caller asks to do; the policy decides per action."""

    ALERTS_READ = "alerts:read"
    AUDIT_READ = "audit:read"
    DISPUTE_FILE = "dispute:file"
    FEEDBACK_SUBMIT = "feedback:submit"
    INDICATORS_RETRACT = "indicators:retract"
    INDICATORS_SUBMIT = "indicators:submit"
    KEYS_FETCH = "keys:fetch"
    MATCH_QUERY = "match:query"
    POLICY_SIMULATE = "policy:simulate"
    REQUESTS_ANSWER = "requests:answer"
    REQUESTS_SEND = "requests:send"
    WATCHLIST_WRITE = "watchlist:write"


class Disclosure(StrEnum):
    """What a match may reveal, from least to most."""

    HIT = "hit"
    COUNT = "count"
    CATEGORY = "category"
    ROLE = "role"
    SECTORS = "sectors"
    DATES = "dates"
    REPORTER = "reporter"


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason for a decision: a stable code plus texts and legal references from METADATA."""

    code: str
    text_en: str
    text_nl: str
    basis: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """The facts a decision is made on; never an identifier or token."""

    action: Action
    partner_id: str
    purpose: str
    legal_basis: str | None
    kinds: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    batch_size: int = 1
    # (kind, spec) pairs: the hashing specs ("v1", "v2") the request's tokens were made under,
    # so a policy can require v2 for a kind; a kind without a pair is read as v1.
    specs: tuple[tuple[str, str], ...] = ()
    # Extra context (e.g. the target partner for audit reads, the epoch) for richer rules.
    # Read by the policy: ``partner_status`` (the gateway's live status of the partner;
    # anything but "active" denies) and ``tokens`` (peppered tokens checked against the
    # suppression list).
    context: dict[str, object] = field(default_factory=dict)
    # Levels the caller wants to learn; asking for more than the purpose grants is a deny
    # (the help desk's "may we learn who reported it?" question).
    disclosure_requested: frozenset[Disclosure] = frozenset()


@dataclass(frozen=True, slots=True)
class Corroboration:
    """What must be known about an identifier before more than a yes/no hit is disclosed.

    Distinct reports and reporting partners; distinct victims (opaque, per-reporter victim
    references: the same victim reported by two partners counts twice, because references
    are not linkable across partners) in total or at one reporter (the PSR's "two different
    customers of the same provider"); a minimum evidence level of at least one report; and,
    where set, only reports by partners of ``reporter_sectors`` count.
    """

    min_reports: int
    min_reporters: int
    min_victims: int = 0
    min_victims_one_reporter: int = 0
    min_evidence: str | None = None
    reporter_sectors: frozenset[str] = frozenset()

    def as_json(self) -> dict[str, object]:
        """The thresholds that are set (reports and reporters always)."""
        body: dict[str, object] = {
            "min_reports": self.min_reports,
            "min_reporters": self.min_reporters,
        }
        if self.min_victims:
            body["min_victims"] = self.min_victims
        if self.min_victims_one_reporter:
            body["min_victims_one_reporter"] = self.min_victims_one_reporter
        if self.min_evidence is not None:
            body["min_evidence"] = self.min_evidence
        if self.reporter_sectors:
            body["reporter_sectors"] = sorted(self.reporter_sectors)
        return body


@dataclass(frozen=True, slots=True)
class Obligation:
    """A duty that travels with a disclosure (data/obligations.json), with its texts."""

    code: str
    text_en: str
    text_nl: str
    basis: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Enumeration:
    """When one partner's querying in a window looks like a dictionary run (alert the DPO)."""

    min_distinct: int
    max_hit_ratio: float


@dataclass(frozen=True, slots=True)
class Quota:
    """Items a partner and each of its clients may use per fixed window, for one purpose."""

    window_seconds: int
    partner: int
    client: int
    enumeration: Enumeration | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer. ``allow`` is True only for an explicit, well-formed allow."""

    allow: bool
    reasons: tuple[Reason, ...]
    policy_digest: str
    disclosure: frozenset[Disclosure] = frozenset()
    corroboration: Corroboration | None = None
    retention_days: int | None = None
    obligations: tuple[str, ...] = ()
    # Retention per requested fraud category (``retention_days`` is the shortest of these).
    retention_by_category: tuple[tuple[str, int], ...] = ()
    # Version of the joint fraud taxonomy the decision was made with.
    taxonomy_version: str | None = None
    # The quota of a metered action (queries, submissions, watch-list writes), else None.
    quota: Quota | None = None
    # The obligations with their texts, in the order of ``obligations``.
    obligation_texts: tuple[Obligation, ...] = ()
    # Default retention per role (a report's expiry is the shorter of category and role).
    retention_by_role: tuple[tuple[str, int], ...] = ()
    # Reason codes a reporter may give to keep a report past its default, up to the maximum.
    retention_extensions: frozenset[str] = frozenset()
    # Evidence levels (data/evidence.json) and their ranks, lowest first.
    evidence_levels: tuple[tuple[str, int], ...] = ()

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)

    def retention_for(self, category: str) -> int | None:
        """Retention in days for one requested category, or ``None`` if it was not requested."""
        return dict(self.retention_by_category).get(category)

    def evidence_rank(self, level: str | None) -> int:
        """The rank of an evidence level; 0 for none stated or a level the policy lacks."""
        return 0 if level is None else dict(self.evidence_levels).get(level, 0)


ENGINE_UNAVAILABLE = "engine-unavailable"
"""Reason code of every fail-closed deny (engine error, timeout, undefined or malformed result)."""


class PolicyEngine(Protocol):
    """Anything that can decide; implementations must never raise, only deny."""

    @property
    def digest(self) -> str:
        """SHA-256 of the loaded bundle (policy files and data), recorded in every audit entry."""
        ...

    def decide(self, request: DecisionRequest) -> Decision:
        """Decide one request; an engine failure is a deny with code ``engine-unavailable``."""
        ...
