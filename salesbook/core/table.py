"""Apply a sheet schema to raw rows: find the header, parse every cell, check row-level rules.

Input is what a reader gives (a list of rows of Python cell values, plus where the block starts);
output is a `SheetTable`: typed columns, where each column sits, the row numbers, the findings,
and the rows that carry an error (those are left out of every computation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import repeat
from operator import itemgetter, lt

import numpy as np
import pandas as pd

from .findings import Finding, column_letter, echo, make_finding
from .parse import PARSERS, TYPE_NAMES, PatternError, is_blank, number_hint, parse_money_wan
from .schema import ColumnSpec, SheetSchema, normalize_name

HEADER_SCAN_ROWS = 10
MAX_TEXT_CHARS = 4_000  # longer text in one cell is a finding, not data (Excel allows 32,767)
LONG_TEXT_ECHO = 50  # a too-long cell's finding shows its start, enough to find it by
TOTALS_WORDS = {normalize_name(w) for w in ("合计", "总计", "Total", "Totals", "小计合计")}


@dataclass(frozen=True)
class CheckContext:
    """What row checks need besides the schema: the file's label and the valid date window."""

    file: str
    min_date: date = date(2000, 1, 1)
    max_date: date | None = None  # as-of + max_future_days; None skips the future check
    max_text: int = MAX_TEXT_CHARS


@dataclass
class ColumnPlace:
    header: str  # as written
    index: int  # absolute 0-based column index in the sheet
    letter: str


@dataclass
class SheetTable:
    """One sheet after checks: `data` holds one list per schema key found, plus `_row`.

    Columns stay plain lists until a DataFrame is asked for (`frame`). A reader worker moves them
    into `payload` (columnar bytes, see `io.columns`) before sending the table back, and the
    parent builds one frame per kind of sheet from every file's payloads.
    """

    schema: str
    file: str
    sheet: str
    header_row: int = 0
    places: dict[str, ColumnPlace] = field(default_factory=dict)
    data: dict[str, list] | None = None
    findings: list[Finding] = field(default_factory=list)
    error_rows: set[int] = field(default_factory=set)
    usable: bool = True
    extras: list[str] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)  # column -> float64 | int64 | object
    payload: bytes | None = None  # the columns as one Arrow IPC stream, once a worker encoded them
    n_rows: int = 0  # data rows, kept when the columns move into `payload`

    @property
    def rows(self) -> int:
        return len(self.data["_row"]) if self.data else self.n_rows

    @property
    def frame(self) -> pd.DataFrame | None:
        if self.data is None:
            return None
        return pd.DataFrame({k: pd.Series(v, dtype=self.types.get(k, "object")) for k, v in self.data.items()})

    def cell(self, key: str, row: int) -> str:
        place = self.places.get(key)
        return f"{place.letter}{row}" if place else ""

    def header(self, key: str) -> str:
        place = self.places.get(key)
        return place.header if place else key


def find_header(rows: list[list], schema: SheetSchema) -> int | None:
    """Index of the first row (within the first 10) matching at least half the required columns."""
    required = schema.required
    need = max(1, math.ceil(len(required) / 2))
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        names = {normalize_name(v) for v in row if not is_blank(v)}
        hits = sum(1 for c in required if c.names & names)
        if hits >= need:
            return i
    return None


def find_header_score(rows: list[list], schema: SheetSchema) -> int:
    """How many of the schema's columns the best of the first 10 rows names (to recognise a CSV)."""
    best = 0
    for row in rows[:HEADER_SCAN_ROWS]:
        names = {normalize_name(v) for v in row if not is_blank(v)}
        best = max(best, sum(1 for c in schema.columns if c.names & names))
    return best


def _fmt_value(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def build_table(
    schema: SheetSchema,
    sheet_name: str,
    rows: list[list],
    ctx: CheckContext,
    *,
    row_offset: int = 0,
    col_offset: int = 0,
) -> SheetTable:
    """Check one sheet. `rows[0]` is sheet row `row_offset + 1`; `rows[i][0]` is column `col_offset`."""
    table = SheetTable(schema=schema.name, file=ctx.file, sheet=sheet_name)
    add = table.findings.append

    def finding(code: str, **kw) -> None:
        add(make_finding(code, file=ctx.file, sheet=sheet_name, **kw))

    if all(is_blank(v) for r in rows for v in r):  # an empty sheet has nothing, like a missing one (info)
        table.usable = False
        finding("missing-sheet")
        return table
    h = find_header(rows, schema)
    if h is None:
        table.usable = False
        english = normalize_name(sheet_name) in english_names(schema)
        for col in schema.required:
            finding("missing-column", column=col.en if english else col.zh)
        return table
    header_row = row_offset + h + 1
    table.header_row = header_row

    # Map headers to schema columns; refuse to guess when a column matches twice.
    by_name: dict[str, ColumnSpec] = {}
    for col in schema.columns:
        for n in col.names:
            by_name[n] = col
    matches: dict[str, list[tuple[int, str]]] = {}
    extras: list[tuple[int, str]] = []
    for j, raw in enumerate(rows[h]):
        if is_blank(raw):
            continue
        written = str(raw).strip()
        col = by_name.get(normalize_name(raw))
        if col is None:
            extras.append((j, written))
        else:
            matches.setdefault(col.key, []).append((j, written))
    for key, hits in matches.items():
        if len(hits) > 1:
            table.usable = False
            j, written = hits[1]
            idx = col_offset + j
            finding(
                "ambiguous-column", row=header_row, column=written,
                cell=f"{column_letter(idx)}{header_row}",
                headers=", ".join(w for _, w in hits),
            )
        j, written = hits[0]
        idx = col_offset + j
        table.places[key] = ColumnPlace(written, idx, column_letter(idx))
    english = headers_english(schema, [w for hits in matches.values() for _, w in hits], sheet_name)
    for col in schema.required:
        if col.key not in table.places:
            table.usable = False
            finding("missing-column", column=col.en if english else col.zh)  # in the language of the sheet
    for j, written in extras:
        idx = col_offset + j
        table.extras.append(written)
        finding("unknown-column", row=header_row, column=written, cell=f"{column_letter(idx)}{header_row}")
    if not table.usable:
        return table

    # Data rows: skip entirely empty rows and a trailing totals row.
    rest = rows[h + 1:]
    lengths = set(map(len, rest))
    width = max(lengths, default=0)
    if len(lengths) > 1:  # ragged rows (CSV, HTML): pad to a rectangle
        rest = [list(r) + [""] * (width - len(r)) for r in rest]
    columns = list(zip(*rest, strict=True)) if rest else []  # a column at a time, at C speed
    body = _non_empty(rest, width, columns[0] if columns else None)
    if body:
        last = rest[body[-1]]
        first_value = next((v for v in last if not is_blank(v)), None)
        if normalize_name(first_value) in TOTALS_WORDS:
            n = row_offset + h + 1 + body[-1] + 1
            first_idx = next(j for j, v in enumerate(last) if not is_blank(v))
            finding("totals-row-skipped", row=n, cell=f"{column_letter(col_offset + first_idx)}{n}",
                    value=first_value)
            body.pop()
    start = row_offset + h + 2
    row_numbers = [start + i for i in body]
    table.error_rows = errors = set()
    if len(body) != len(rest):  # the kept rows of every column: most often all but a totals row at the end
        if body == list(range(len(body))):
            columns = [c[:len(body)] for c in columns]
        elif len(body) > 1:
            pick = itemgetter(*body)
            columns = [pick(c) for c in columns]
        else:
            columns = [tuple(c[i] for i in body) for c in columns]
    width = len(columns)
    blank_column = ("",) * len(body)
    data: dict[str, list] = {"_row": row_numbers}
    table.types["_row"] = "int64"
    parsed: dict[str, list] = {}

    for col in schema.columns:
        place = table.places.get(col.key)
        if place is None:
            continue
        j = place.index - col_offset
        raw_values = columns[j] if j < width else blank_column
        parsed[col.key] = data[col.key] = _parse_column(col, raw_values, row_numbers, place, ctx, table, errors)
        table.types[col.key] = "float64" if col.type in NUMERIC_TYPES else "object"
        if col.enum is not None and schema.scope == "team":
            typed = typed_column(col, raw_values)
            if typed is not None:
                data[TYPED + col.key] = typed
        elif col.type == "pct" and schema.scope == "team":
            typed = typed_percentages(raw_values)
            if typed is not None:
                data[TYPED + col.key] = typed
    for col in schema.columns:  # date order needs both columns parsed
        if col.not_before and col.key in parsed and col.not_before in parsed:
            other = schema.column(col.not_before)
            later, earlier = parsed[col.key], parsed[col.not_before]
            place = table.places[col.key]
            if later.count(None) == len(later):  # the usual optional date: nothing to compare
                continue
            if None not in later and None not in earlier:  # every row has both dates: compared at C speed
                wrong = list(map(lt, later, earlier))
                wrong = [k for k, w in enumerate(wrong) if w] if True in wrong else []
            else:
                wrong = [k for k, (a, b) in enumerate(zip(later, earlier, strict=True))
                         if a is not None and b is not None and a < b]
            for k in wrong:
                n = row_numbers[k]
                errors.add(n)
                finding("date-order", row=n, column=place.header, cell=f"{place.letter}{n}",
                        value=later[k].isoformat(), other=table.places[other.key].header)
    for written in table.extras:  # unknown columns are kept for reports, as text
        j = next(jj for jj, v in enumerate(rows[h]) if not is_blank(v) and str(v).strip() == written)
        raw_values = columns[j] if j < width else blank_column
        if set(map(type, raw_values)) <= {str}:  # the usual case: text cells, kept as written
            values = [v if v.strip() else "" for v in raw_values]
        else:
            values = [("" if is_blank(v) else _fmt_value(v)) for v in raw_values]
        letter = column_letter(col_offset + j)
        if values and max(map(len, values)) > ctx.max_text:
            for k, v in enumerate(values):
                if len(v) > ctx.max_text:
                    n = row_numbers[k]
                    errors.add(n)
                    finding("text-too-long", row=n, column=written, cell=f"{letter}{n}",
                            value=echo(v, LONG_TEXT_ECHO), limit=ctx.max_text)
                    values[k] = ""
        data["extra:" + written] = values
    table.data = data
    return table


NUMERIC_TYPES = {"money", "number", "int", "pct"}
TYPED = "_typed:"  # prefix of the columns holding an enum cell as the rep typed it (待审, not Pending)


def typed_column(col: ColumnSpec, raw_values) -> list[str] | None:
    """An enum column's cells as typed ("" when blank), or None when every cell reads as its canonical value.

    Findings echo what the rep wrote; the canonical English value is only for the rules. Decided
    per distinct value, so a sheet typed in English (or from our drop-downs in English) costs nothing.
    """
    lookup, default = col.enum.lookup, col.default or ""
    shown: dict[object, str] = {}
    differs = False
    for v in set(raw_values):
        text = "" if is_blank(v) else _fmt_value(v).strip()
        shown[v] = text
        if text != (lookup.get(normalize_name(v), text) if text else default):
            differs = True
    return list(map(shown.get, raw_values, repeat(""))) if differs else None


def english_names(schema: SheetSchema) -> frozenset[str]:
    """The sheet's English names, normalised (Customers, customers)."""
    return frozenset({normalize_name(schema.en), normalize_name(schema.name)}) - {normalize_name(schema.zh)}


def headers_english(schema: SheetSchema, written: list[str], sheet_name: str) -> bool:
    """True when a sheet's recognised headers are mostly English (Chinese on a tie, unless the sheet is named in English)."""
    en_only, zh_only = _header_languages(schema)
    names = [normalize_name(w) for w in written]
    n_en = sum(1 for n in names if n in en_only)
    n_zh = sum(1 for n in names if n in zh_only)
    if n_en != n_zh:
        return n_en > n_zh
    return normalize_name(sheet_name) in english_names(schema)


_LANGUAGES: dict[int, tuple[SheetSchema, frozenset[str], frozenset[str]]] = {}


def _header_languages(schema: SheetSchema) -> tuple[frozenset[str], frozenset[str]]:
    """The schema's header names that are only English, and those only Chinese (an alias counts as Chinese)."""
    known = _LANGUAGES.get(id(schema))
    if known is None or known[0] is not schema:  # kept with the schema itself, so a new schema at an old id is not mistaken
        en = {normalize_name(c.en) for c in schema.columns}
        zh = {normalize_name(c.zh) for c in schema.columns} | {normalize_name(a) for c in schema.columns for a in c.aliases}
        known = _LANGUAGES[id(schema)] = (schema, frozenset(en - zh), frozenset(zh - en))
    return known[1], known[2]


def typed_percentages(raw_values) -> list[str] | None:
    """A percentage column's cells as the rep sees them ("" when blank), or None when all are blank.

    Text as typed (15%, 15); a number above 1 as itself (15); a fraction as a percentage (0.15 → 15%),
    which is how the template's percent-formatted cell shows it. Never 15.00% nor 15.000001%.
    """
    shown: dict[object, str] = {}
    for v in set(raw_values):
        if is_blank(v):
            shown[v] = ""
        elif isinstance(v, float | int) and not isinstance(v, bool) and 0 <= v <= 1:
            # to 4 decimals of a percent: a formula's 0.15000000000000002 shows as Excel shows it, 15%
            shown[v] = f"{(Decimal(repr(float(v))) * 100).quantize(Decimal('0.0001')).normalize():f}%"
        else:
            shown[v] = _fmt_value(v).strip()
    if not any(shown.values()):
        return None
    return [shown[v] for v in raw_values]


PATTERN_HINTS = {
    "phone": {"hint_zh": "应为手机号如 13812345678 或座机如 021-12345678",
              "hint_en": "write a mobile like 13812345678 or a landline like 021-12345678"},
    "email": {"hint_zh": "应为电子邮箱如 name@example.com", "hint_en": "write an e-mail like name@example.com"},
}


def _non_empty(rows: list, width: int, first=None) -> list[int]:
    """Indexes of the rows that are not entirely empty: most are decided by their first cell, read
    down the first column (`first`, when the caller has it) at once; only rows starting with a
    blank cell are looked at whole."""
    if not width:
        return []
    if first is None:
        first = [r[0] for r in rows]
    if "" not in first and None not in first:
        kinds = set(map(type, first))
        texts = first if kinds == _STR_ONLY else [v for v in first if v.__class__ is str] if str in kinds else ()
        if not any(map(str.isspace, texts)):
            return list(range(len(rows)))
    out = []
    for i, v in enumerate(first):
        if v != "" and v is not None and not (v.__class__ is str and v.isspace()):
            out.append(i)
        elif rows[i].count("") != width and not all(is_blank(c) for c in rows[i]):
            out.append(i)
    return out


_STR_ONLY = {str}


class _Fail:
    """A cell that failed a check: its finding code and message fields."""

    __slots__ = ("code", "fields", "shown")

    def __init__(self, code: str, shown: object, **fields):
        self.code, self.shown, self.fields = code, shown, fields


class _Memo(dict):
    """value -> parsed value or _Fail, filled on first sight: each distinct cell value is checked once."""

    __slots__ = ("check",)

    def __missing__(self, key):
        result = self[key] = self.check(key)
        return result


def _parse_column(col, raw_values, row_numbers, place, ctx, table, errors) -> list:
    """Parse and check one column; record findings and error rows; failed cells become None.

    A column is taken whole where it can be: text columns of text cells are stripped at once, and
    every other column is parsed once per distinct cell value (a column repeats few dates, enums
    and amounts), with the usual cell types (a date cell in a date column, a number in a money
    column) on a short path.
    """
    parser = parse_money_wan if col.unit == "wan" else PARSERS.get(col.type)
    enum = col.enum
    ctype = col.type
    lo, hi, lo_ex = col.min, col.max, col.min_exclusive
    is_date = ctype == "date"
    default = col.default
    if default is not None and ctype in NUMERIC_TYPES:
        default = float(default)
    missing = _Fail("required-missing", "") if col.required else default

    max_text = ctx.max_text
    min_date, max_date = ctx.min_date, ctx.max_date

    def check(raw: object) -> object:
        if raw is None or raw == "" or is_blank(raw):
            return missing
        if raw.__class__ is str and len(raw) > max_text:  # whatever the column's type
            return _Fail("text-too-long", echo(raw, LONG_TEXT_ECHO), limit=max_text)
        value, code = _parse_one(col, parser, enum, raw)
        if code == "bad-type":
            zh, en = TYPE_NAMES[ctype]
            return _Fail(code, raw, type_zh=zh, type_en=en, **(number_hint(raw) if ctype in NUMERIC_TYPES else {}))
        if code == "bad-enum":
            return _Fail(code, raw, allowed=enum.allowed())
        if code == "bad-pattern":
            return _Fail(code, raw, **PATTERN_HINTS[ctype])
        if code is not None:
            return _Fail(code, raw)
        return in_range(raw, value)

    def in_range(raw: object, value: object) -> object:
        if is_date:
            if value < min_date:
                return _Fail("out-of-range", value.isoformat(), limit=f"≥ {min_date.isoformat()}")
            if max_date is not None and value > max_date:
                return _Fail("out-of-range", value.isoformat(), limit=f"≤ {max_date.isoformat()}")
        elif lo is not None and value < lo:
            return _Fail("out-of-range", raw, limit=f"≥ {lo:g}")
        elif lo_ex is not None and value <= lo_ex:
            return _Fail("out-of-range", raw, limit=f"> {lo_ex:g}")
        elif hi is not None and value > hi:
            return _Fail("out-of-range", raw, limit=f"≤ {hi:g}")
        return value

    if is_date:
        def first_sight(raw: object) -> object:  # a date cell is its date (a datetime cell, its day)
            cls = raw.__class__
            if cls is date:
                return in_range(raw, raw)
            if cls is datetime:
                return in_range(raw, raw.date())
            return check(raw)
    elif ctype in ("money", "number"):
        def first_sight(raw: object) -> object:  # a number cell is its amount
            if raw.__class__ is float and -_INF < raw < _INF:
                return in_range(raw, raw)
            return check(raw)
    else:
        first_sight = check

    may_fail = True
    distinct = dict.fromkeys(raw_values) if ctype in ("id", "text") else None
    # Types over the distinct values are those of all cells when every one is text (no text equals a
    # number); a number or TRUE among them needs every cell's type (TRUE == 1 shares a key).
    all_text = distinct is not None and set(map(type, distinct)) <= _STR_ONLY
    kinds = _STR_ONLY if all_text else set(map(type, raw_values))
    if all_text:
        out, may_fail = _texts(raw_values, distinct, missing, max_text, check)
    elif distinct is not None:  # an id or text column with numbers, dates or TRUE among its cells
        out = [(v.strip() or missing) if v.__class__ is str and len(v) <= max_text else check(v)
               for v in raw_values]
    elif ctype in ("money", "number") and kinds <= {float, str} and raw_values:
        out, may_fail = _amounts(raw_values, str in kinds, check, lo, lo_ex, hi)
    elif is_date and date in kinds and bool not in kinds:
        out, may_fail = _dates(raw_values, kinds, first_sight, min_date, max_date)
    else:
        memo = _Memo()
        memo.check = first_sight
        if bool in kinds:  # TRUE must not share the memo entry of 1
            out = [check(v) if v.__class__ is bool else memo[v] for v in raw_values]
        else:
            out = list(map(memo.__getitem__, raw_values))
            may_fail = any(v.__class__ is _Fail for v in memo.values())
    if not may_fail:
        return out
    bad = [k for k, v in enumerate(out) if v.__class__ is _Fail]
    if bad:
        add = table.findings.append
        header, letter, file, sheet = place.header, place.letter, ctx.file, table.sheet
        for k in bad:
            fail = out[k]
            n = row_numbers[k]
            errors.add(n)
            add(make_finding(fail.code, file=file, sheet=sheet, row=n, column=header, cell=f"{letter}{n}",
                             value=_fmt_value(fail.shown), **fail.fields))
            out[k] = None
    return out


_INF = float("inf")


def _texts(raw_values, distinct: dict, missing, max_text: int, check) -> tuple[list, bool]:
    """A text or id column of text cells, stripped: once per distinct text when the column repeats
    (a rep id, an outcome), else each cell directly (names, notes: mostly distinct)."""
    long = bool(distinct) and max(map(len, distinct)) > max_text
    if long or len(distinct) * 2 <= len(raw_values):
        memo = {v: (v.strip() or missing) if len(v) <= max_text else check(v) for v in distinct}
        return list(map(memo.__getitem__, raw_values)), any(v.__class__ is _Fail for v in memo.values())
    out = list(map(str.strip, raw_values))
    if "" not in out:
        return out, False
    return [v or missing for v in out], missing.__class__ is _Fail


def _amounts(raw_values, has_text: bool, check, lo, lo_ex, hi) -> tuple[list, bool]:
    """A money or number column of number cells (and blank or text cells): the numbers checked as one
    array, each text cell (a blank, "1,234.50") and each number outside the range by `check`."""
    values = raw_values
    text: list[int] = []
    if has_text:
        text = [k for k, v in enumerate(raw_values) if v.__class__ is str]
        values = list(raw_values)
        for k in text:
            values[k] = 0.0  # a placeholder; the cell is checked on its own below
    a = np.array(values, dtype=float)
    bad = ~np.isfinite(a)
    if lo is not None:
        bad |= a < lo
    if lo_ex is not None:
        bad |= a <= lo_ex
    if hi is not None:
        bad |= a > hi
    out = a.tolist()
    checked: dict[object, object] = {}  # text cells repeat (blanks above all): once per distinct text
    for k in text:
        v = raw_values[k]
        out[k] = checked[v] if v in checked else checked.setdefault(v, check(v))
    text_set = set(text)
    fails = False
    for k in np.flatnonzero(bad).tolist():
        if k not in text_set:
            out[k] = check(raw_values[k])
            fails = True
    return out, fails or any(v.__class__ is _Fail for v in checked.values())


def _dates(raw_values, kinds: set, first_sight, min_date: date, max_date: date | None) -> tuple[list, bool]:
    """A date column of date cells (and blank, text or number cells): as the memo would give it, but
    the date cells, when every one lies in the window, are themselves without a check each."""
    seen = dict.fromkeys(raw_values)  # each distinct value once, as first seen
    dates = seen if kinds == _DATE_ONLY else [v for v in seen if v.__class__ is date]
    if min(dates) < min_date or (max_date is not None and max(dates) > max_date):
        memo = {v: first_sight(v) for v in seen}  # some out of the window: every value checked
    else:
        memo = dict(zip(dates, dates, strict=True))
        if len(memo) != len(seen):
            for v in seen:
                if v.__class__ is not date:
                    memo[v] = first_sight(v)
    return list(map(memo.__getitem__, raw_values)), any(v.__class__ is _Fail for v in memo.values())


_DATE_ONLY = {date}


def _parse_one(col: ColumnSpec, parser, enum, raw) -> tuple[object, str | None]:
    if enum is not None:
        canon = enum.lookup.get(normalize_name(raw))
        return (canon, None) if canon is not None else (None, "bad-enum")
    try:
        return parser(raw), None
    except PatternError:
        return None, "bad-pattern"
    except (ValueError, OverflowError):
        return None, "bad-type"

