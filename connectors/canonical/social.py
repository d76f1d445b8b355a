"""Social media accounts: ``platform:handle``, each platform with its own rules.

The platforms, their aliases and their rules for case and allowed characters are data
(``policies/data/social_platforms.json``), shared with the gateway's policies, so that adding
a platform is a reviewed data change rather than code. A platform whose handles ignore case
(``case: lower``) has them lower-cased; ``ignore`` lists characters the platform disregards
(Facebook's dots); one leading ``@`` is dropped. Profile URLs are not read: the URL kind
exists for pages, and guessing a handle from a path would differ between connectors.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from connectors.canonical.kinds import Kind
from connectors.canonical.text import has_whitespace_or_control, trim
from connectors.errors import InvalidIdentifier

REASON_SPACES = "social media account contains spaces or control characters"
REASON_NO_PLATFORM = "social media account must be written platform:handle"
REASON_PLATFORM = "unknown platform (see social_platforms.json in the policy data)"
REASON_NO_HANDLE = "social media account has no handle after the platform"
REASON_HANDLE = "handle does not follow the platform's rules (characters or length)"

_DATA_FILE = "social_platforms.json"


@dataclass(frozen=True, slots=True)
class Platform:
    """One platform's rules for a handle."""

    name: str
    case: str
    pattern: re.Pattern[str]
    ignore: str

    def handle(self, raw: str) -> str:
        text = raw.removeprefix("@")
        if not text:
            raise InvalidIdentifier(REASON_NO_HANDLE, kind=Kind.SOCIAL_ACCOUNT)
        if not text.isascii():  # before lower(): the Kelvin sign would lower to "k"
            raise InvalidIdentifier(REASON_HANDLE, kind=Kind.SOCIAL_ACCOUNT)
        if self.case == "lower":
            text = text.lower()
        for character in self.ignore:
            text = text.replace(character, "")
        if self.pattern.fullmatch(text) is None:
            raise InvalidIdentifier(REASON_HANDLE, kind=Kind.SOCIAL_ACCOUNT)
        return text


def platforms_from_data(document: dict[str, Any]) -> dict[str, Platform]:
    """Every platform name and alias (lower case) mapped to its rules."""
    table: dict[str, Platform] = {}
    for name, entry in document["platforms"].items():
        if entry["case"] not in ("lower", "keep"):
            raise ValueError(f"platform {name}: case must be lower or keep")
        platform = Platform(name, entry["case"], re.compile(entry["pattern"]), entry["ignore"])
        for key in (name, *entry["aliases"]):
            table[key.lower()] = platform
    return table


@cache
def platforms() -> dict[str, Platform]:
    """The vocabulary shipped in ``policies/data``."""
    text = resources.files("policies").joinpath("data", _DATA_FILE).read_text("utf-8")
    return platforms_from_data(json.loads(text))


def is_platform_name(text: str) -> bool:
    return text.lower() in platforms()


def canonical_social_account(value: str) -> str:
    """``<platform>:<handle>`` (e.g. ``instagram:jan.de.vries``) or a refusal."""
    text = trim(value, Kind.SOCIAL_ACCOUNT)
    if has_whitespace_or_control(text):
        raise InvalidIdentifier(REASON_SPACES, kind=Kind.SOCIAL_ACCOUNT)
    name, colon, raw = text.partition(":")
    if not colon or not name:
        raise InvalidIdentifier(REASON_NO_PLATFORM, kind=Kind.SOCIAL_ACCOUNT)
    platform = platforms().get(name.lower())
    if platform is None:
        raise InvalidIdentifier(REASON_PLATFORM, kind=Kind.SOCIAL_ACCOUNT)
    return f"{platform.name}:{platform.handle(raw)}"
