"""How our fraud taxonomy reads in STIX and MISP, loaded from ``policies/data``.

The mapping is data (``policies/data/interop_mapping.json``) beside the taxonomy it maps
(``taxonomy.json``), so the people who change a category see, in the same review, what it
becomes in the partners' MISP and OpenCTI. This module checks the file when it is loaded
(every taxonomy category and role mapped, credibility thresholds in order, confidence
values in range) and renders the table that ``docs/interop.md`` carries, so neither the
code nor the documentation can silently drift from the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from connectors.canonical.kinds import Kind
from connectors.interop.errors import ExportError

MAPPING_FILE = "interop_mapping.json"
TAXONOMY_FILE = "taxonomy.json"
EVIDENCE_FILE = "evidence.json"
OBLIGATIONS_FILE = "obligations.json"
SECTORS_FILE = "sectors.json"

#: MISP namespace of the machine tags that carry our own vocabulary verbatim.
PPSGATE_NAMESPACE = "ppsgate"
ADMIRALTY_PREDICATE = 'admiralty-scale:information-credibility="{}"'
_ADMIRALTY_VALUES = ("1", "2", "3", "4", "5", "6")
_CAPEC_URL = "https://capec.mitre.org/data/definitions/{}.html"


@dataclass(frozen=True, slots=True)
class IdentifierMapping:
    """One identifier type in STIX (SCO type and property) and in MISP (type, category)."""

    stix_type: str
    stix_property: str
    stix_convention: str
    opencti_type: str
    misp_type: str
    misp_category: str


@dataclass(frozen=True, slots=True)
class CategoryMapping:
    """One fraud category: its STIX attack pattern (with CAPEC id, if any) and MISP tags."""

    code: str
    label: str
    description: str
    attack_pattern: str
    capec: str | None
    misp_tags: tuple[str, ...]

    @property
    def capec_url(self) -> str | None:
        if self.capec is None:
            return None
        return _CAPEC_URL.format(self.capec.removeprefix("CAPEC-"))

    @property
    def ppsgate_tag(self) -> str:
        return f'{PPSGATE_NAMESPACE}:category="{self.code}"'


@dataclass(frozen=True, slots=True)
class RoleMapping:
    """What a disclosed role means for STIX indicator types, MISP tags and ``to_ids``."""

    stix_indicator_types: tuple[str, ...]
    misp_tags: tuple[str, ...]
    to_ids: bool


@dataclass(frozen=True, slots=True)
class InteropMapping:
    """The whole mapping, checked against the taxonomy it maps."""

    version: str
    published: datetime
    identifiers: dict[Kind, IdentifierMapping]
    categories: dict[str, CategoryMapping]
    roles: dict[str, RoleMapping]
    undisclosed_role: RoleMapping
    credibility_by_reporters: tuple[tuple[int, str], ...]
    credibility_disputed: str
    credibility_undisclosed: str
    admiralty_to_confidence: dict[str, int | None]
    sectors: dict[str, str]

    def category(self, code: str) -> CategoryMapping:
        """The mapping of ``code``; a category newer than this file maps to itself only."""
        found = self.categories.get(code)
        if found is not None:
            return found
        return CategoryMapping(
            code=code, label=code, description="", attack_pattern=code, capec=None, misp_tags=()
        )

    def role_mapping(self, roles: list[str] | None) -> RoleMapping:
        """Indicator types, tags and ``to_ids`` for the disclosed roles (union; any victim
        role switches detection off, since a protected identifier must never be blocked)."""
        known = [self.roles[role] for role in roles or () if role in self.roles]
        if not known:
            return self.undisclosed_role
        types = tuple(sorted({kind for mapping in known for kind in mapping.stix_indicator_types}))
        tags = tuple(sorted({tag for mapping in known for tag in mapping.misp_tags}))
        return RoleMapping(types, tags, all(mapping.to_ids for mapping in known))

    def credibility(self, *, corroboration: int | None, disputed: bool) -> str:
        """Admiralty information credibility ("1".."6") of a hit."""
        if disputed:
            return self.credibility_disputed
        if corroboration is None:
            return self.credibility_undisclosed
        for minimum, grade in self.credibility_by_reporters:
            if corroboration >= minimum:
                return grade
        return self.credibility_undisclosed

    def confidence(self, credibility: str) -> int | None:
        """STIX 2.1 confidence for an Admiralty grade (STIX 2.1 Appendix A); ``None`` for 6."""
        return self.admiralty_to_confidence[credibility]


def _data_file(name: str) -> Any:
    resource = resources.files("policies").joinpath("data", name)
    try:
        return json.loads(resource.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ExportError(f"cannot read policies/data/{name}: {exc}", field="mapping") from None


@cache
def load_mapping() -> InteropMapping:
    """The mapping shipped in ``policies/data``, checked against the shipped taxonomy."""
    return build_mapping(
        _data_file(MAPPING_FILE), _data_file(TAXONOMY_FILE), _data_file(SECTORS_FILE)
    )


def load_mapping_file(path: Path) -> InteropMapping:
    """A mapping from another file (a partner's reviewed variant), checked the same way."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ExportError(f"cannot read {path}: {exc}", field="mapping") from None
    return build_mapping(document, _data_file(TAXONOMY_FILE), _data_file(SECTORS_FILE))


def _require(document: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(document, dict) or not isinstance(document.get(key), kind):
        raise ExportError(f"missing or not a {kind.__name__}", field=f"{where}.{key}")
    return document[key]


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ExportError("must be a list of strings", field=where)
    return tuple(value)


def _role(document: Any, where: str) -> RoleMapping:
    return RoleMapping(
        stix_indicator_types=_strings(
            _require(document, "stix_indicator_types", list, where), f"{where}.stix_indicator_types"
        ),
        misp_tags=_strings(_require(document, "misp_tags", list, where), f"{where}.misp_tags"),
        to_ids=_require(document, "to_ids", bool, where),
    )


def _identifiers(document: Any) -> dict[Kind, IdentifierMapping]:
    types = _require(document, "identifier_types", dict, "mapping")
    identifiers: dict[Kind, IdentifierMapping] = {}
    for kind in Kind:
        entry = _require(types, kind.value, dict, "identifier_types")
        fields = {
            name: _require(entry, name, str, f"identifier_types.{kind.value}")
            for name in IdentifierMapping.__dataclass_fields__
        }
        identifiers[kind] = IdentifierMapping(**fields)
    return identifiers


def _categories(document: Any, taxonomy: Any) -> dict[str, CategoryMapping]:
    taxonomy_categories = _require(taxonomy, "categories", dict, "taxonomy")
    mapped = _require(document, "categories", dict, "mapping")
    missing = sorted(set(taxonomy_categories) - set(mapped))
    if missing:
        raise ExportError(f"taxonomy categories not mapped: {', '.join(missing)}", field="mapping")
    unknown = sorted(set(mapped) - set(taxonomy_categories))
    if unknown:
        raise ExportError(f"not in the taxonomy: {', '.join(unknown)}", field="mapping.categories")
    categories: dict[str, CategoryMapping] = {}
    for code, entry in mapped.items():
        where = f"categories.{code}"
        capec = entry.get("capec") if isinstance(entry, dict) else None
        if capec is not None and (not isinstance(capec, str) or not capec.startswith("CAPEC-")):
            raise ExportError("must be null or CAPEC-<number>", field=f"{where}.capec")
        categories[code] = CategoryMapping(
            code=code,
            label=str(taxonomy_categories[code].get("label_en", code)),
            description=str(taxonomy_categories[code].get("description_en", "")),
            attack_pattern=_require(entry, "attack_pattern", str, where),
            capec=capec,
            misp_tags=_strings(_require(entry, "misp_tags", list, where), f"{where}.misp_tags"),
        )
    return categories


def _roles(document: Any, taxonomy: Any) -> dict[str, RoleMapping]:
    taxonomy_roles = _require(taxonomy, "roles", dict, "taxonomy")
    mapped_roles = _require(document, "roles", dict, "mapping")
    if set(mapped_roles) != set(taxonomy_roles):
        raise ExportError("must map exactly the taxonomy's roles", field="mapping.roles")
    return {name: _role(entry, f"roles.{name}") for name, entry in mapped_roles.items()}


def _credibility(document: Any) -> tuple[tuple[tuple[int, str], ...], str, str]:
    credibility = _require(document, "credibility", dict, "mapping")
    where = "credibility.by_reporters"
    steps = [
        (_require(step, "min_reporters", int, where), _require(step, "admiralty", str, where))
        for step in _require(credibility, "by_reporters", list, "credibility")
    ]
    minimums = [minimum for minimum, _ in steps]
    if not steps or minimums != sorted(minimums, reverse=True) or minimums[-1] < 1:
        raise ExportError("thresholds must be descending and at least 1", field=where)
    disputed = _require(credibility, "disputed", str, "credibility")
    undisclosed = _require(credibility, "undisclosed", str, "credibility")
    grades = [grade for _, grade in steps] + [disputed, undisclosed]
    if any(grade not in _ADMIRALTY_VALUES for grade in grades):
        raise ExportError("grades must be Admiralty 1 to 6", field="credibility")
    return tuple(steps), disputed, undisclosed


def _confidence(document: Any) -> dict[str, int | None]:
    confidence = _require(document, "admiralty_to_stix_confidence", dict, "mapping")
    if set(confidence) != set(_ADMIRALTY_VALUES) or not all(
        value is None or (isinstance(value, int) and 0 <= value <= 100)
        for value in confidence.values()
    ):
        raise ExportError(
            "must give 0-100 or null for each grade 1-6", field="admiralty_to_stix_confidence"
        )
    return dict(confidence)


def _published(document: Any) -> datetime:
    published = _require(document, "published", str, "mapping")
    try:
        published_at = datetime.fromisoformat(published)
    except ValueError:
        raise ExportError("not an ISO 8601 timestamp", field="mapping.published") from None
    if published_at.tzinfo is None:
        raise ExportError("needs a time zone", field="mapping.published")
    return published_at


def build_mapping(document: Any, taxonomy: Any, sectors: Any) -> InteropMapping:
    """Check ``document`` against the taxonomy and turn it into typed values."""
    if not isinstance(sectors, dict):
        raise ExportError("must be an object", field="sectors")
    steps, disputed, undisclosed = _credibility(document)
    return InteropMapping(
        version=_require(document, "version", str, "mapping"),
        published=_published(document),
        identifiers=_identifiers(document),
        categories=_categories(document, taxonomy),
        roles=_roles(document, taxonomy),
        undisclosed_role=_role(
            _require(document, "undisclosed_role", dict, "mapping"), "undisclosed_role"
        ),
        credibility_by_reporters=steps,
        credibility_disputed=disputed,
        credibility_undisclosed=undisclosed,
        admiralty_to_confidence=_confidence(document),
        sectors={
            name: str(entry.get("label_en", name)) if isinstance(entry, dict) else name
            for name, entry in sorted(sectors.items())
        },
    )


def mapping_table(mapping: InteropMapping | None = None) -> str:
    """The Markdown tables of ``docs/interop.md``, generated from the data (a test compares)."""
    mapping = mapping or load_mapping()
    lines = [
        "| Category | STIX attack pattern | CAPEC | MISP tags |",
        "|---|---|---|---|",
    ]
    for code in sorted(mapping.categories):
        entry = mapping.categories[code]
        tags = ", ".join(f"`{tag}`" for tag in (*entry.misp_tags, entry.ppsgate_tag))
        lines.append(f"| `{code}` | {entry.attack_pattern} | {entry.capec or '-'} | {tags} |")
    lines += [
        "",
        "| Identifier | STIX object | Pattern | OpenCTI type | MISP type | MISP category |",
        "|---|---|---|---|---|---|",
    ]
    for kind, ident in mapping.identifiers.items():
        lines.append(
            f"| `{kind.value}` | `{ident.stix_type}` | `[{ident.stix_type}:{ident.stix_property}"
            f" = '…']` | {ident.opencti_type} | `{ident.misp_type}` | {ident.misp_category} |"
        )
    lines += [
        "",
        "| Role | STIX indicator types | MISP tags | MISP `to_ids` |",
        "|---|---|---|---|",
    ]
    roles = [*sorted(mapping.roles.items()), ("(not disclosed)", mapping.undisclosed_role)]
    for name, role in roles:
        types = ", ".join(f"`{kind}`" for kind in role.stix_indicator_types)
        tags = ", ".join(f"`{tag}`" for tag in role.misp_tags) or "-"
        lines.append(f"| {name} | {types} | {tags} | {str(role.to_ids).lower()} |")
    lines += [
        "",
        "| Corroboration | Admiralty credibility | STIX confidence |",
        "|---|---|---|",
    ]
    rows: list[tuple[str, str]] = []
    above: int | None = None
    for minimum, grade in mapping.credibility_by_reporters:
        if above is None:
            span = f"{minimum} or more"
        elif above - 1 == minimum:
            span = str(minimum)
        else:
            span = f"{minimum} to {above - 1}"
        noun = "reporting partner" if span == "1" else "reporting partners"
        rows.append((f"{span} {noun}", grade))
        above = minimum
    rows += [
        ("disputed", mapping.credibility_disputed),
        ("count not disclosed", mapping.credibility_undisclosed),
    ]
    for text, grade in rows:
        confidence = mapping.confidence(grade)
        shown = "(omitted)" if confidence is None else str(confidence)
        lines.append(f"| {text} | `{ADMIRALTY_PREDICATE.format(grade)}` | {shown} |")
    return "\n".join(lines)


def ppsgate_machinetag(mapping: InteropMapping | None = None) -> dict[str, Any]:
    """A MISP taxonomy (``machinetag.json``) for the ``ppsgate:`` tags this feed uses.

    MISP shows free tags without it; importing it lets analysts pick and filter our tags
    from the taxonomy list. Generated from the taxonomy data, never edited by hand.
    """
    mapping = mapping or load_mapping()
    taxonomy = _data_file(TAXONOMY_FILE)
    role_labels = {
        name: str(entry.get("label_en", name)) for name, entry in taxonomy["roles"].items()
    }
    evidence = _data_file(EVIDENCE_FILE)["levels"]
    duties = _data_file(OBLIGATIONS_FILE)
    return {
        "namespace": PPSGATE_NAMESPACE,
        "description": "ppsgate fraud-indicator sharing: categories, roles, sectors, status, "
        "evidence levels and obligations.",
        "version": int("".join(ch for ch in mapping.version if ch.isdigit()) or "1"),
        "predicates": [
            {"value": "category", "expanded": "Fraud category"},
            {"value": "role", "expanded": "Role of the identifier"},
            {"value": "sector", "expanded": "Reporting sector"},
            {"value": "status", "expanded": "Status of the indicator"},
            {"value": "source", "expanded": "ppsgate answer the event came from"},
            {"value": "evidence", "expanded": "Evidence level a report states"},
            {"value": "obligation", "expanded": "Obligation that came with the disclosure"},
        ],
        "values": [
            {
                "predicate": "category",
                "entry": [
                    {"value": code, "expanded": entry.label, "description": entry.description}
                    for code, entry in sorted(mapping.categories.items())
                ],
            },
            {
                "predicate": "role",
                "entry": [
                    {"value": name, "expanded": role_labels.get(name, name)}
                    for name in sorted(mapping.roles)
                ],
            },
            {
                "predicate": "sector",
                "entry": [
                    {"value": name, "expanded": label} for name, label in mapping.sectors.items()
                ],
            },
            {
                "predicate": "status",
                "entry": [
                    {"value": "disputed", "expanded": "Disputed by the identifier's holder"},
                    {"value": "retracted", "expanded": "Retracted by the reporter"},
                ],
            },
            {
                "predicate": "source",
                "entry": [
                    {"value": "match", "expanded": "Match answer"},
                    {"value": "alerts", "expanded": "Watch-list alerts"},
                ],
            },
            {
                "predicate": "evidence",
                "entry": [
                    {"value": level, "expanded": str(entry.get("label_en", level))}
                    for level, entry in evidence.items()
                ],
            },
            {
                "predicate": "obligation",
                "entry": [
                    {"value": code, "expanded": str(entry.get("text_en", code))}
                    for code, entry in sorted(duties.items())
                ],
            },
        ],
    }
