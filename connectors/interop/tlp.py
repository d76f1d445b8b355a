"""Traffic Light Protocol 2.0 levels, as STIX marking definitions and as MISP tags.

The ``stix2`` library only ships the TLP 1.0 markings (WHITE/GREEN/AMBER/RED of STIX 2.1
§7.2.1.4), which have no AMBER+STRICT. TLP 2.0 is expressed in STIX by the OASIS
"TLP 2.0" property extension (``extension-definition--60a3c5c5-…``) with one fixed
marking-definition object per level; their ids below are the published ones, so every
consumer that knows TLP 2.0 recognises them without trusting our copy. OpenCTI keeps its
own ids for the same levels; the ``x_opencti_definition_type``/``x_opencti_definition``
hints are what its importer reads to map the marking onto its built-in TLP marking instead
of creating a look-alike. MISP uses the ``tlp`` taxonomy, whose tags are ``tlp:<level>``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from connectors.interop.errors import ExportError

#: The OASIS TLP 2.0 property extension for STIX 2.1 marking definitions.
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#: ``created`` of every published TLP 2.0 marking definition.
TLP2_CREATED = "2022-10-01T00:00:00.000Z"


class Tlp(StrEnum):
    """A TLP 2.0 level; its value is the level as the STIX extension and MISP spell it."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"

    @property
    def label(self) -> str:
        """``TLP:AMBER+STRICT`` - the form people write and STIX uses as the marking name."""
        return f"TLP:{self.value.upper()}"

    @property
    def stix_id(self) -> str:
        return _STIX_IDS[self]

    @property
    def misp_tag(self) -> str:
        return f"tlp:{self.value}"

    @property
    def colour(self) -> str:
        """The level's colour as FIRST publishes it (MISP shows tags in their colour)."""
        return _COLOURS[self]

    def stix_marking(self) -> dict[str, Any]:
        """The marking-definition object of this level, as published with the extension."""
        return {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": self.stix_id,
            "created": TLP2_CREATED,
            "name": self.label,
            "extensions": {
                TLP2_EXTENSION_ID: {
                    "extension_type": "property-extension",
                    "tlp_2_0": self.value,
                }
            },
            "x_opencti_definition_type": "TLP",
            "x_opencti_definition": self.label,
        }


_STIX_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

_COLOURS: dict[Tlp, str] = {
    Tlp.CLEAR: "#FFFFFF",
    Tlp.GREEN: "#33FF00",
    Tlp.AMBER: "#FFC000",
    Tlp.AMBER_STRICT: "#FFC000",
    Tlp.RED: "#FF2B2B",
}

#: TLP:AMBER+STRICT - the partner's own organisation only - until settings say otherwise.
DEFAULT_TLP = Tlp.AMBER_STRICT


def parse_tlp(text: str | Tlp) -> Tlp:
    """Read a TLP level as people write it: ``amber+strict``, ``TLP:AMBER+STRICT``, ``white``.

    TLP 1.0's WHITE is read as its TLP 2.0 successor CLEAR; anything else unknown is refused
    rather than guessed, because a wrong marking is a disclosure decision.
    """
    if isinstance(text, Tlp):
        return text
    name = text.strip().lower().removeprefix("tlp:").replace("_", "+").replace(" ", "")
    if name == "white":
        return Tlp.CLEAR
    try:
        return Tlp(name)
    except ValueError:
        raise ExportError(
            "unknown TLP level (expected clear, green, amber, amber+strict or red)", field="tlp"
        ) from None
