"""Both languages are complete and every key the templates use exists."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.console.i18n import MESSAGES, Translator, negotiate

TEMPLATES = Path(__file__).resolve().parents[4] / "gateway" / "console" / "templates"
KEY = re.compile(r"""\bt\(\s*["']([a-z_.]+)["']""")


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    for key, (english, dutch) in MESSAGES.items():
        assert english.strip(), key
        assert dutch.strip(), key
        assert set(re.findall(r"{(\w+)}", english)) == set(re.findall(r"{(\w+)}", dutch)), key


def test_templates_use_only_known_keys() -> None:
    used = {key for path in TEMPLATES.glob("*.html") for key in KEY.findall(path.read_text())}
    assert used
    fixed = {key for key in used if not key.endswith(".")}
    assert sorted(fixed - set(MESSAGES)) == []
    # Keys built in templates ("decision." ~ value) need every value's message.
    for prefix, values in {
        "decision.": ("allow", "deny", "none"),
        "helpdesk.status.": ("open", "answered", "closed"),
        "role.": ("admin", "helpdesk", "partnership_dpo", "privacy_officer"),
    }.items():
        assert prefix in used
        assert all(prefix + value in MESSAGES for value in values)


def test_language_choice() -> None:
    assert negotiate("nl", "en-GB") == "nl"
    assert negotiate(None, "nl-NL,nl;q=0.9,en;q=0.8") == "nl"
    assert negotiate("xx", "fr-FR") == "en"
    assert Translator("nl")("nav.overview") == "Overzicht"
    assert Translator("en").pick({"label_en": "Bank", "label_nl": "Bank NL"}, "label") == "Bank"
