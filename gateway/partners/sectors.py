"""Sectors come from the policy data; the registry may not contradict it.

The policy decides with the sector its data gives a partner (``data.ppsgate.partners``), the
gateway acts with the sector its registry holds (a console role, the admin scope, the
sector shown in the audit trail). If the two differed, a partner registered as one sector
would be decided for as another, so a contradiction is refused three times over:

* at registration (``ppsgate partner add``): the sector must be one the policy data defines
  (or ``operator``, the gateway operator's own organisation), and the sector the policy data
  gives that partner id, if any;
* at start: the gateway refuses to start while a registered partner contradicts the policy,
  naming the partner and both sectors;
* at every decision: the gateway passes the registry's sector (``context.partner_sector``)
  and the policy denies with ``partner-sector-mismatch``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import ConfigurationError, InvalidRequestError
from gateway.partners.models import Partner, Sector
from gateway.policy.bundle import PolicyBundle, load_bundle
from gateway.policy.governance import active_version, stored_bundle

#: Not a partnership sector: the gateway operator's own organisation (console administrators).
OPERATOR = Sector.OPERATOR.value


@dataclass(frozen=True, slots=True)
class PolicySectors:
    """The sectors the policy data defines and the sector it gives each partner id."""

    sectors: frozenset[str]
    partners: Mapping[str, str]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PolicySectors:
        partners = {
            str(partner_id): str(entry.get("sector", ""))
            for partner_id, entry in dict(data.get("partners", {})).items()
            if isinstance(entry, dict)
        }
        return cls(sectors=frozenset(map(str, data.get("sectors", {}))), partners=partners)

    @property
    def known(self) -> frozenset[str]:
        return self.sectors | {OPERATOR}

    def contradiction(self, partner_id: str, sector: str) -> str | None:
        """Why ``sector`` may not be registered for ``partner_id``, or None."""
        if sector not in self.known:
            known = ", ".join(sorted(self.known))
            return f"unknown sector {sector!r}; the policy data defines: {known}"
        expected = self.partners.get(partner_id)
        if expected is not None and expected != sector:
            return (
                f"partner {partner_id!r} is registered as sector {sector!r} but the policy "
                f"data gives it sector {expected!r}"
            )
        return None

    def check(self, partner_id: str, sector: str) -> None:
        problem = self.contradiction(partner_id, sector)
        if problem is not None:
            raise InvalidRequestError(problem, field="sector")

    def contradictions(self, registered: Iterable[tuple[str, str]]) -> list[str]:
        """Every registered (partner, sector) the policy data contradicts."""
        return [
            problem
            for partner_id, sector in registered
            if (expected := self.partners.get(partner_id)) is not None
            and expected != sector
            and (problem := self.contradiction(partner_id, sector)) is not None
        ]


def governing_bundle(session: Session, policy_dir: Path | None = None) -> PolicyBundle:
    """The bundle in force: the pinned directory, else the active version, else the bundled."""
    if policy_dir is not None:
        return load_bundle(policy_dir)
    version = active_version(session)
    if version is not None:
        return stored_bundle(version)
    return load_bundle()


def policy_sectors(session: Session, policy_dir: Path | None = None) -> PolicySectors:
    return PolicySectors.from_data(governing_bundle(session, policy_dir).data)


def check_registry(session: Session, sectors: PolicySectors) -> None:
    """Refuse to start while a registered partner's sector contradicts the policy data."""
    rows = session.execute(select(Partner.id, Partner.sector).order_by(Partner.id)).all()
    problems = sectors.contradictions((str(row[0]), str(row[1])) for row in rows)
    if problems:
        raise ConfigurationError(
            "the partner registry contradicts the policy data: "
            + "; ".join(problems)
            + " (correct the registry or the policy data, then start again)",
            field="partners",
        )
