"""Stable identifiers: the same partner, type and value give the same id on every run.

Consumers (MISP, OpenCTI) merge objects by id, so stable ids are what make a re-export an
update instead of a duplicate. The namespace is fixed forever: changing it would make
every consumer see every object as new.
"""

from __future__ import annotations

import uuid

#: ``uuid5(NAMESPACE_URL, "urn:ppsgate:interop:v1")``; documented in docs/interop.md.
PPSGATE_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ppsgate:interop:v1")

_SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in a canonical identifier


def stable_uuid(*parts: str) -> str:
    """UUIDv5 over the parts joined by a separator no identifier contains."""
    return str(uuid.uuid5(PPSGATE_UUID_NAMESPACE, _SEPARATOR.join(parts)))


def stable_id(stix_type: str, *parts: str) -> str:
    """A STIX id ``<type>--<uuid5>`` over the type and the parts."""
    return f"{stix_type}--{stable_uuid(stix_type, *parts)}"
