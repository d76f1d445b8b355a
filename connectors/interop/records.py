"""The connector's own result records, read once into typed values every exporter shares.

``match`` writes one record per input row (``row``, ``type``, ``value``, ``hit`` and, at the
top level, whatever the policy disclosed); ``alerts`` writes one per alert (``cursor``,
``type`` = alert/update/retraction, ``kind``, ``value`` joined back from the watch list, the
disclosure under ``disclosed``). Keys the connector did not add are the partner's carried
columns and travel untouched to the analyst exports. Every problem is reported with the
record's position and the field, never with the identifier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from connectors.canonical import DEFAULT_REGION, canonicalize
from connectors.canonical.kinds import Kind
from connectors.errors import InvalidIdentifier
from connectors.interop.errors import ExportError


class Source(StrEnum):
    """Which connector command wrote the records."""

    MATCH = "match"
    ALERTS = "alerts"


class Event(StrEnum):
    """What a record says about its identifier."""

    MISS = "miss"
    REJECTED = "rejected"
    HIT = "hit"
    ALERT = "alert"
    UPDATE = "update"
    RETRACTION = "retraction"


#: Disclosure levels (the gateway's ``Disclosure`` names) and the fields each one adds.
LEVEL_FIELDS: dict[str, tuple[str, ...]] = {
    "count": ("reports", "reporters", "victims"),
    "category": ("categories", "evidence"),
    "role": ("roles",),
    "sectors": ("sectors",),
    "dates": ("first_seen", "last_seen"),
    "reporter": ("reporting_partners",),
}
DISCLOSURE_FIELDS = (
    "reports",
    "reporters",
    "categories",
    "roles",
    "sectors",
    "first_seen",
    "last_seen",
    "disputed",
    "expires_at",
    "reporting_partners",
    "victims",
    "evidence",
    "obligations",
)
_INT_FIELDS = frozenset({"reports", "reporters", "victims"})
_LIST_FIELDS = frozenset(
    {"categories", "roles", "sectors", "reporting_partners", "evidence", "obligations"}
)
_TIME_FIELDS = frozenset({"first_seen", "last_seen", "expires_at"})
_KINDS = {kind.value: kind for kind in Kind}
_ALERT_EVENTS = {event.value: event for event in (Event.ALERT, Event.UPDATE, Event.RETRACTION)}

#: Context the connector adds beside the answer; shown in the analyst exports.
MATCH_CONTEXT = ("request_id", "reason")
ALERT_CONTEXT = ("row", "about_request_id", "about_row", "purpose")
#: Keys the connector writes that are recomputed here (``disclosed_levels`` holds field
#: names; the exports show the policy's disclosure levels instead) or carry no information.
_RECOMPUTED = frozenset({"disclosed_levels", "status", "token"})
MATCH_KEYS = frozenset(
    {"row", "type", "value", "epoch", "hit", *DISCLOSURE_FIELDS, *MATCH_CONTEXT, *_RECOMPUTED}
)
ALERT_KEYS = frozenset(
    {
        "cursor",
        "type",
        "watch_id",
        "kind",
        "value",
        "epoch",
        "disclosed",
        "created_at",
        *ALERT_CONTEXT,
        *_RECOMPUTED,
    }
)


@dataclass(frozen=True, slots=True)
class Disclosed:
    """What the policy let the partner learn; ``None`` means "not disclosed", not "none"."""

    reports: int | None = None
    reporters: int | None = None
    categories: tuple[str, ...] | None = None
    roles: tuple[str, ...] | None = None
    sectors: tuple[str, ...] | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    disputed: bool | None = None
    expires_at: datetime | None = None
    reporting_partners: tuple[str, ...] | None = None
    victims: int | None = None
    evidence: tuple[str, ...] | None = None
    # The obligations (codes) that came with the disclosure: not a level, a duty.
    obligations: tuple[str, ...] | None = None
    reason: str | None = None

    def levels(self) -> tuple[str, ...]:
        """The disclosure levels visible in this record (``hit`` always: it is the answer)."""
        found = ["hit"]
        for level, names in LEVEL_FIELDS.items():
            if any(getattr(self, name) is not None for name in names):
                found.append(level)
        return tuple(found)

    @property
    def corroboration(self) -> int | None:
        """Distinct reporting partners if disclosed (reports as a fallback), else ``None``."""
        return self.reporters if self.reporters is not None else self.reports


@dataclass(frozen=True, slots=True)
class Finding:
    """One record, checked: ``number`` is its 1-based position among the records given."""

    source: Source
    number: int
    position: int
    event: Event
    kind: Kind | None
    value: str
    disclosed: Disclosed
    epoch: int | None = None
    watch_id: int | None = None
    created_at: datetime | None = None
    context: dict[str, Any] = field(default_factory=dict)
    carried: dict[str, Any] = field(default_factory=dict)

    @property
    def is_answer_without_finding(self) -> bool:
        """A miss, or a row rejected before it was sent: nothing to assert or retract."""
        return self.event in {Event.MISS, Event.REJECTED}

    def canonical(self, region: str = DEFAULT_REGION) -> str:
        """The identifier in its canonical form, the one STIX and MISP consumers correlate on."""
        if self.kind is None or not self.value:
            raise ExportError("no identifier to export", field=f"record {self.number}: value")
        try:
            return canonicalize(self.kind, self.value, region=region)
        except InvalidIdentifier as exc:
            raise ExportError(exc.reason, field=f"record {self.number}: value") from None


def _fail(number: int, name: str, reason: str) -> ExportError:
    return ExportError(reason, field=f"record {number}: {name}")


def _int(record: Mapping[str, Any], name: str, number: int, *, required: bool) -> int | None:
    value = record.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(number, name, "must be an integer")
    return value


def _time(value: Any, name: str, number: int) -> datetime:
    if not isinstance(value, str):
        raise _fail(number, name, "must be an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(number, name, "must be an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise _fail(number, name, "needs a time zone (e.g. Z)")
    return parsed


def _disclosed(fields: Mapping[str, Any], number: int, prefix: str) -> Disclosed:
    values: dict[str, Any] = {}
    for name in DISCLOSURE_FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        where = f"{prefix}{name}"
        if name in _INT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _fail(number, where, "must be a non-negative integer")
        elif name in _LIST_FIELDS:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise _fail(number, where, "must be a list of strings")
            value = tuple(value)
        elif name in _TIME_FIELDS:
            value = _time(value, where, number)
        elif not isinstance(value, bool):
            raise _fail(number, where, "must be true or false")
        values[name] = value
    reason = fields.get("reason")
    if reason is not None:
        if not isinstance(reason, str):
            raise _fail(number, f"{prefix}reason", "must be a string")
        values["reason"] = reason
    return Disclosed(**values)


def _with_duties(disclosed: Disclosed, record: Mapping[str, Any], number: int) -> Disclosed:
    """An alert's obligations (objects with a ``code``, beside ``disclosed``) as codes."""
    duties = record.get("obligations")
    if duties is None:
        return disclosed
    if not isinstance(duties, list) or not all(
        isinstance(duty, Mapping) and isinstance(duty.get("code"), str) for duty in duties
    ):
        raise _fail(number, "obligations", "must be a list of objects with a code")
    codes = set(disclosed.obligations or ()) | {str(duty["code"]) for duty in duties}
    return replace(disclosed, obligations=tuple(sorted(codes)))


def _kind(value: Any, name: str, number: int, *, required: bool) -> Kind | None:
    if not required and value in (None, ""):
        return None
    if isinstance(value, str) and value in _KINDS:
        return _KINDS[value]
    raise _fail(number, name, "must be iban, phone, email or domain")


def _value(record: Mapping[str, Any], number: int) -> str:
    value = record.get("value", "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _fail(number, "value", "must be a string")
    return value


def _carried(record: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in known}


def _match(record: Mapping[str, Any], number: int) -> Finding:
    position = _int(record, "row", number, required=True)
    rejected = record.get("status") == "rejected"
    hit = record.get("hit")
    if not rejected and not isinstance(hit, bool):
        raise _fail(number, "hit", "must be true or false")
    event = Event.HIT if hit else Event.MISS
    if rejected:
        event = Event.REJECTED
    return Finding(
        source=Source.MATCH,
        number=number,
        position=position or 0,
        event=event,
        kind=_kind(record.get("type"), "type", number, required=not rejected),
        value=_value(record, number),
        disclosed=Disclosed() if rejected else _disclosed(record, number, ""),
        epoch=_int(record, "epoch", number, required=False),
        context={key: record[key] for key in MATCH_CONTEXT if record.get(key) is not None},
        carried=_carried(record, MATCH_KEYS),
    )


def _alert(record: Mapping[str, Any], number: int) -> Finding:
    position = _int(record, "cursor", number, required=True)
    event = _ALERT_EVENTS.get(str(record.get("type")))
    if event is None:
        raise _fail(number, "type", "must be alert, update or retraction")
    disclosed = record.get("disclosed")
    if not isinstance(disclosed, Mapping):
        raise _fail(number, "disclosed", "must be an object")
    return Finding(
        source=Source.ALERTS,
        number=number,
        position=position or 0,
        event=event,
        kind=_kind(record.get("kind"), "kind", number, required=event is not Event.RETRACTION),
        value=_value(record, number),
        disclosed=_with_duties(_disclosed(disclosed, number, "disclosed."), record, number),
        watch_id=_int(record, "watch_id", number, required=False),
        created_at=_time(record.get("created_at"), "created_at", number),
        context={key: record[key] for key in ALERT_CONTEXT if record.get(key) is not None},
        carried=_carried(record, ALERT_KEYS),
    )


def detect_source(record: Mapping[str, Any]) -> Source:
    """Tell match results (``row``) from alerts (``cursor``) by their first record."""
    if "cursor" in record and "disclosed" in record:
        return Source.ALERTS
    if "row" in record and ("hit" in record or record.get("status") == "rejected"):
        return Source.MATCH
    raise ExportError("neither a match result nor an alert", field="record 1")


def read_records(
    records: Iterable[Mapping[str, Any]], source: Source | str | None = None
) -> list[Finding]:
    """Check every record and return them in order; ``source`` is detected when ``None``."""
    findings: list[Finding] = []
    resolved: Source | None = None
    if source is not None:
        try:
            resolved = Source(source)
        except ValueError:
            raise ExportError("must be match or alerts", field="source") from None
    for number, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise _fail(number, "record", "must be an object")
        if resolved is None:
            resolved = detect_source(record)
        read = _match if resolved is Source.MATCH else _alert
        findings.append(read(record, number))
    return findings
