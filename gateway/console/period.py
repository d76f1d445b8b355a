"""The period a privacy officer reviews: a quarter, a month, a few recent days, or dates.

One parser for the overview and the regulator's report, so both pages state the same
period for the same link. Periods are whole UTC days, start inclusive and end exclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from gateway.errors import InvalidRequestError

QUARTER = re.compile(r"^(?P<year>\d{4})-Q(?P<q>[1-4])$")
MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])$")
RECENT = re.compile(r"^(?P<days>\d{1,2})d$")
MAX_DAYS = 400
PICKER_QUARTERS = 6
PICKER_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Period:
    """``kind`` is quarter, month, recent or custom; ``key`` is what the picker sends."""

    kind: str
    key: str
    start: datetime
    end: datetime
    first_day: date
    last_day: date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def query(self) -> dict[str, str]:
        """The period as link parameters (the same on the overview and the report)."""
        if self.kind == "custom":
            return {
                "period": "custom",
                "since": self.first_day.isoformat(),
                "until": self.last_day.isoformat(),
            }
        return {"period": self.key}


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _make(kind: str, key: str, first: date, after: date) -> Period:
    return Period(kind, key, _midnight(first), _midnight(after), first, after - timedelta(days=1))


def quarter(year: int, number: int) -> Period:
    first = date(year, 3 * number - 2, 1)
    after = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return _make("quarter", f"{year}-Q{number}", first, after)


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    after = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return _make("month", f"{year}-{number:02d}", first, after)


def recent(days: int, now: datetime) -> Period:
    first = now.date() - timedelta(days=days - 1)
    return _make("recent", f"{days}d", first, now.date() + timedelta(days=1))


def _day(value: str | None, field: str) -> date:
    text = (value or "").strip()
    if not text:
        raise InvalidRequestError("is required for a custom period (YYYY-MM-DD)", field=field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequestError("must be a date as YYYY-MM-DD", field=field) from None


def custom(since: str | None, until: str | None) -> Period:
    first, last = _day(since, "since"), _day(until, "until")
    if last < first:
        raise InvalidRequestError("is before the start date", field="until")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidRequestError(f"a period spans at most {MAX_DAYS} days", field="until")
    key = f"{first.isoformat()}..{last.isoformat()}"
    return _make("custom", key, first, last + timedelta(days=1))


def parse_period(
    value: str | None, *, since: str | None, until: str | None, now: datetime, default: str
) -> Period:
    """The period named by the picker's ``period`` field (or ``default`` when empty)."""
    text = (value or "").strip() or default
    if text == "custom":
        return custom(since, until)
    if found := QUARTER.match(text):
        return quarter(int(found["year"]), int(found["q"]))
    if found := MONTH.match(text):
        return month(int(found["year"]), int(found["month"]))
    if (found := RECENT.match(text)) and 1 <= int(found["days"]) <= 90:
        return recent(int(found["days"]), now)
    raise InvalidRequestError(
        "must be a quarter (2026-Q4), a month (2026-11), 1d-90d or custom", field="period"
    )


def current_quarter_key(now: datetime) -> str:
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def choices(now: datetime) -> tuple[list[Period], list[Period]]:
    """The picker's quarters and months, newest first."""
    quarters, year, number = [], now.year, (now.month - 1) // 3 + 1
    for _ in range(PICKER_QUARTERS):
        quarters.append(quarter(year, number))
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
    months, year, number = [], now.year, now.month
    for _ in range(PICKER_MONTHS):
        months.append(month(year, number))
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return quarters, months
