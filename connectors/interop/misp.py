"""A MISP feed directory of the partner's hits and alerts, built with PyMISP's ``MISPEvent``.

The directory is what MISP's "Feeds" pull (format *MISP Feed*): one ``<event uuid>.json``
per event (``{"Event": …}`` as ``MISPEvent.to_feed()`` writes it), ``manifest.json`` (event
uuid → Orgc, Tag, info, date, analysis, threat_level_id, timestamp) and ``hashes.csv``
(``md5(attribute value),event uuid`` per line), the layout of PyMISP's feed generator.

One attribute per identifier for the whole feed, with a stable uuid (UUIDv5 over partner,
type and canonical value): MISP refuses the same value twice in an event and an attribute
uuid in two events, so the category, role and credibility are tags on that one attribute,
not extra attributes. Each run adds one event holding the identifiers new to the feed (an
"alert batch"); an identifier already in the feed is revised where it is: its event gets a
newer ``timestamp``, which is what tells a subscribed MISP to pull it again. A retraction is
the attribute with ``deleted: true`` in that next revision. Re-running with the same
records changes nothing, so subscribing instances never see duplicates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymisp import MISPAttribute, MISPEvent, MISPOrganisation
from pymisp.exceptions import PyMISPError

from connectors.canonical import DEFAULT_REGION
from connectors.canonical.kinds import Kind
from connectors.interop.errors import ExportError
from connectors.interop.ids import stable_uuid
from connectors.interop.mapping import (
    ADMIRALTY_PREDICATE,
    PPSGATE_NAMESPACE,
    InteropMapping,
    load_mapping,
)
from connectors.interop.output import write_text_atomic
from connectors.interop.records import Event, Finding, Source, read_records
from connectors.interop.tlp import DEFAULT_TLP, Tlp, parse_tlp

MANIFEST = "manifest.json"
HASHES = "hashes.csv"
RETRACTED_TAG = f'{PPSGATE_NAMESPACE}:status="retracted"'
DISPUTED_TAG = f'{PPSGATE_NAMESPACE}:status="disputed"'
#: MISP ``threat_level_id`` 4 = undefined: the tags carry the assessment.
THREAT_LEVEL_UNDEFINED = 4
#: MISP ``analysis`` 2 = completed: the gateway's answer is final when exported.
ANALYSIS_COMPLETED = 2


@dataclass(frozen=True, slots=True)
class MispSummary:
    """What a run changed: the new event (if any), revised events and attribute counts."""

    new_event: str | None
    revised_events: tuple[str, ...]
    added: int
    updated: int
    deleted: int
    unchanged: int
    skipped_misses: int
    skipped_unjoined: int


@dataclass(slots=True)
class _Feed:
    """The events already in the directory, indexed by attribute uuid."""

    events: dict[str, MISPEvent] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)  # attribute uuid -> event uuid
    attributes: dict[str, MISPAttribute] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)


def _load_feed(directory: Path) -> _Feed:
    feed = _Feed()
    for path in sorted(directory.glob("*.json")):
        if path.name == MANIFEST:
            continue
        event = MISPEvent()
        try:
            event.load_file(str(path))
        except (OSError, ValueError, PyMISPError) as exc:
            raise ExportError(f"not a MISP event file: {exc}", field=path.name) from None
        if f"{event.uuid}.json" != path.name:
            raise ExportError("file name is not the event uuid", field=path.name)
        feed.events[event.uuid] = event
        for attribute in event.attributes:
            feed.owner[attribute.uuid] = event.uuid
            feed.attributes[attribute.uuid] = attribute
    return feed


def _timestamp(value: Any) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp())
    return int(value)


def _tags(finding: Finding, mapping: InteropMapping) -> list[str]:
    disclosed = finding.disclosed
    tags: list[str] = []
    for code in disclosed.categories or ():
        category = mapping.category(code)
        tags += [*category.misp_tags, category.ppsgate_tag]
    tags += mapping.role_mapping(list(disclosed.roles or ())).misp_tags
    tags += [f'{PPSGATE_NAMESPACE}:role="{role}"' for role in disclosed.roles or ()]
    tags += [f'{PPSGATE_NAMESPACE}:sector="{sector}"' for sector in disclosed.sectors or ()]
    tags += [f'{PPSGATE_NAMESPACE}:evidence="{level}"' for level in disclosed.evidence or ()]
    tags += [f'{PPSGATE_NAMESPACE}:obligation="{code}"' for code in disclosed.obligations or ()]
    credibility = mapping.credibility(
        corroboration=disclosed.corroboration, disputed=bool(disclosed.disputed)
    )
    tags.append(ADMIRALTY_PREDICATE.format(credibility))
    if disclosed.disputed:
        tags.append(DISPUTED_TAG)
    return sorted(set(tags))


def _comment(finding: Finding) -> str:
    disclosed = finding.disclosed
    parts = [f"ppsgate {finding.source.value} {finding.event.value}"]
    if disclosed.reports is not None:
        partners = "" if disclosed.reporters is None else f" from {disclosed.reporters} partners"
        parts.append(f"{disclosed.reports} reports{partners}")
    if disclosed.expires_at is not None:
        parts.append(f"expires {disclosed.expires_at.isoformat()}")
    parts.append("disclosed: " + ", ".join(disclosed.levels()))
    return "; ".join(parts)


_DELETED = 5  # index of the deleted flag in _content()


def _content(attribute: MISPAttribute) -> tuple[Any, ...]:
    """What a subscriber would see change (everything but the timestamp)."""
    return (
        attribute.type,
        attribute.category,
        attribute.value,
        bool(attribute.to_ids),
        attribute.comment,
        bool(getattr(attribute, "deleted", False)),
        sorted(tag.name for tag in attribute.tags),
        _seen(getattr(attribute, "first_seen", None)),
        _seen(getattr(attribute, "last_seen", None)),
    )


def _seen(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


class _FeedWriter:
    def __init__(
        self,
        directory: Path,
        *,
        partner: str,
        org_uuid: str,
        tlp: Tlp,
        mapping: InteropMapping,
        region: str,
        now: datetime,
    ) -> None:
        self.directory = directory
        self.partner = partner
        self.org_uuid = org_uuid
        self.tlp = tlp
        self.mapping = mapping
        self.region = region
        self.now = now
        self.feed = _load_feed(directory)
        self.new: dict[str, MISPAttribute] = {}
        self.originals: dict[str, tuple[Any, ...]] = {}
        self.unknown_retractions = 0

    def attribute_uuid(self, kind: Kind, canonical: str) -> str:
        return stable_uuid("misp-attribute", self.partner, kind.value, canonical)

    def apply(self, finding: Finding) -> None:
        assert finding.kind is not None  # callers pass joined findings only
        canonical = finding.canonical(self.region)
        key = self.attribute_uuid(finding.kind, canonical)
        if key in self.new:
            if finding.event is Event.RETRACTION:
                del self.new[key]  # asserted and retracted in one batch: never published
            else:
                self._fill(self.new[key], finding, canonical)
            return
        existing = self.feed.attributes.get(key)
        if existing is None:
            if finding.event is not Event.RETRACTION:
                attribute = MISPAttribute()
                attribute.uuid = key
                self._fill(attribute, finding, canonical)
                self.new[key] = attribute
            else:
                self.unknown_retractions += 1
            return
        self.originals.setdefault(key, _content(existing))
        if finding.event is Event.RETRACTION:
            existing.deleted = True
            existing.to_ids = False
            if RETRACTED_TAG not in {tag.name for tag in existing.tags}:
                existing.add_tag(RETRACTED_TAG)
        else:
            self._fill(existing, finding, canonical)

    def settle(self) -> dict[str, int]:
        """Stamp what really changed (compared with the file, not with the previous record:
        an alert and its update in one batch are one change) and count per identifier."""
        counts = {"added": len(self.new), "updated": 0, "deleted": 0, "unchanged": 0}
        counts["unchanged"] += self.unknown_retractions
        for key, before in self.originals.items():
            attribute = self.feed.attributes[key]
            after = _content(attribute)
            if after == before:
                counts["unchanged"] += 1
                continue
            counts["deleted" if after[_DELETED] and not before[_DELETED] else "updated"] += 1
            attribute.timestamp = self._stamp(_timestamp(attribute.timestamp))
            self.feed.changed.add(self.feed.owner[key])
        return counts

    def _fill(self, attribute: MISPAttribute, finding: Finding, canonical: str) -> None:
        assert finding.kind is not None
        target = self.mapping.identifiers[finding.kind]
        disclosed = finding.disclosed
        role = self.mapping.role_mapping(list(disclosed.roles or ()))
        attribute.type = target.misp_type
        attribute.category = target.misp_category
        attribute.value = canonical
        attribute.to_ids = role.to_ids and not disclosed.disputed
        attribute.comment = _comment(finding)
        attribute.disable_correlation = False
        attribute.deleted = False
        attribute.tags = []
        for tag in _tags(finding, self.mapping):
            attribute.add_tag(tag)
        if disclosed.first_seen is not None:
            attribute.first_seen = disclosed.first_seen
        if disclosed.last_seen is not None:
            attribute.last_seen = disclosed.last_seen

    def _stamp(self, previous: int) -> int:
        """Now, but always later than ``previous``: MISP pulls only what got newer."""
        return max(int(self.now.timestamp()), previous + 1)

    def _organisation(self) -> MISPOrganisation:
        organisation = MISPOrganisation()
        organisation.name = self.partner
        organisation.uuid = self.org_uuid
        return organisation

    def new_event(self, source: Source) -> MISPEvent | None:
        if not self.new:
            return None
        event = MISPEvent()
        event.uuid = stable_uuid("misp-event", self.partner, *sorted(self.new))
        event.info = (
            f"ppsgate {source.value}: {len(self.new)} identifiers reported by other partners"
        )
        event.Orgc = self._organisation()
        event.set_date(self.now.date())
        event.analysis = ANALYSIS_COMPLETED
        event.threat_level_id = THREAT_LEVEL_UNDEFINED
        event.published = True
        event.add_tag(name=self.tlp.misp_tag, colour=self.tlp.colour)
        event.add_tag(f'{PPSGATE_NAMESPACE}:source="{source.value}"')
        stamp = self._stamp(0)
        for attribute in self.new.values():
            attribute.timestamp = stamp
            event.attributes.append(attribute)
        event.timestamp = stamp
        event.publish_timestamp = stamp
        return event

    def revise(self, event: MISPEvent) -> None:
        stamp = max(
            [self._stamp(_timestamp(event.timestamp))]
            + [_timestamp(attribute.timestamp) for attribute in event.attributes]
        )
        event.timestamp = stamp
        event.publish_timestamp = stamp


def _event_json(event: MISPEvent) -> str:
    return json.dumps(event.to_feed(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _write_meta(directory: Path, events: Iterable[MISPEvent]) -> None:
    manifest: dict[str, Any] = {}
    hashes: list[str] = []
    for event in sorted(events, key=lambda item: str(item.uuid)):
        manifest.update(event.manifest)
        for attribute in event.attributes:
            if getattr(attribute, "deleted", False):
                continue  # a deleted attribute must not match in a cache or overlap lookup
            hashes += [f"{digest},{event.uuid}" for digest in attribute.hash_values("md5")]
    write_text_atomic(
        directory / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n"
    )
    write_text_atomic(directory / HASHES, "".join(f"{line}\n" for line in hashes))


def write_misp_feed(
    records: Iterable[Mapping[str, Any]],
    directory: Path,
    *,
    partner: str,
    tlp: Tlp | str = DEFAULT_TLP,
    source: Source | str | None = None,
    org_uuid: str | None = None,
    region: str = DEFAULT_REGION,
    now: datetime | None = None,
    mapping: InteropMapping | None = None,
) -> MispSummary:
    """Add ``records`` (match results or alerts) to the MISP feed in ``directory``.

    ``org_uuid`` is the partner's organisation uuid in MISP (derived from ``partner`` when
    not given). The directory is created if needed; only the event files that changed,
    ``manifest.json`` and ``hashes.csv`` are (re)written, each atomically.
    """
    if not partner.strip():
        raise ExportError("must name the partner (the feed's organisation)", field="partner")
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ExportError("needs a time zone", field="now")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {directory}: {exc.strerror}", field="directory") from None
    findings = read_records(records, source)
    resolved = findings[0].source if findings else Source(source or Source.ALERTS)
    writer = _FeedWriter(
        directory,
        partner=partner.strip(),
        org_uuid=org_uuid or stable_uuid("misp-organisation", partner.strip()),
        tlp=parse_tlp(tlp),
        mapping=mapping or load_mapping(),
        region=region,
        now=moment,
    )
    misses = unjoined = 0
    for finding in findings:
        if finding.is_answer_without_finding:
            misses += 1
        elif finding.kind is None or not finding.value:
            unjoined += 1
        else:
            writer.apply(finding)
    counts = writer.settle()
    event = writer.new_event(resolved)
    revised = sorted(writer.feed.changed)
    for uuid in revised:
        writer.revise(writer.feed.events[uuid])
    to_write = [writer.feed.events[uuid] for uuid in revised]
    if event is not None:
        writer.feed.events[event.uuid] = event
        to_write.append(event)
    for changed in to_write:
        write_text_atomic(directory / f"{changed.uuid}.json", _event_json(changed))
    _write_meta(directory, writer.feed.events.values())
    return MispSummary(
        new_event=None if event is None else str(event.uuid),
        revised_events=tuple(revised),
        added=counts["added"],
        updated=counts["updated"],
        deleted=counts["deleted"],
        unchanged=counts["unchanged"],
        skipped_misses=misses,
        skipped_unjoined=unjoined,
    )
