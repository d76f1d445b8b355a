"""Reading the pinned evaluator list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from voprf import ristretto

from connectors.canonical import Kind
from connectors.oprf.errors import EvaluatorConfigError
from connectors.oprf.pins import load_pins, parse_pins, pins_document


def _key(seed: int) -> str:
    return ristretto.Evaluator.from_seed(bytes([seed]) * 32, b"k").public_key.serialize().hex()


def _document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": "ppsgate-oprf-evaluators",
        "version": 1,
        "suite": "ristretto255-SHA512",
        "evaluators": [
            {"name": "a", "url": "https://a.example/", "public_keys": {"3": {"phone": _key(1)}}},
            {"name": "b", "url": "https://b.example", "public_keys": {"3": {"phone": _key(2)}}},
        ],
    }
    document.update(changes)
    return document


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "evaluators.json"
    path.write_text(json.dumps(_document()))
    pins = load_pins(path)
    assert [pin.name for pin in pins] == ["a", "b"]
    assert pins[0].url == "https://a.example"
    assert pins[0].kinds(3) == {Kind.PHONE}
    assert pins[0].key(3, Kind.PHONE).hex() == _key(1)
    assert parse_pins(pins_document(pins)) == pins


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"suite": "P256-SHA256"}, "suite", "ristretto255"),
        ({"version": 2}, "version", "unsupported"),
        ({"evaluators": []}, "evaluators", "at least 2"),
    ],
)
def test_refusals(changes: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(EvaluatorConfigError, match=reason) as caught:
        parse_pins(_document(**changes))
    assert caught.value.field == field


def test_bad_key_names_its_place() -> None:
    document = _document()
    document["evaluators"][1]["public_keys"]["3"]["phone"] = "00" * 32
    with pytest.raises(EvaluatorConfigError) as caught:
        parse_pins(document)
    assert caught.value.field == "evaluators[b].public_keys.3.phone"


def test_shared_key_is_refused() -> None:
    document = _document()
    document["evaluators"][1]["public_keys"]["3"]["phone"] = _key(1)
    with pytest.raises(EvaluatorConfigError, match="share a public key"):
        parse_pins(document)


def test_missing_pin_names_epoch_and_type() -> None:
    pins = parse_pins(_document())
    with pytest.raises(
        EvaluatorConfigError, match="no pinned iban key of evaluator 'a' for epoch 3"
    ):
        pins[0].key(3, Kind.IBAN)
