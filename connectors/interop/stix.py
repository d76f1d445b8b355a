"""STIX 2.1 bundles of the partner's hits and alerts, for OpenCTI and other TIPs.

Each hit becomes an Indicator whose pattern names the partner's own identifier in its
canonical form, the observable itself (``based-on``), and one attack pattern per disclosed
fraud category (``indicates``). STIX has no observable for IBANs or phone numbers; we use
OpenCTI's ``bank-account`` (id from ``iban``) and ``phone-number`` (id from ``value``)
custom observables, declared here with ``stix2``'s custom observable support, so OpenCTI
ingests them as its own Bank-Account and Phone-Number entities and computes the same ids.

Ids are stable (UUIDv5 over partner, type and canonical value), so exporting again
updates the same objects in a consumer instead of duplicating them, and a retraction is
the same Indicator again with ``revoked: true``. The writer keeps no state: ``created`` is
the time of the alert (or of the export for match results), not of the first sighting.

What goes in is deliberately less than the connector knows: carried columns and reporter
identities stay in the analyst exports (CSV/XLSX), because a bundle is made to be forwarded
and a TLP marking is a request, not a control.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import stix2
from stix2.properties import ListProperty, ReferenceProperty, StringProperty
from stix2.v21 import (
    AttackPattern,
    Bundle,
    DomainName,
    EmailAddress,
    Identity,
    Indicator,
    MarkingDefinition,
    Relationship,
)

from connectors.canonical import DEFAULT_REGION
from connectors.canonical.kinds import Kind
from connectors.interop.errors import ExportError
from connectors.interop.ids import stable_id
from connectors.interop.mapping import InteropMapping, load_mapping
from connectors.interop.output import text_output
from connectors.interop.records import Event, Finding, Source, read_records
from connectors.interop.tlp import DEFAULT_TLP, Tlp, parse_tlp


def _marking_property() -> ListProperty:
    return ListProperty(ReferenceProperty(valid_types="marking-definition", spec_version="2.1"))


class _BankAccountBase:
    """OpenCTI's Bank-Account observable (pycti ``CustomObservableBankAccount``)."""


class _PhoneNumberBase:
    """OpenCTI's Phone-Number observable (pycti ``CustomObservablePhoneNumber``)."""


BankAccount: Any = stix2.CustomObservable(
    "bank-account",
    [
        ("value", StringProperty(required=True)),
        ("iban", StringProperty(required=True)),
        ("bic", StringProperty()),
        ("account_number", StringProperty()),
        ("spec_version", StringProperty(fixed="2.1")),
        ("object_marking_refs", _marking_property()),
    ],
    ["iban"],
)(_BankAccountBase)

PhoneNumber: Any = stix2.CustomObservable(
    "phone-number",
    [
        ("value", StringProperty(required=True)),
        ("spec_version", StringProperty(fixed="2.1")),
        ("object_marking_refs", _marking_property()),
    ],
    ["value"],
)(_PhoneNumberBase)


@dataclass(frozen=True, slots=True)
class StixSummary:
    """What a bundle holds: indicators asserted, revoked, and records left out (and why)."""

    indicators: int
    revoked: int
    objects: int
    skipped_misses: int
    skipped_unjoined: int


def pattern_for(kind: Kind, canonical: str, mapping: InteropMapping) -> str:
    """The STIX pattern matching one identifier (string literal escaped per STIX 2.1 §9.4)."""
    target = mapping.identifiers[kind]
    literal = canonical.replace("\\", "\\\\").replace("'", "\\'")
    return f"[{target.stix_type}:{target.stix_property} = '{literal}']"


def _observable(kind: Kind, canonical: str, marking: str) -> Any:
    refs = [marking]
    if kind is Kind.IBAN:
        return BankAccount(value=canonical, iban=canonical, object_marking_refs=refs)
    if kind is Kind.PHONE:
        return PhoneNumber(value=canonical, object_marking_refs=refs)
    if kind is Kind.EMAIL:
        return EmailAddress(value=canonical, object_marking_refs=refs)
    return DomainName(value=canonical, object_marking_refs=refs)


def _description(finding: Finding) -> str:
    disclosed = finding.disclosed
    if finding.event is Event.RETRACTION:
        reason = f": {disclosed.reason}" if disclosed.reason else ""
        return f"Retracted by the reporting partner via ppsgate{reason}."
    parts = [f"ppsgate {finding.source.value} {finding.event.value}"]
    if disclosed.reports is not None:
        partners = "" if disclosed.reporters is None else f" from {disclosed.reporters} partners"
        parts.append(f"{disclosed.reports} reports{partners}")
    if disclosed.categories:
        parts.append("categories: " + ", ".join(disclosed.categories))
    if disclosed.sectors:
        parts.append("reporting sectors: " + ", ".join(disclosed.sectors))
    if disclosed.disputed:
        parts.append("disputed by the holder")
    parts.append("disclosed: " + ", ".join(disclosed.levels()))
    return "; ".join(parts) + "."


class _BundleBuilder:
    """Collects objects by id; a later record about the same identifier replaces an earlier."""

    def __init__(
        self, *, partner: str, tlp: Tlp, mapping: InteropMapping, region: str, now: datetime
    ) -> None:
        self.mapping = mapping
        self.region = region
        self.now = now
        self.marking = MarkingDefinition(**tlp.stix_marking(), allow_custom=True)
        self.identity = Identity(
            id=stable_id("identity", "partner", partner),
            name=partner,
            identity_class="organization",
            created=mapping.published,
            modified=mapping.published,
            object_marking_refs=[self.marking.id],
        )
        self.objects: dict[str, Any] = {}
        self.indicators: dict[str, Finding] = {}

    def add(self, finding: Finding) -> None:
        assert finding.kind is not None  # callers pass joined findings only
        canonical = finding.canonical(self.region)
        indicator_id = stable_id("indicator", self.identity.id, finding.kind.value, canonical)
        self.indicators[indicator_id] = finding
        timestamp = finding.created_at or self.now
        pattern = pattern_for(finding.kind, canonical, self.mapping)
        common: dict[str, Any] = {
            "id": indicator_id,
            "created": timestamp,
            "modified": timestamp,
            "created_by_ref": self.identity.id,
            "object_marking_refs": [self.marking.id],
            "name": canonical,
            "description": _description(finding),
            "pattern": pattern,
            "pattern_type": "stix",
            "x_opencti_main_observable_type": self.mapping.identifiers[finding.kind].opencti_type,
            "x_ppsgate_source": finding.source.value,
        }
        if finding.event is Event.RETRACTION:
            self.objects[indicator_id] = Indicator(
                **common, valid_from=timestamp, revoked=True, allow_custom=True
            )
            return
        disclosed = finding.disclosed
        credibility = self.mapping.credibility(
            corroboration=disclosed.corroboration, disputed=bool(disclosed.disputed)
        )
        confidence = self.mapping.confidence(credibility)
        valid_from = disclosed.first_seen or timestamp
        role = self.mapping.role_mapping(_list(disclosed.roles))
        labels = sorted(disclosed.categories or ()) + (["disputed"] if disclosed.disputed else [])
        extra: dict[str, Any] = {
            "indicator_types": list(role.stix_indicator_types),
            "labels": labels,
            "x_ppsgate_disclosed_levels": list(disclosed.levels()),
            "x_ppsgate_admiralty_credibility": credibility,
        }
        if confidence is not None:
            extra["confidence"] = confidence
            extra["x_opencti_score"] = confidence
        if disclosed.expires_at is not None and disclosed.expires_at > valid_from:
            extra["valid_until"] = disclosed.expires_at
        for name in ("reports", "reporters", "disputed"):
            value = getattr(disclosed, name)
            if value is not None:
                extra[f"x_ppsgate_{name}"] = value
        if disclosed.victims is not None:
            extra["x_ppsgate_victims"] = disclosed.victims
        for name in ("sectors", "roles", "evidence", "obligations"):
            value = getattr(disclosed, name)
            if value is not None:
                extra[f"x_ppsgate_{name}"] = list(value)
        if not extra["labels"]:
            del extra["labels"]
        self.objects[indicator_id] = Indicator(
            **common, valid_from=valid_from, **extra, allow_custom=True
        )
        observable = _observable(finding.kind, canonical, self.marking.id)
        self.objects[observable.id] = observable
        self._relate(indicator_id, "based-on", observable.id, timestamp)
        for code in disclosed.categories or ():
            attack_pattern = self._attack_pattern(code)
            self._relate(indicator_id, "indicates", attack_pattern.id, timestamp)

    def _attack_pattern(self, code: str) -> Any:
        category = self.mapping.category(code)
        pattern_id = stable_id("attack-pattern", "ppsgate-category", code)
        if pattern_id not in self.objects:
            references: list[dict[str, Any]] = [
                {
                    "source_name": "ppsgate-fraud-taxonomy",
                    "external_id": code,
                    "description": category.label,
                }
            ]
            if category.capec is not None:
                references.append(
                    {
                        "source_name": "capec",
                        "external_id": category.capec,
                        "url": category.capec_url,
                    }
                )
            self.objects[pattern_id] = AttackPattern(
                id=pattern_id,
                created=self.mapping.published,
                modified=self.mapping.published,
                name=category.attack_pattern,
                description=category.description or None,
                external_references=references,
            )
        return self.objects[pattern_id]

    def _relate(self, source: str, kind: str, target: str, timestamp: datetime) -> None:
        relationship_id = stable_id("relationship", source, kind, target)
        self.objects[relationship_id] = Relationship(
            id=relationship_id,
            created=timestamp,
            modified=timestamp,
            relationship_type=kind,
            source_ref=source,
            target_ref=target,
            created_by_ref=self.identity.id,
            object_marking_refs=[self.marking.id],
        )

    def bundle(self) -> Any:
        objects = [self.marking, self.identity, *self.objects.values()]
        keys = sorted(f"{obj.id}@{obj.get('modified', '')}" for obj in objects)
        bundle_id = stable_id("bundle", *keys)
        return Bundle(objects=objects, id=bundle_id, allow_custom=True)


def _list(value: tuple[str, ...] | None) -> list[str] | None:
    return None if value is None else list(value)


def build_stix_bundle(
    records: Iterable[Mapping[str, Any]],
    *,
    partner: str,
    tlp: Tlp | str = DEFAULT_TLP,
    source: Source | str | None = None,
    region: str = DEFAULT_REGION,
    now: datetime | None = None,
    mapping: InteropMapping | None = None,
) -> tuple[Any, StixSummary]:
    """The ``stix2.v21.Bundle`` for ``records`` and a summary; nothing is written."""
    if not partner.strip():
        raise ExportError("must name the partner (the bundle's author)", field="partner")
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ExportError("needs a time zone", field="now")
    builder = _BundleBuilder(
        partner=partner.strip(),
        tlp=parse_tlp(tlp),
        mapping=mapping or load_mapping(),
        region=region,
        now=moment,
    )
    misses = unjoined = 0
    for finding in read_records(records, source):
        if finding.is_answer_without_finding:
            misses += 1
        elif finding.kind is None or not finding.value:
            unjoined += 1
        else:
            builder.add(finding)
    bundle = builder.bundle()
    revoked = sum(1 for f in builder.indicators.values() if f.event is Event.RETRACTION)
    summary = StixSummary(
        indicators=len(builder.indicators) - revoked,
        revoked=revoked,
        objects=len(bundle.objects),
        skipped_misses=misses,
        skipped_unjoined=unjoined,
    )
    return bundle, summary


def write_stix_bundle(
    records: Iterable[Mapping[str, Any]],
    out: Path | IO[str],
    *,
    partner: str,
    tlp: Tlp | str = DEFAULT_TLP,
    source: Source | str | None = None,
    region: str = DEFAULT_REGION,
    now: datetime | None = None,
    mapping: InteropMapping | None = None,
) -> StixSummary:
    """Write the STIX 2.1 bundle of ``records`` (match results or alerts) to ``out``.

    Misses are left out; alerts whose identifier could not be joined back (no ``value`` or
    ``kind``) are counted in the summary, not guessed. A path is written atomically.
    """
    bundle, summary = build_stix_bundle(
        records,
        partner=partner,
        tlp=tlp,
        source=source,
        region=region,
        now=now,
        mapping=mapping,
    )
    with text_output(out) as handle:
        handle.write(bundle.serialize(pretty=True))
        handle.write("\n")
    return summary
