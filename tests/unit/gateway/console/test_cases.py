"""Search words and the identifier guard of the help desk's register."""

from __future__ import annotations

import pytest

from gateway.console.helpdesk.cases import refuse_identifiers, words
from gateway.errors import InvalidRequestError


def test_words_fold_accents_and_case() -> None:
    assert words("Fraudecategorieën: Reporter-Identity, HD-00012!") == [
        "fraudecategorieen",
        "reporter",
        "identity",
        "hd",
        "00012",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "rekening NL91 ABNA 0417 1643 00 gemeld",
        "bel 06 1234 5678",
        "mail jan@example.nl",
        "+31 20 123 4567",
    ],
)
def test_identifiers_are_refused(text: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        refuse_identifiers(text, "question")
    assert raised.value.field == "question"


@pytest.mark.parametrize(
    "text",
    [
        "meeting on 2026-11-29 at 10:00, case 12345",
        "GDPR Art. 6(1)(f), 31 reports",
        "reference MP-CASE-1001",
    ],
)
def test_ordinary_text_passes(text: str) -> None:
    refuse_identifiers(text, "question")
