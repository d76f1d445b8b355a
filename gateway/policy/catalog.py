"""The reason catalog, read from the METADATA annotations of the Rego files.

Neither embedded engine implements ``rego.metadata.rule()``, so rules emit stable reason
codes as plain values and the texts live in the METADATA block of the rule that emits them
(``custom: {code, gdpr, text_en, text_nl}``). This module parses those blocks when a bundle
is loaded, so the annotations stay the single source of every text a user or auditor sees,
and :func:`lint_modules` refuses a bundle in which a rule emits a code without one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import yaml

from gateway.policy.decision import Reason
from gateway.policy.errors import PolicyBundleError

_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A rule head that emits a literal code into a set: `deny contains "x" if`, `grounds ...`.
_EMITTING_HEAD = re.compile(r'^(?P<rule>[a-z_][a-z0-9_]*)\s+contains\s+"(?P<code>[^"]+)"')
_EMITTING_RULES = frozenset({"deny", "grounds"})


@dataclass(frozen=True, slots=True)
class Annotation:
    """One METADATA block and the first line of the rule (or package) it annotates."""

    path: str
    line: int
    head: str
    fields: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ReasonEntry:
    """A catalog entry: the reason plus where it is defined (for docs and the console)."""

    reason: Reason
    title: str
    path: str
    line: int

    def as_data(self) -> dict[str, object]:
        """The JSON form shipped in the bundle's data (``data.ppsgate.reasons``)."""
        return {
            "title": self.title,
            "text_en": self.reason.text_en,
            "text_nl": self.reason.text_nl,
            "gdpr": list(self.reason.basis),
            "source": f"{self.path}:{self.line}",
        }


def parse_annotations(path: str, text: str) -> list[Annotation]:
    """Every ``# METADATA`` block in one module, parsed as YAML like OPA does."""
    lines = text.splitlines()
    found: list[Annotation] = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != "# METADATA":
            index += 1
            continue
        start = index + 1
        block: list[str] = []
        index = start
        while index < len(lines) and lines[index].startswith("#"):
            body = lines[index][1:]
            block.append(body[1:] if body.startswith(" ") else body)
            index += 1
        head = lines[index].strip() if index < len(lines) else ""
        try:
            fields = yaml.safe_load("\n".join(block)) or {}
        except yaml.YAMLError as exc:
            raise PolicyBundleError(
                f"METADATA is not valid YAML: {exc}", field=f"{path}:{start}"
            ) from None
        if not isinstance(fields, dict):
            raise PolicyBundleError("METADATA must be a mapping", field=f"{path}:{start}")
        found.append(Annotation(path=path, line=index + 1, head=head, fields=fields))
    return found


def _entry(annotation: Annotation) -> ReasonEntry | None:
    custom = annotation.fields.get("custom")
    if not isinstance(custom, dict) or "code" not in custom:
        return None
    where = f"{annotation.path}:{annotation.line}"
    code = custom.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise PolicyBundleError("custom.code must be a kebab-case string", field=where)
    texts: dict[str, str] = {}
    for key in ("text_en", "text_nl"):
        value = custom.get(key)
        if not isinstance(value, str) or not value.strip():
            raise PolicyBundleError(f"custom.{key} is missing for {code!r}", field=where)
        texts[key] = " ".join(value.split())
    gdpr = custom.get("gdpr")
    if not isinstance(gdpr, list) or not gdpr or not all(isinstance(g, str) for g in gdpr):
        raise PolicyBundleError(f"custom.gdpr must list articles for {code!r}", field=where)
    title = annotation.fields.get("title")
    return ReasonEntry(
        reason=Reason(
            code=code, text_en=texts["text_en"], text_nl=texts["text_nl"], basis=tuple(gdpr)
        ),
        title=title if isinstance(title, str) else code,
        path=annotation.path,
        line=annotation.line,
    )


@dataclass(frozen=True, slots=True)
class ReasonCatalog:
    """Reason code -> entry, for every code the policies can emit."""

    entries: Mapping[str, ReasonEntry]

    def __contains__(self, code: object) -> bool:
        return code in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def reason(self, code: str, extra_basis: Iterable[str] = ()) -> Reason:
        """The reason for ``code``, with decision-specific references appended to its basis."""
        base = self.entries[code].reason
        extra = tuple(ref for ref in extra_basis if ref not in base.basis)
        if not extra:
            return base
        return Reason(base.code, base.text_en, base.text_nl, base.basis + extra)

    def as_data(self) -> dict[str, object]:
        return {code: self.entries[code].as_data() for code in sorted(self.entries)}

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> ReasonCatalog:
        """Rebuild a catalog from ``data.ppsgate.reasons`` as a real OPA serves it."""
        entries: dict[str, ReasonEntry] = {}
        for code, raw in data.items():
            if not isinstance(raw, dict):
                raise PolicyBundleError("catalog entry is not an object", field=code)
            try:
                path, _, line = str(raw.get("source", ":0")).rpartition(":")
                entries[code] = ReasonEntry(
                    reason=Reason(
                        code=code,
                        text_en=str(raw["text_en"]),
                        text_nl=str(raw["text_nl"]),
                        basis=tuple(str(g) for g in raw["gdpr"]),
                    ),
                    title=str(raw.get("title", code)),
                    path=path,
                    line=int(line or 0),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise PolicyBundleError(f"malformed catalog entry: {exc}", field=code) from None
        return cls(entries=entries)


def build_catalog(modules: Iterable[tuple[str, str]]) -> ReasonCatalog:
    """Collect every coded METADATA block; one code may not carry two different texts."""
    entries: dict[str, ReasonEntry] = {}
    for path, text in modules:
        for annotation in parse_annotations(path, text):
            entry = _entry(annotation)
            if entry is None:
                continue
            known = entries.get(entry.reason.code)
            if known is not None and known.reason != entry.reason:
                raise PolicyBundleError(
                    f"code {entry.reason.code!r} has different texts at {known.path}:{known.line}",
                    field=f"{entry.path}:{entry.line}",
                )
            entries.setdefault(entry.reason.code, entry)
    return ReasonCatalog(entries=entries)


def emitted_codes(path: str, text: str) -> list[tuple[str, int]]:
    """(code, line) of every literal code a ``deny``/``grounds`` rule head emits."""
    found: list[tuple[str, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _EMITTING_HEAD.match(line)
        if match and match.group("rule") in _EMITTING_RULES:
            found.append((match.group("code"), number))
    return found


def lint_modules(modules: Iterable[tuple[str, str]]) -> list[str]:
    """Problems that make a bundle unusable: a code emitted without its own METADATA entry.

    Each emitting rule must carry a METADATA block directly above it whose ``custom.code``
    is the code it emits, so a reader of the rule sees its text and articles right there.
    """
    problems: list[str] = []
    for path, text in modules:
        annotated: dict[int, object] = {}
        for annotation in parse_annotations(path, text):
            custom = annotation.fields.get("custom")
            annotated[annotation.line] = custom.get("code") if isinstance(custom, dict) else None
        for code, line in emitted_codes(path, text):
            if annotated.get(line) != code:
                problems.append(
                    f"{path}:{line}: rule emits {code!r} without a METADATA block "
                    f"declaring custom.code {code!r} directly above it"
                )
    return problems
