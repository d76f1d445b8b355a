"""Pinned evaluator public keys: what a connector trusts an evaluator's answers against.

The partnership publishes, out of band (not through the gateway, not fetched from the
evaluator at run time), one document listing the evaluators in their fixed order, each with
its URL and its public key per epoch and identifier type (``ppsgate evaluator public-key``
prints an evaluator's entry). The order is the chain's: each partner's blinded elements go
to the first evaluator, its checked answer to the second. Tokens do not depend on it (they
are the PRF under the product of the keys), but every partner uses the same document so that
the evaluators see the same traffic. Nothing in it is secret — holding it does not let
anyone compute a token (docs/oprf.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.canonical import Kind, parse_kind
from connectors.errors import InvalidIdentifier
from connectors.oprf import group
from connectors.oprf.errors import EvaluatorConfigError
from connectors.oprf.suite import ELEMENT_BYTES, SUITE

PINS_FORMAT = "ppsgate-oprf-evaluators"
PINS_VERSION = 1
MIN_EVALUATORS = 2


@dataclass(frozen=True)
class EvaluatorPin:
    """One evaluator: name, base URL and its public key per (epoch, type)."""

    name: str
    url: str
    public_keys: Mapping[tuple[int, Kind], bytes] = field(repr=False)

    def key(self, epoch: int, kind: Kind) -> bytes:
        raw = self.public_keys.get((epoch, kind))
        if raw is None:
            raise EvaluatorConfigError(
                f"no pinned {kind} key of evaluator {self.name!r} for epoch {epoch}",
                field="public_keys",
            )
        return raw

    def kinds(self, epoch: int) -> frozenset[Kind]:
        return frozenset(kind for (key_epoch, kind) in self.public_keys if key_epoch == epoch)


def _parse_public_keys(name: str, value: Any) -> dict[tuple[int, Kind], bytes]:
    where = f"evaluators[{name}].public_keys"
    if not isinstance(value, dict) or not value:
        raise EvaluatorConfigError("must map epochs to {type: hex key}", field=where)
    keys: dict[tuple[int, Kind], bytes] = {}
    for epoch_text, by_kind in value.items():
        if not (isinstance(epoch_text, str) and epoch_text.isdigit()):
            raise EvaluatorConfigError(f"epoch {epoch_text!r} is not a number", field=where)
        if not isinstance(by_kind, dict):
            raise EvaluatorConfigError(f"epoch {epoch_text} must map types to keys", field=where)
        for kind_text, hex_key in by_kind.items():
            try:
                kind = parse_kind(str(kind_text))
            except InvalidIdentifier as exc:
                raise EvaluatorConfigError(exc.reason, field=f"{where}.{epoch_text}") from None
            try:
                raw = bytes.fromhex(str(hex_key))
                if not group.is_element(raw):
                    raise ValueError
            except ValueError:
                raise EvaluatorConfigError(
                    f"is not a {ELEMENT_BYTES}-byte ristretto255 public key in hex",
                    field=f"{where}.{epoch_text}.{kind.value}",
                ) from None
            keys[(int(epoch_text), kind)] = raw
    return keys


def parse_pins(document: Any) -> list[EvaluatorPin]:
    """Validate a pins document; refuses fewer than two evaluators or a reused key."""
    if not isinstance(document, dict) or document.get("format") != PINS_FORMAT:
        raise EvaluatorConfigError(f"not a {PINS_FORMAT} document", field="format")
    if document.get("version") != PINS_VERSION:
        raise EvaluatorConfigError(
            f"unsupported version {document.get('version')!r}", field="version"
        )
    if document.get("suite") != SUITE:
        raise EvaluatorConfigError(f"suite must be {SUITE}", field="suite")
    entries = document.get("evaluators")
    if not isinstance(entries, list):
        raise EvaluatorConfigError("must be a list", field="evaluators")
    pins: list[EvaluatorPin] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise EvaluatorConfigError("must be an object", field=f"evaluators[{index}]")
        name, url = entry.get("name"), entry.get("url")
        if not isinstance(name, str) or not name:
            raise EvaluatorConfigError("needs a name", field=f"evaluators[{index}].name")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise EvaluatorConfigError("needs an http(s) URL", field=f"evaluators[{name}].url")
        pins.append(
            EvaluatorPin(name, url.rstrip("/"), _parse_public_keys(name, entry.get("public_keys")))
        )
    check_distinct(pins)
    return pins


def check_distinct(pins: Iterable[EvaluatorPin]) -> None:
    """At least two evaluators, distinct names, and no key shared between two of them.

    A key pinned for two "evaluators" would mean one party holds both halves: the 2-of-2
    guarantee would silently be 1-of-1.
    """
    pins = list(pins)
    if len(pins) < MIN_EVALUATORS:
        raise EvaluatorConfigError(
            f"v2 needs at least {MIN_EVALUATORS} evaluators run by different operators, "
            f"got {len(pins)}",
            field="evaluators",
        )
    names = [pin.name for pin in pins]
    if len(set(names)) != len(names):
        raise EvaluatorConfigError("evaluator names must be unique", field="evaluators")
    owners: dict[bytes, str] = {}
    for pin in pins:
        for raw in pin.public_keys.values():
            other = owners.setdefault(raw, pin.name)
            if other != pin.name:
                raise EvaluatorConfigError(
                    f"evaluators {other!r} and {pin.name!r} share a public key",
                    field="evaluators",
                )


def load_pins(path: Path) -> list[EvaluatorPin]:
    """Read the pins document from a JSON file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvaluatorConfigError(f"{path} does not exist", field="evaluators file") from None
    except (OSError, ValueError) as exc:
        raise EvaluatorConfigError(
            f"{path} is not readable JSON ({type(exc).__name__})", field="evaluators file"
        ) from None
    return parse_pins(document)


def pins_document(pins: Iterable[EvaluatorPin]) -> dict[str, Any]:
    """The JSON form of a pin list (what :func:`parse_pins` reads)."""
    evaluators = []
    for pin in pins:
        public_keys: dict[str, dict[str, str]] = {}
        for (epoch, kind), raw in sorted(pin.public_keys.items()):
            public_keys.setdefault(str(epoch), {})[kind.value] = raw.hex()
        evaluators.append({"name": pin.name, "url": pin.url, "public_keys": public_keys})
    return {
        "format": PINS_FORMAT,
        "version": PINS_VERSION,
        "suite": SUITE,
        "evaluators": evaluators,
    }
