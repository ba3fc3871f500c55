"""Rules the clean demo data must satisfy (grades, company names, periods) and the row shape."""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date


def compute_grade(
    size: str | None, potential: float | None, willingness: str | None, history: float | None
) -> str:
    """The customer grade of SPEC §5 from size, potential and history (10k CNY) and willingness."""
    points = {"Large": 40, "Medium": 30, "Small": 20, "Micro": 10}.get(size or "", 0)
    p = potential or 0
    points += 30 if p >= 500 else 20 if p >= 100 else 10 if p >= 20 else 0
    points += {"High": 20, "Medium": 10}.get(willingness or "", 0)
    h = history or 0
    points += 10 if h >= 100 else 5 if h > 0 else 0
    return "A" if points >= 80 else "B" if points >= 60 else "C" if points >= 40 else "D"


_SUFFIX_RE = re.compile(r"(股份有限公司|有限责任公司|有限公司|公司|co\.,ltd\.?|co\.ltd\.?|ltd\.?)$")


def normalise_company(name: str) -> str:
    """A company name as compared for `customer-conflict`: NFKC, no whitespace, casefolded, no suffix."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()
    return _SUFFIX_RE.sub("", text)


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a period such as '2026-11' or '2026-Q4'."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", period.strip())
    if m:
        y, mo = int(m[1]), int(m[2])
        first_month = last_month = mo
    else:
        m = re.fullmatch(r"(\d{4})-[Qq]([1-4])", period.strip())
        if not m:
            raise ValueError(f"Period {period!r} is not like 2026-11 or 2026-Q4.")
        y, q = int(m[1]), int(m[2])
        first_month, last_month = 3 * q - 2, 3 * q
    if not 1 <= last_month <= 12:
        raise ValueError(f"Period {period!r} has no such month.")
    return date(y, first_month, 1), date(y, last_month, calendar.monthrange(y, last_month)[1])


def _row(**values: object) -> dict:
    """A demo row: schema keys plus `_d`, the (column, code) defects it carries."""
    values.setdefault("_d", [])
    return dict(values)
