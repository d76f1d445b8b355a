"""The one error the export layer raises, so the CLI's single exit point can report it."""

from __future__ import annotations

from connectors.errors import ConnectorError


class ExportError(ConnectorError):
    """A record, option or mapping the exporters cannot use, or an output they cannot write.

    Like every connector error its ``reason`` never quotes an identifier: the field names
    the record (``record 12: type``) and the reason is a fixed phrase, so the message can be
    shown to a colleague or written to a log on any machine.
    """

    title = "Export error"
