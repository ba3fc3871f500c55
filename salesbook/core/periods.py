"""Periods: a month `2026-11`, a quarter `2026-Q4`, or an ISO week `2026-W48` (weekly reports)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_WEEK = re.compile(r"^(\d{4})-?[Ww](\d{1,2})$")


class PeriodError(ValueError):
    """The period is not YYYY-MM or YYYY-Qn."""


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date

    def contains(self, d: object) -> bool:
        return isinstance(d, date) and self.start <= d <= self.end


def parse_period(text: str) -> Period:
    """`2026-11` → November 2026; `2026-Q4` → October to December 2026."""
    t = str(text).strip()
    m = _MONTH.match(t)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            raise PeriodError(f"Period '{text}': month must be 01–12 (write e.g. 2026-11 or 2026-Q4).")
        return Period(f"{y:04d}-{mo:02d}", date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1]))
    m = _QUARTER.match(t)
    if m:
        y, q = int(m.group(1)), int(m.group(2))
        first = 3 * (q - 1) + 1
        return Period(f"{y:04d}-Q{q}", date(y, first, 1), date(y, first + 2, calendar.monthrange(y, first + 2)[1]))
    m = _WEEK.match(t)
    if m:
        y, w = int(m.group(1)), int(m.group(2))
        try:
            start = date.fromisocalendar(y, w, 1)
        except ValueError:
            raise PeriodError(f"Week '{text}': {y} has no ISO week {w}.") from None
        return Period(f"{y:04d}-W{w:02d}", start, date.fromisocalendar(y, w, 7))
    raise PeriodError(f"Period '{text}' is not a month like 2026-11, a quarter like 2026-Q4 or a week like 2026-W48.")
