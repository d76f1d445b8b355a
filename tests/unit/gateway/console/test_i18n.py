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
        "review.event.": ("disputes_filed", "disputes_resolved", "retractions", "subject_access"),
        "helpdesk.asked_as.": ("partner", "sector"),
    }.items():
        assert prefix in used
        assert all(prefix + value in MESSAGES for value in values)


def test_language_choice() -> None:
    assert negotiate("nl", "en-GB") == "nl"
    assert negotiate(None, "nl-NL,nl;q=0.9,en;q=0.8") == "nl"
    assert negotiate("xx", "fr-FR") == "en"
    assert Translator("nl")("nav.overview") == "Overzicht"
    assert Translator("en").pick({"label_en": "Bank", "label_nl": "Bank NL"}, "label") == "Bank"


def test_every_code_the_pages_name_has_a_message_in_both_languages() -> None:
    import json

    from gateway.audit_trail.events import Activity, AuditTag
    from gateway.policy.decision import Action

    data = TEMPLATES.parents[2] / "policies" / "data"
    purposes = json.loads((data / "purposes.json").read_text()).values()
    codes = {f"tag.{tag.value}" for tag in AuditTag}
    codes |= {f"activity.{item.value}" for item in Activity}
    codes |= {f"action.{item.value}" for item in Action}
    codes |= {f"action.{action}" for p in purposes for action in p.get("actions", [])}
    codes |= {f"kind.{kind}" for p in purposes for kind in p.get("kinds", [])}
    codes |= {
        f"disclosure.{level}"
        for p in purposes
        for levels in (p.get("disclosure") or {}).values()
        for level in levels
    }
    assert sorted(codes - set(MESSAGES)) == []


def test_legal_references_are_cited_the_dutch_way() -> None:
    from gateway.console.i18n import dutch_article

    assert dutch_article("GDPR Art. 6(1)(f)") == "AVG art. 6 lid 1 sub f"
    assert dutch_article("GDPR Art. 5(2), 24, 30 and 39") == "AVG art. 5 lid 2, 24, 30 en 39"
    assert dutch_article("GDPR Art. 10; UAVG art. 33(4)(c)") == (
        "AVG art. 10; UAVG art. 33 lid 4 sub c"
    )
    assert dutch_article("Directive (EU) 2016/680") == "Richtlijn (EU) 2016/680"
    assert Translator("en").article("GDPR Art. 25") == "GDPR Art. 25"
