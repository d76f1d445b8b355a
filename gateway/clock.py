"""Time as an injected service, so retention and expiry can be tested without sleeping."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Protocol

from pydantic import BeforeValidator


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(tz=UTC)


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso_only(value: object) -> object:
    """Refuse what pydantic would otherwise read as Unix seconds (``until=0.5``)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise ValueError("must be an ISO 8601 date and time, e.g. 2026-01-31T00:00:00Z")


#: A date and time given as ISO 8601 text; numbers are not taken as Unix timestamps.
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only)]
