"""TLP 2.0 levels: read as people write them, published STIX ids, MISP tags."""

from __future__ import annotations

import pytest
import stix2

from connectors.interop.errors import ExportError
from connectors.interop.tlp import DEFAULT_TLP, TLP2_EXTENSION_ID, Tlp, parse_tlp


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("amber+strict", Tlp.AMBER_STRICT),
        ("TLP:AMBER+STRICT", Tlp.AMBER_STRICT),
        (" tlp:amber_strict ", Tlp.AMBER_STRICT),
        ("red", Tlp.RED),
        ("TLP:CLEAR", Tlp.CLEAR),
        ("white", Tlp.CLEAR),
        ("Green", Tlp.GREEN),
        (Tlp.AMBER, Tlp.AMBER),
    ],
)
def test_levels_are_read_as_written(text: str | Tlp, level: Tlp) -> None:
    assert parse_tlp(text) is level


@pytest.mark.parametrize("text", ["", "orange", "amber+", "tlp:ex:chr"])
def test_unknown_levels_are_refused(text: str) -> None:
    with pytest.raises(ExportError) as caught:
        parse_tlp(text)
    assert caught.value.field == "tlp"


def test_default_is_amber_strict() -> None:
    assert DEFAULT_TLP is Tlp.AMBER_STRICT
    assert DEFAULT_TLP.label == "TLP:AMBER+STRICT"
    assert DEFAULT_TLP.misp_tag == "tlp:amber+strict"


def test_published_tlp2_marking_ids() -> None:
    # The ids of the OASIS TLP 2.0 extension's marking-definition objects.
    assert {level.value: level.stix_id.removeprefix("marking-definition--") for level in Tlp} == {
        "clear": "94868c89-83c2-464b-929b-a1a8aa3c8487",
        "green": "bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "amber": "55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "amber+strict": "939a9414-2ddd-4d32-a0cd-375ea402b003",
        "red": "e828b379-4e03-4974-9ac4-e53a884c97c1",
    }


@pytest.mark.parametrize("level", list(Tlp))
def test_markings_parse_as_stix(level: Tlp) -> None:
    marking = stix2.parse(level.stix_marking(), allow_custom=True)
    assert marking.id == level.stix_id
    assert marking.name == level.label
    assert marking.extensions[TLP2_EXTENSION_ID]["tlp_2_0"] == level.value
    assert marking["x_opencti_definition"] == level.label
