"""Expected failures of the connector, each able to explain itself in one line.

The command line catches :class:`ConnectorError` in exactly one place (``connectors.cli.main``),
prints :meth:`ConnectorError.diagnostics` and exits with code 1. No error message ever
contains an identifier in the clear: reasons are fixed phrases, so they can be counted in a
summary, written to a rejects file and shown to a colleague without leaking what was rejected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.canonical.kinds import Kind


class ConnectorError(Exception):
    """Base of every expected failure; anything else is a bug and keeps its traceback."""

    title: str = "Connector error"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field

    def diagnostics(self) -> str:
        """One human line for the terminal and logs."""
        where = f"{self.field}: " if self.field else ""
        return f"{self.title}: {where}{self.reason}"


class InvalidIdentifier(ConnectorError, ValueError):  # noqa: N818 - name fixed by the hashing spec
    """A value that cannot be canonicalised; it must be rejected, never hashed as-is.

    ``reason`` is a fixed phrase a fraud analyst understands ("IBAN check digits do not
    match"); ``kind`` is the identifier type that was attempted, or ``None`` when the type
    itself could not be determined.
    """

    title = "Invalid identifier"

    def __init__(self, reason: str, *, kind: Kind | None = None) -> None:
        super().__init__(reason, field=str(kind) if kind is not None else None)
        self.kind = kind


class InputFileError(ConnectorError):
    """The input file as a whole cannot be processed (unreadable, malformed, wrong columns)."""

    title = "Input file error"


class OutputFileError(ConnectorError):
    """An output file cannot be created or written."""

    title = "Output file error"


class KeyMaterialError(ConnectorError):
    """The master salt or a type key is missing or malformed; nothing is hashed without it."""

    title = "Key material error"


class UsageError(ConnectorError):
    """A command-line option has a value the connector cannot work with."""

    title = "Usage error"
