"""docs/architecture.md draws the gateway's layers exactly as pyproject's import-linter has them.

The contracts in ``[tool.importlinter]`` are what ``make lint`` enforces; the drawing is what
people read. Both list the layers highest first, with the same siblings and separators.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _layers_contract() -> dict[str, Any]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    [contract] = [c for c in config["contracts"] if c["type"] == "layers"]
    layers: dict[str, Any] = contract
    return layers


def _normalise(layer: str) -> tuple[str, tuple[str, ...]]:
    """(separator, module names) of one layer; a layer of one module has separator ``|``."""
    separator = ":" if ":" in layer else "|"
    names = tuple(name.strip() for name in layer.split(separator))
    assert all(re.fullmatch(r"\(?[a-z_]+\)?", name) for name in names), layer
    return separator, names


def _drawn_layers() -> list[str]:
    text = ARCHITECTURE.read_text()
    match = re.search(r"<!-- layers:start -->\n```\n(.*?)```\n<!-- layers:end -->", text, re.S)
    assert match, "docs/architecture.md lacks the layers drawing between its markers"
    layers: list[str] = []
    continued = False
    for line in match.group(1).splitlines():
        if continued:
            layers[-1] = f"{layers[-1]} {line.strip()}"
        else:
            layers.append(line.strip())
        continued = line.rstrip().endswith((":", "|"))
    return layers


def test_the_drawing_lists_the_contracts_layers_in_order() -> None:
    expected = [_normalise(layer) for layer in _layers_contract()["layers"]]
    drawn = [_normalise(layer) for layer in _drawn_layers()]
    assert drawn == expected


def test_every_area_of_the_gateway_is_in_a_layer() -> None:
    contract = _layers_contract()
    assert contract["containers"] == ["gateway"]
    assert contract["exhaustive"] is True
    placed = {name.strip("()") for layer in contract["layers"] for name in _normalise(layer)[1]}
    gateway = ROOT / "gateway"
    children = {
        path.stem if path.is_file() else path.name
        for path in gateway.iterdir()
        if (path.suffix == ".py" and path.name != "__init__.py")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert children <= placed, sorted(children - placed)
