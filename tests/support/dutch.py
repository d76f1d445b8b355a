"""Find English on a Dutch console page.

A Dutch page's visible text (and its labels for screen readers) is checked for the English
side of every console message, for words that only English has, and for "GDPR" (Dutch
text writes AVG). Code, preformatted text (entries, Rego, checkpoints) and anything marked
``lang="en"`` (the EN language link) or ``translate="no"`` (organisations' names) are not
Dutch prose and are skipped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from gateway.console.i18n import MESSAGES

SKIPPED = {"code", "pre", "script", "style", "textarea", "option"}
VOID = {"br", "img", "input", "meta", "link", "hr", "wbr", "source", "col", "area", "base"}
LABELS = ("aria-label", "title", "alt", "placeholder")
# Words that a Dutch sentence never needs (Dutch shares "is", "in", "van" with nothing here).
ENGLISH_WORDS = re.compile(
    r"(?<![\w-])(the|and|with|without|which|entries|entry|allowed|denied|reason|reasons|purpose|"
    r"purposes|should|must|may|not|only|when|from|this|that|these|those|page|yes|none|"
    r"every|each|partners'|requests?|report|reported|retention|days|policy|version)(?![\w-])"
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        skip = (
            tag in SKIPPED
            or (found.get("lang") or "").startswith("en")
            or found.get("translate") == "no"  # proper names (organisations)
        )
        if not skip and not self._skipping():
            self.parts.extend(str(found[name]) for name in LABELS if found.get(name))
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping() and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


def _english_messages() -> list[str]:
    found = []
    for english, dutch in MESSAGES.values():
        text = english.split("{")[0].strip()
        if english != dutch and len(text) >= 12 and text not in dutch:
            found.append(text)
    return found


ENGLISH_MESSAGES = _english_messages()


def english_on_dutch_page(html: str) -> list[str]:
    """Fragments of the page's Dutch text that are English (empty when the page is Dutch)."""
    return [part for part in visible_text(html) if _is_english(part)]


def _is_english(part: str) -> bool:
    return (
        "GDPR" in part
        or ENGLISH_WORDS.search(part.lower()) is not None
        or any(message in part for message in ENGLISH_MESSAGES)
    )
