"""Errors explain themselves in one line and never carry an identifier."""

from __future__ import annotations

from connectors import InvalidIdentifier
from connectors.canonical.kinds import Kind
from connectors.errors import ConnectorError, InputFileError


def test_diagnostics_is_one_line_with_title_field_and_reason() -> None:
    error = InputFileError("line 3 is not UTF-8 text", field="input")
    assert error.diagnostics() == "Input file error: input: line 3 is not UTF-8 text"
    assert "\n" not in error.diagnostics()


def test_invalid_identifier_is_a_value_error_and_a_connector_error() -> None:
    error = InvalidIdentifier("IBAN check digits do not match", kind=Kind.IBAN)
    assert isinstance(error, ValueError)
    assert isinstance(error, ConnectorError)
    assert error.reason == "IBAN check digits do not match"
    assert error.kind is Kind.IBAN
    assert error.diagnostics() == "Invalid identifier: iban: IBAN check digits do not match"
    assert InvalidIdentifier("value is empty").diagnostics() == "Invalid identifier: value is empty"
