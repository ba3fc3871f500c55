"""How output sheets look to the people who read them, as declared in workbook/layout.toml.

Every workbook salesbook writes for a person (the master's output sheets, consolidated.xlsx,
findings.xlsx, the HR workbook) takes from here: the header of each column in Chinese over English,
its number format, its width from the content (CJK characters count double), wrapping of long
text, the key columns shown first and frozen, colours by value (rating, grade, flags, a finding's
severity over the whole row) and a marker where a given grade differs from the computed one.
CSV files keep their English snake_case headers (SPEC §7); nothing here touches them.

A column the layout does not know (a sheet added later) still gets a readable look: its key as
header and a format from its values.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from ..core.findings import column_letter
from ..core.schema import load_schemas
from ..xlsm.resources import shipped_path

NUMBER_FORMATS = {
    "money": "#,##0.00",
    "wan": "#,##0.00",
    "pct": "0.0%",
    "int": "0",
    "number": "#,##0.00",
    "score": "0.00",
    "coef": "0.0",
    "date": "yyyy-mm-dd",
}
FORMATS = ("text", "id", "flag", *NUMBER_FORMATS)
FLAG_TEXT = {True: "是", False: ""}  # a flag that is not raised stays empty: the raised ones stand out
DEFAULT_MAX_WIDTH = 40.0
MIN_WIDTH = 6.0
WIDTH_SAMPLE = 2_000  # rows looked at for a column's width; enough to see the long ones
FONT = "Calibri"  # Excel's default; named so that other programs do not fall back to a serif
HEADER_FILL = "#1F4E78"
HEADER_FONT = "#FFFFFF"
MAX_LINKS = 2_000  # hyperlinks per master sheet: each is one call to Excel when the workbook is open
MAX_XLSX_LINKS = 10_000  # hyperlinks per sheet of a workbook written to a file (Excel allows 65,530)


class LookError(ValueError):
    """workbook/layout.toml declares a column look that cannot be used; the message names the entry."""


@dataclass(frozen=True)
class ColumnLook:
    """How one column of an output sheet looks."""

    key: str
    zh: str = ""
    en: str = ""
    format: str = "text"
    width: float = MIN_WIDTH
    max_width: float = DEFAULT_MAX_WIDTH
    wrap: bool = False
    palette: str = ""
    row_palette: str = ""
    differs_from: str = ""
    enum: str = ""
    blank_zero: bool = False  # 0 shown as an empty cell (the row of a finding about a whole file)
    note: str = ""

    @property
    def label(self) -> str:
        """The header cell: Chinese over English (one line when there is only one name)."""
        if self.zh and self.en and self.zh != self.en:
            return f"{self.zh}\n{self.en}"
        return self.zh or self.en or self.key

    @property
    def number_format(self) -> str | None:
        return NUMBER_FORMATS.get(self.format)


@dataclass(frozen=True)
class ColourRule:
    """A colour by value: the cell (kind "value"), its whole row ("row"), or the cell when it is filled
    in and differs from column `other` ("differs")."""

    column: int
    kind: str
    colour: str
    value: str = ""
    other: int = -1


def rule_formula(rule: ColourRule, first: int) -> str:
    """The formula of a colour rule, relative to the first data row (as stored in a file)."""
    ref = f"${column_letter(rule.column)}{first}"
    if rule.kind == "differs":
        other = f"${column_letter(rule.other)}{first}"
        return f'AND({ref}<>"",{ref}<>{other})'
    return f'{ref}="{rule.value.replace(chr(34), chr(34) * 2)}"'


@dataclass(frozen=True)
class SheetLook:
    """An output sheet's columns in display order, with how many leading columns stay frozen."""

    name: str
    columns: tuple[ColumnLook, ...]
    frozen: int = 0

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def header(self) -> list[str]:
        return [c.label for c in self.columns]

    def notes(self) -> dict[int, str]:
        return {j: c.note for j, c in enumerate(self.columns) if c.note}

    def number_formats(self) -> dict[int, str]:
        return {j: c.number_format for j, c in enumerate(self.columns) if c.number_format}

    def wrap_columns(self) -> set[int]:
        return {j for j, c in enumerate(self.columns) if c.wrap}

    def rules(self) -> list[ColourRule]:
        pal = palettes()
        keys = self.keys
        out = []
        for j, c in enumerate(self.columns):
            for value, colour in pal.get(c.palette, {}).items():
                out.append(ColourRule(j, "value", colour, value))
            for value, colour in pal.get(c.row_palette, {}).items():
                out.append(ColourRule(j, "row", colour, value))
            if c.differs_from and c.differs_from in keys:
                out.append(ColourRule(j, "differs", differs_colour(), other=keys.index(c.differs_from)))
        return out

    def display_rows(self, rows: Sequence[Sequence[object]]) -> list[list]:
        """Rows (already in display order) with each value as the sheet shows it (the sheets use `display_columns`;
        this is its per-cell reference)."""
        shows = [_shower(c) for c in self.columns]
        return [[show(v) for show, v in zip(shows, row, strict=False)] + list(row[len(shows):]) for row in rows]

    def display_columns(self, columns: Sequence[list]) -> list[list]:
        """`display_rows` a column at a time: column j (a frame column's `tolist()`) as the sheet shows it.
        A plain column of values shown as they are (text, whole numbers, dates, blanks) is kept as it is."""
        out = []
        for j, values in enumerate(columns):
            show = _shower(self.columns[j]) if j < len(self.columns) else None
            if show is None or (show is _blank and set(map(type, values)) <= _SHOWN_AS_THEY_ARE):
                out.append(values)
            else:
                out.append(list(map(show, values)))
        return out

    def widths(self, rows: Sequence[Sequence[object]]) -> dict[int, float]:
        """Column widths (in characters) that fit the header and the content, within each column's bounds.

        The header wraps: its Chinese line must fit, its English line may break between words."""
        out = {}
        sample = rows[:WIDTH_SAMPLE]
        for j, c in enumerate(self.columns):
            lines = c.label.split("\n")
            need = max([display_width(lines[0])] + [display_width(w) for line in lines[1:] for w in line.split()])
            fmt = c.format
            for v in _distinct(row[j] for row in sample if j < len(row) and row[j] is not None):
                need = max(need, display_width(shown_text(v, fmt)))
            out[j] = float(min(c.max_width, max(c.width, MIN_WIDTH, need + 2)))
        return out

    def header_lines(self, widths: dict[int, float] | None = None) -> int:
        """Lines of the tallest header cell at these widths (an English label may wrap)."""
        most = 1
        for j, c in enumerate(self.columns):
            width = (widths or {}).get(j)
            most = max(most, sum(wrapped_lines(line, width) for line in c.label.split("\n")))
        return most

    def row_heights(self, rows: Sequence[Sequence[object]], widths: dict[int, float]) -> dict[int, float]:
        """Heights (points) of the rows whose wrapped text needs more than one line (at most five)."""
        wrap = sorted(self.wrap_columns())
        out = {}
        if not wrap:
            return out
        for i, row in enumerate(rows):
            lines = max((wrapped_lines(str(row[j]), widths.get(j)) for j in wrap
                         if j < len(row) and row[j] not in (None, "")), default=1)
            if lines > 1:
                out[i] = row_height(lines)
        return out


def _distinct(values: Iterable[object]) -> list[object]:
    """The values once each (a column repeats its values); True, 1 and 1.0 stay apart."""
    values = list(values)
    if set(map(type, values)) <= {str}:
        return list(dict.fromkeys(values))
    seen: dict[object, object] = {}
    out = []
    for v in values:
        try:
            key = (v.__class__, v)
            if key in seen:
                continue
            seen[key] = v
        except TypeError:  # unhashable: kept as it is
            pass
        out.append(v)
    return out


# --------------------------------------------------------------------------- text widths


def display_width(text: str) -> int:
    """Width in Excel's character units: East Asian wide and full-width characters count double."""
    if text.isascii():  # no ASCII character is wide
        return len(text)
    return len(text) + _wide(text)


def wrapped_lines(text: str, width: float | None) -> int:
    """About how many lines `text` takes in a wrapping cell `width` characters wide."""
    if width is None:
        return text.count("\n") + 1
    room = max(1.0, width - 1.5)
    # Latin letters of Excel's default font are narrower than its character unit on average.
    return sum(max(1, math.ceil((display_width(part) - 0.25 * _narrow(part)) / room)) for part in text.split("\n"))


def _narrow(text: str) -> int:
    return len(text) if text.isascii() else len(text) - _wide(text)


_WIDE_COUNTS: dict[str, int] = {}  # text -> its wide characters: a column repeats its texts


class _WideChars(dict):
    """character -> 1 when it is East Asian wide or full-width, else 0; each character looked up once."""

    def __missing__(self, ch: str) -> int:
        wide = self[ch] = int(unicodedata.east_asian_width(ch) in ("W", "F"))
        return wide


_WIDE_CHARS = _WideChars()
_NOT_ASCII = re.compile("[^\x00-\x7f]+")  # no ASCII character is wide


def _wide(text: str) -> int:
    n = _WIDE_COUNTS.get(text)
    if n is None:
        n = sum(map(_WIDE_CHARS.__getitem__, "".join(_NOT_ASCII.findall(text))))
        if len(_WIDE_COUNTS) < 200_000:
            _WIDE_COUNTS[text] = n
    return n


def row_height(lines: int) -> float:
    """Points for a row of `lines` lines of the default font (15 points a line), at most five lines."""
    return 15.0 * min(5, max(1, lines))


def shown_text(value: object, fmt: str) -> str:
    """About what Excel shows for `value` in a cell of format `fmt` (for widths)."""
    if isinstance(value, bool):
        return FLAG_TEXT[value]
    if isinstance(value, datetime | date):
        return "2026-11-30"
    if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
        if fmt in ("money", "wan", "number"):
            return f"{value:,.2f}"
        if fmt == "pct":
            return f"{value * 100:.1f}%"
        if fmt in ("score",):
            return f"{value:.2f}"
        if fmt == "coef":
            return f"{value:.1f}"
        if fmt == "int":
            return f"{value:.0f}"
        return f"{value:g}"
    return str(value)


def display_function(col: ColumnLook) -> Callable[[object], object] | None:
    """How a column's values are shown, None when they are shown as they are (no per-cell work)."""
    if col.blank_zero or col.format in ("flag", "int") or col.enum:
        return _shower(col)
    return None


def _shower(col: ColumnLook) -> Callable[[object], object]:
    """The function that turns a frame value into what the sheet shows (flags, enums, whole numbers)."""
    if col.blank_zero:
        return lambda v: None if v == 0 and not isinstance(v, bool) else _whole(v)
    if col.format == "flag":
        return _flag
    if col.enum:
        names = enum_names(col.enum)
        return lambda v: names.get(v, v) if isinstance(v, str) else _blank(v)
    if col.format == "int":
        return _whole
    return _blank


_SHOWN_AS_THEY_ARE = {str, int, bool, type(None), date, datetime}  # what `_blank` gives back unchanged


def _flag(v: object) -> object:
    v = _blank(v)
    return (FLAG_TEXT[v] or None) if isinstance(v, bool) else v


def _blank(v: object) -> object:
    if hasattr(v, "item") and not isinstance(v, str):  # numpy scalars from a frame
        v = v.item()
    if v is None or (isinstance(v, float) and v != v):
        return None
    if type(v).__name__ in ("NAType", "NaTType"):
        return None
    return v


def _whole(v: object) -> object:
    v = _blank(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


@cache
def enum_names(enum: str) -> dict[str, str]:
    """An enum of schemas.toml: canonical English value -> Chinese name."""
    for schema in load_schemas().values():
        for col in schema.columns:
            if col.enum is not None and col.enum.name == enum:
                return {en: zh for en, zh in col.enum.values}
    raise LookError(f"workbook/layout.toml: enum {enum!r} is not in salesbook/core/schemas.toml")


# --------------------------------------------------------------------------- the layout


@cache
def _raw(path: str | None = None) -> dict:
    with open(path or shipped_path("workbook/layout.toml"), "rb") as handle:
        return tomllib.load(handle)


def palettes() -> dict[str, dict[str, str]]:
    return {k: v for k, v in _raw().get("palettes", {}).items() if isinstance(v, dict)}


def differs_colour() -> str:
    return str(_raw().get("palettes", {}).get("differs", "#F4B084"))


def colour_of(palette: str, value: str) -> str | None:
    return palettes().get(palette, {}).get(value)


@cache
def column_looks() -> dict[str, ColumnLook]:
    """[columns.*] of the layout: every known output column by its CSV name."""
    out = {}
    for key, spec in _raw().get("columns", {}).items():
        out[key] = _column(key, spec, f"[columns.{key}]")
    return out


def _column(key: str, spec: dict, where: str) -> ColumnLook:
    try:
        look = ColumnLook(key=key, **spec)
    except TypeError as exc:
        raise LookError(f"workbook/layout.toml {where}: {exc}") from None
    if look.format not in FORMATS:
        raise LookError(f"workbook/layout.toml {where}: format must be one of {', '.join(FORMATS)}")
    for name in (look.palette, look.row_palette):
        if name and name not in palettes():
            raise LookError(f"workbook/layout.toml {where}: no palette {name!r} in [palettes]")
    return look


def _sheet_entry(name: str) -> dict:
    raw = _raw()
    for entry in [*raw.get("sheets", []), *raw.get("views", [])]:
        if name in (entry.get("name"), entry.get("en")):
            return entry
    return {}


def guessed_format(values: Sequence[object]) -> str:
    """A format for a column the layout does not know, from its first values."""
    seen = [v for v in values[:200] if _blank(v) is not None]
    if not seen:
        return "text"
    if all(isinstance(v, bool) for v in seen):
        return "flag"
    if all(isinstance(v, datetime | date) for v in seen):
        return "date"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in seen):
        return "int"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in seen):
        return "number"
    return "text"


def sheet_look(name: str, keys: Sequence[str], sample: Callable[[str], Sequence[object]] | None = None) -> SheetLook:
    """The look of sheet `name` with columns `keys` (in frame order): key columns first, then the
    layout's order, then columns the layout does not list, in their frame order.

    `sample(key)` gives a column's first values, to guess a format for a column with no [columns] entry.
    """
    entry = _sheet_entry(name)
    known = column_looks()
    notes = {}
    layout_order = []
    for item in entry.get("columns", ()):
        layout_order.append(item[0])
        if len(item) > 1 and item[1]:
            notes[item[0]] = item[1]
    present = list(dict.fromkeys(str(k) for k in keys))
    key_columns = [k for k in entry.get("key_columns", ()) if k in present]
    order = key_columns + [k for k in layout_order if k in present and k not in key_columns]
    order += [k for k in present if k not in order]
    labels, formats, enums = entry.get("labels", {}), entry.get("formats", {}), entry.get("enums", {})
    colours = entry.get("palettes", {})
    columns = []
    for key in order:
        base = known.get(key)
        if base is None:
            fmt = guessed_format(sample(key)) if sample is not None else "text"
            base = ColumnLook(key=key, format=fmt)
        changes: dict[str, object] = {"note": notes.get(key, base.note)}
        if key in labels:
            changes["zh"], changes["en"] = labels[key]
        if key in formats:
            changes["format"] = formats[key]
        if key in enums:
            changes["enum"] = enums[key]
        if key in colours:
            changes["palette"], changes["row_palette"] = colours[key], ""
        columns.append(ColumnLook(**{**base.__dict__, **changes}))
    return SheetLook(name=name, columns=tuple(columns), frozen=len(key_columns))


def frozen_columns(name: str) -> int:
    """How many leading columns of layout sheet `name` are frozen (its key columns)."""
    return len(_sheet_entry(name).get("key_columns", ()))


# --------------------------------------------------------------------------- colours and links


def rule_fills(rules: Sequence[ColourRule], rows: Sequence[Sequence[object]], width: int) -> dict[int, dict[int, str]]:
    """The colour each rule gives each cell (data row index -> column -> #RRGGBB), as Excel would show
    the conditional formats: the last matching rule wins, a cell rule over a row rule."""
    out: dict[int, dict[int, str]] = {}
    row_rules = [r for r in rules if r.kind == "row"]
    cell_rules = [r for r in rules if r.kind != "row"]
    for i, row in enumerate(rows):
        fills: dict[int, str] = {}
        for r in row_rules:
            if r.column < len(row) and row[r.column] == r.value:
                fills = dict.fromkeys(range(width), r.colour)
        for r in cell_rules:
            v = row[r.column] if r.column < len(row) else None
            if r.kind == "value" and v == r.value:
                fills[r.column] = r.colour
            elif r.kind == "differs" and v not in (None, "") and v != (row[r.other] if r.other < len(row) else None):
                fills[r.column] = r.colour
        if fills:
            out[i] = fills
    return out


def file_link(path: str | Path, base: str | Path, sheet: str = "", cell: str = "") -> str:
    """A hyperlink from a workbook in folder `base` to `cell` of `sheet` in the team file at `path`:
    `../team/north.xlsx#'客户'!D17`, relative so the link survives moving the whole workspace."""
    target, cells = _link_target(str(path), str(base))
    if sheet and cell and cells:
        return f"{target}#'{sheet.replace(chr(39), chr(39) * 2)}'!{cell}"
    return target


_LINK_TARGETS: dict[tuple[str, str], tuple[str, bool]] = {}


def forget_links() -> None:
    """Forget the link targets worked out so far (a workbook being written starts afresh: files may
    have moved since the last one)."""
    _LINK_TARGETS.clear()


def _link_target(path: str, base: str) -> tuple[str, bool]:
    """(the file's path relative to `base`, as a link; whether it has cells to point at), worked out
    once per file and folder (resolving a path asks the file system)."""
    import os

    found = _LINK_TARGETS.get((path, base))
    if found is None:
        try:
            rel = os.path.relpath(Path(path).resolve(), Path(base).resolve())
        except ValueError:  # another drive on Windows: no relative path exists
            rel = str(Path(path).resolve())
        target = rel.replace(os.sep, "/").replace("%", "%25").replace(" ", "%20").replace("#", "%23")
        found = (target, Path(path).suffix.lower() not in (".csv", ".txt"))
        if len(_LINK_TARGETS) < 100_000:
            _LINK_TARGETS[(path, base)] = found
    return found


def row_link(row: dict, sources: dict[str, str], base: str | Path) -> tuple[str, str] | None:
    """Where a row of an output table points in its team file, as (column key, hyperlink): a finding's
    cell, a source row (column A of that row), or the file itself."""
    path = sources.get(row.get("file"))  # type: ignore[arg-type]
    if not path:
        return None
    sheet, cell, line = row.get("sheet"), row.get("cell"), row.get("row")
    if sheet and cell:
        return "cell", file_link(path, base, str(sheet), str(cell))
    if sheet and isinstance(line, int | float) and not isinstance(line, bool) and line == line and line > 0:
        return "row", file_link(path, base, str(sheet), f"A{int(line)}")
    return "file", file_link(path, base)


def row_links(columns: dict[str, Sequence[object]], sources: dict[str, str],
              base: str | Path) -> list[tuple[str, str] | None]:
    """`row_link` of every row of a table given as columns (any of file, sheet, cell, row; a missing
    one is blank), each file's target worked out once: the same links, without a dict per row."""
    n = max((len(v) for v in columns.values()), default=0)
    blank = [None] * n
    files, sheets, cells, lines = (columns.get(k, blank) for k in ("file", "sheet", "cell", "row"))
    base = str(base)
    targets: dict[object, tuple[str, bool] | None] = {}
    out: list[tuple[str, str] | None] = []
    for label, sheet, cell, line in zip(files, sheets, cells, lines, strict=True):
        try:
            found = targets[label]
        except KeyError:
            path = sources.get(label)  # type: ignore[call-overload]
            found = targets[label] = _link_target(str(path), base) if path else None
        if found is None:
            out.append(None)
        elif sheet and cell:
            out.append(("cell", _in_file(found, str(sheet), str(cell))))
        elif sheet and isinstance(line, int | float) and not isinstance(line, bool) and line == line and line > 0:
            out.append(("row", _in_file(found, str(sheet), f"A{int(line)}")))
        else:
            out.append(("file", found[0]))
    return out


def sheet_links(keys: list[str], frame, sources: dict[str, str], base: str | Path,
                limit: int) -> dict[tuple[int, int], str]:
    """(row, column) -> hyperlink of the first `limit` rows of an output table that point into a team
    file; the column is the one the link belongs to (file, cell or row), when the sheet shows it."""
    if "file" not in keys:
        return {}
    head = frame.head(limit)
    columns = {k: head[k].tolist() for k in ("file", "sheet", "cell", "row") if k in head.columns}
    out = {}
    for i, found in enumerate(row_links(columns, sources, base)):
        if found is not None and found[0] in keys:
            out[(i, keys.index(found[0]))] = found[1]
    return out


def _in_file(found: tuple[str, bool], sheet: str, cell: str) -> str:
    target, has_cells = found
    if sheet and cell and has_cells:
        return f"{target}#'{sheet.replace(chr(39), chr(39) * 2)}'!{cell}"
    return target


__all__ = [
    "ColourRule",
    "ColumnLook",
    "LookError",
    "MAX_LINKS",
    "NUMBER_FORMATS",
    "SheetLook",
    "colour_of",
    "column_looks",
    "display_width",
    "enum_names",
    "file_link",
    "forget_links",
    "frozen_columns",
    "palettes",
    "row_link",
    "row_links",
    "sheet_links",
    "rule_fills",
    "sheet_look",
]
