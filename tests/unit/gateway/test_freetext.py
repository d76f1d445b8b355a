"""The one identifier guard of every free-text field (gateway.freetext)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from connectors.canonical import Kind
from gateway.errors import InvalidRequestError
from gateway.freetext import FreeText, find_identifier, refuse_identifiers


class _Body(BaseModel):
    reason: FreeText


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("rekening NL91 ABNA 0417 1643 00 gemeld", Kind.IBAN),
        ("IBAN:NL91ABNA0417164300", Kind.IBAN),
        ("bel 06 1234 5678", Kind.PHONE),
        ("tel=0612345678", Kind.PHONE),
        ("(020) 123 4567", Kind.PHONE),
        ("+31 20 123 4567", Kind.PHONE),
        ("mail jan@example.nl", Kind.EMAIL),
    ],
)
def test_identifiers_are_found_with_their_kind(text: str, kind: Kind) -> None:
    assert find_identifier(text) is kind


@pytest.mark.parametrize(
    "text",
    [
        "seller delivered after all",
        "meeting on 2026-11-29 at 10:00, case 12345",
        "GDPR Art. 6(1)(f), 31 reports",
        "reference MP-CASE-1001",
        "case 201234567",  # a bare number is a case number, not a phone number as written
    ],
)
def test_ordinary_text_passes(text: str) -> None:
    assert find_identifier(text) is None
    refuse_identifiers(text, "note")


def test_refusal_names_field_and_kind_never_the_value() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        refuse_identifiers("call 06 1234 5678", "note")
    assert raised.value.field == "note"
    assert "kind phone" in raised.value.reason
    assert "1234" not in raised.value.reason


def test_schema_field_gives_a_validation_error_with_the_kind() -> None:
    with pytest.raises(ValidationError) as raised:
        _Body(reason="paid to NL91ABNA0417164300")
    (error,) = raised.value.errors()
    assert error["type"] == "identifier_in_free_text"
    assert error["loc"] == ("reason",)
    assert "kind iban" in error["msg"]
    assert "NL91" not in error["msg"]
