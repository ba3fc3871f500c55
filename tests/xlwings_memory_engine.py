"""An in-memory xlwings engine for tests: the real `xlwings.main` object model over a dict of cells.

Built on xlwings' open-source (BSD) `xlwings.base_classes`, the same interface the Windows and
macOS engines implement; nothing from `xlwings.pro` is imported. With the engine active,
`xw.Book(path)` opens a .xlsx/.xlsm through `Apps.add` / `Books.open` (its values and notes are
loaded with openpyxl), `book.set_mock_caller()` and `xw.Book.caller()` work as in Excel, and every
read and write goes through xlwings' own conversion pipeline (`Range.value`, `resize`, chunking,
`prepare_xl_data_element` / `clean_value_data`).

The model behaves like Excel where salesbook depends on it:

- numbers are doubles: an int written comes back as a float;
- a string written through `.value` is parsed as if typed (`coerce_text=True`, the default):
  "001" becomes 1.0, "2026-11-30" a date, "TRUE" a boolean, "=A1" a formula; a leading
  apostrophe keeps the text as it is and is not part of the value. This is a small en-US-like
  model of Excel's parsing, not all of it;
- the used range covers formatted and annotated cells too, and starts at its first used cell;
- `Sheet.clear()` removes values, formats, notes and hyperlinks, not charts, column widths or row heights;
- column widths are in characters (8.43 by default) and positions in points, as Excel converts them
  (a column of w characters is round(7 w + 5) pixels of 0.75 points); `rows.autofit()` sizes rows
  of wrapped text by the number of lines their text needs at the column width;
- a hyperlink added with a text to display stores that text as the cell's value, not parsed;
- values of a type COM cannot carry (a Path, a list in a cell, ...) raise TypeError.

Anything salesbook does not need raises NotImplementedError naming the class and member.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import itertools
import math
import os
import re
import textwrap
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import xlwings as xw
import xlwings.main as xwmain
from xlwings import base_classes as base
from xlwings.utils import col_name, hex_to_rgb, int_to_rgb

ENGINE_NAME = "memory"
MAX_ROWS, MAX_COLS = 1_048_576, 16_384
COLUMN_WIDTH_PT, ROW_HEIGHT_PT = 48.0, 15.0  # Excel's defaults: 8.43 characters, 15 points
DEFAULT_COLUMN_WIDTH = 8.43


def column_points(width: float) -> float:
    """Points of a column `width` characters wide (Excel: whole pixels of 7 per character plus 5)."""
    return round(width * 7 + 5) * 0.75


# ----------------------------------------------------------------------------- strictness


def _only_raises_not_implemented(func) -> bool:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return False
    fn = tree.body[0]
    body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return (len(body) == 1 and isinstance(body[0], ast.Raise) and body[0].exc is not None
            and "NotImplementedError" in ast.unparse(body[0].exc))


def _missing(owner: str, member: str):
    def fail(*_args, **_kwargs):
        raise NotImplementedError(
            f"xlwings memory engine: {owner}.{member} is not implemented "
            "(the test engine implements only what salesbook uses)"
        )

    return fail


def strict(cls):
    """Replace every base-class member that only raises NotImplementedError() with one that says which."""
    for name in dir(cls):
        if name.startswith("__") and name not in ("__call__", "__len__", "__iter__", "__getitem__", "__contains__"):
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or owner.__module__ != base.__name__:
            continue
        attr = vars(owner)[name]
        if isinstance(attr, property):
            getter = attr.fget and _only_raises_not_implemented(attr.fget)
            setter = attr.fset is not None
            if getter or setter:
                setattr(cls, name, property(_missing(cls.__name__, name) if getter else attr.fget,
                                            _missing(cls.__name__, name + " (setter)") if setter else None))
        elif isinstance(attr, staticmethod):
            if _only_raises_not_implemented(attr.__func__):
                setattr(cls, name, staticmethod(_missing(cls.__name__, name)))
        elif callable(attr) and _only_raises_not_implemented(attr):
            setattr(cls, name, _missing(cls.__name__, name))
    return cls


# ----------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Formula:
    """A string Excel would have taken as a formula: the engine does not calculate."""

    text: str


@dataclass
class ChartModel:
    name: str
    left: float
    top: float
    width: float
    height: float
    chart_type: str | None = None
    source: tuple[str, int, int, int, int] | None = None  # sheet, row, column, rows, columns
    plot_by: str | None = None
    title: str | None = None
    style: int | None = None


@dataclass
class SheetModel:
    name: str
    values: dict[tuple[int, int], Any] = field(default_factory=dict)
    formats: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)  # color, bold, ...
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    charts: list[ChartModel] = field(default_factory=list)
    chart_counter: int = 0
    column_widths: dict[int, float] = field(default_factory=dict)  # column -> characters
    row_heights: dict[int, float] = field(default_factory=dict)  # row -> points
    links: dict[tuple[int, int], str] = field(default_factory=dict)  # cell -> hyperlink address
    visible: bool = True

    def column_left(self, column: int) -> float:
        return sum(column_points(self.column_widths.get(c, DEFAULT_COLUMN_WIDTH)) for c in range(1, column))

    def row_top(self, row: int) -> float:
        custom = sum(h for r, h in self.row_heights.items() if r < row)
        return custom + ROW_HEIGHT_PT * (row - 1 - sum(1 for r in self.row_heights if r < row))

    def used_box(self) -> tuple[int, int, int, int] | None:
        keys = list(self.values) + [k for k, f in self.formats.items() if f] + list(self.notes)
        if not keys:
            return None
        rows, cols = [k[0] for k in keys], [k[1] for k in keys]
        return min(rows), min(cols), max(rows), max(cols)

    def grid(self) -> list[list]:
        """Values from A1 to the last used cell (formats and notes count as used, as in Excel)."""
        box = self.used_box()
        if box is None:
            return []
        _, _, r2, c2 = box
        return [[self.values.get((r, c)) for c in range(1, c2 + 1)] for r in range(1, r2 + 1)]


@dataclass
class BookModel:
    name: str
    fullname: str
    sheets: list[SheetModel] = field(default_factory=list)
    active: int = 0

    def sheet(self, name: str) -> SheetModel:
        for s in self.sheets:
            if s.name.lower() == name.lower():
                return s
        raise KeyError(name)


@dataclass
class AppModel:
    """What a test wants to know about Excel's application state, with its history."""

    pid: int
    visible: bool = False
    screen_updating: bool = True
    display_alerts: bool = True
    enable_events: bool = True
    calculation: str = "automatic"
    status_bar: str | bool = False
    interactive: bool = True
    alerts: list[dict] = field(default_factory=list)
    log: list[tuple[str, Any, dict]] = field(default_factory=list)  # (property, value, state before)

    def state(self) -> dict:
        return {"screen_updating": self.screen_updating, "calculation": self.calculation,
                "status_bar": self.status_bar, "display_alerts": self.display_alerts,
                "enable_events": self.enable_events}

    def set(self, prop: str, value: Any) -> None:
        self.log.append((prop, value, self.state()))
        setattr(self, prop, value)


def load_workbook_model(path: str | os.PathLike) -> BookModel:
    """A .xlsx/.xlsm as Excel would show it: cached values (numbers as floats) and notes."""
    import openpyxl

    path = os.path.realpath(path)
    wb = openpyxl.load_workbook(path, data_only=True)
    book = BookModel(name=os.path.basename(path), fullname=path)
    for ws in wb.worksheets:
        sheet = SheetModel(ws.title, visible=ws.sheet_state == "visible")
        from openpyxl.utils import column_index_from_string

        for letter, dim in ws.column_dimensions.items():
            if dim.customWidth and dim.width:
                for col in range(column_index_from_string(letter) if dim.min is None else dim.min,
                                 (column_index_from_string(letter) if dim.max is None else dim.max) + 1):
                    sheet.column_widths[col] = float(dim.width)
        for r, dim in ws.row_dimensions.items():
            if dim.height is not None:
                sheet.row_heights[r] = float(dim.height)
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None and cell.value != "":
                    sheet.values[(cell.row, cell.column)] = _stored(cell.value, coerce_text=False)
                if cell.comment is not None:
                    sheet.notes[(cell.row, cell.column)] = cell.comment.text
        book.sheets.append(sheet)
    book.active = wb.worksheets.index(wb.active) if wb.active in wb.worksheets else 0
    wb.close()
    return book


# ------------------------------------------------------------------ Excel's typed-entry parsing

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_DATETIME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_YEAR_MONTH = re.compile(r"(\d{4})[-/](\d{1,2})")


def excel_parse(text: str) -> Any:
    """What a string assigned to Range.Value becomes in (en-US) Excel."""
    if text == "":
        return None
    if text.startswith("'"):
        return text[1:] or None
    if text.startswith("=") and len(text) > 1:
        return Formula(text)
    s = text.strip()
    if s.upper() in ("TRUE", "FALSE"):
        return s.upper() == "TRUE"
    pct = s.endswith("%")
    core = s[:-1].strip() if pct else s
    if _NUMBER.fullmatch(core) or _GROUPED.fullmatch(core):
        number = float(core.replace(",", ""))
        if math.isfinite(number):
            return number / 100 if pct else number
    try:
        if m := _DATETIME.fullmatch(s):
            return dt.datetime(*(int(g or 0) for g in m.groups()))
        if m := _DATE.fullmatch(s):
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]))
        if m := _YEAR_MONTH.fullmatch(s):
            return dt.datetime(int(m[1]), int(m[2]), 1)
    except ValueError:
        pass  # not a real date (2026-02-30): stays text
    return text


def _stored(value: Any, *, coerce_text: bool) -> Any:
    """A Python value as the cell holds it, or TypeError for what COM cannot carry."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                           value.microsecond)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        if len(value) > 32767:
            raise ValueError(f"Excel cells hold at most 32,767 characters, got {len(value)}")
        return excel_parse(value) if coerce_text else (value or None)
    raise TypeError(f"Objects of type {type(value).__name__!r} can not be converted to a COM VARIANT")


def _rgb(colour) -> tuple[int, int, int] | None:
    if colour is None:
        return None
    if isinstance(colour, str):
        return tuple(hex_to_rgb(colour))
    if isinstance(colour, int):
        return tuple(int_to_rgb(colour))
    r, g, b = colour
    return int(r), int(g), int(b)


# ----------------------------------------------------------------------------- engine impl


@strict
class Engine:
    """The engine `impl`: what `xlwings.main.Engine` and the conversion pipeline call."""

    def __init__(self, *, coerce_text: bool = True, max_cells_per_write: int | None = base.DEFAULT_MAX_CELLS_PER_WRITE):
        self.coerce_text = coerce_text
        self.max_cells_per_write = max_cells_per_write  # xlwings chunks larger writes into row blocks
        self._apps = Apps(self)

    @property
    def apps(self) -> Apps:
        return self._apps

    @property
    def name(self) -> str:
        return ENGINE_NAME

    @property
    def type(self) -> str:
        return "desktop"  # behaves like the Windows/macOS engines in the conversion pipeline

    @staticmethod
    def prepare_xl_data_element(x, options):
        """As the Windows engine: None/NaN/NA → "" (an empty cell), numpy numbers → float."""
        if isinstance(x, dt.datetime | dt.date | dt.time):
            return x
        if x is None:
            return ""
        if isinstance(x, float) and math.isnan(x):
            return ""
        try:
            import numpy as np
            import pandas as pd

            if not isinstance(x, list | tuple | dict | set) and pd.isna(x) is True:
                return ""
            if isinstance(x, np.bool_):
                return bool(x)
            if isinstance(x, np.number):
                return float(x)
            if isinstance(x, np.datetime64):
                return pd.Timestamp(x).to_pydatetime()
        except ImportError:  # pragma: no cover
            pass
        return x

    @staticmethod
    def clean_value_data(data, datetime_builder, empty_as, number_builder, err_to_str):
        def clean(c):
            if c in ("", None):
                return empty_as
            if isinstance(c, Formula):
                return c.text if err_to_str else None
            if isinstance(c, dt.datetime) and datetime_builder is not dt.datetime:
                return datetime_builder(year=c.year, month=c.month, day=c.day, hour=c.hour, minute=c.minute,
                                        second=c.second, microsecond=c.microsecond)
            if number_builder is not None and isinstance(c, float):
                return number_builder(c)
            return c

        return [[clean(c) for c in row] for row in data]


@strict
class Apps(base.Apps):
    _pids = itertools.count(90001)

    def __init__(self, engine: Engine):
        self.engine = engine
        self._apps: list[App] = []  # the first one is the active one

    def keys(self):
        return [a.pid for a in self._apps]

    def add(self, spec=None, add_book=None, xl=None, visible=None):
        app = App(self, AppModel(pid=next(self._pids)))
        self._apps.insert(0, app)
        if add_book:
            app.books.add()
        return app

    def __iter__(self):
        return iter(list(self._apps))

    def __len__(self):
        return len(self._apps)

    def __getitem__(self, pid):
        for a in self._apps:
            if a.pid == pid:
                return a
        raise KeyError(pid)


@strict
class App(base.App):
    def __init__(self, apps: Apps, model: AppModel):
        self.apps, self.model = apps, model
        self._books = Books(self)

    @property
    def engine(self) -> Engine:
        return self.apps.engine

    @property
    def pid(self):
        return self.model.pid

    @property
    def version(self):
        return "16.0"

    @property
    def books(self):
        return self._books

    @property
    def visible(self):
        return self.model.visible

    @visible.setter
    def visible(self, value):
        self.model.set("visible", bool(value))

    @property
    def screen_updating(self):
        return self.model.screen_updating

    @screen_updating.setter
    def screen_updating(self, value):
        self.model.set("screen_updating", bool(value))

    @property
    def display_alerts(self):
        return self.model.display_alerts

    @display_alerts.setter
    def display_alerts(self, value):
        self.model.set("display_alerts", bool(value))

    @property
    def enable_events(self):
        return self.model.enable_events

    @enable_events.setter
    def enable_events(self, value):
        self.model.set("enable_events", bool(value))

    @property
    def interactive(self):
        return self.model.interactive

    @interactive.setter
    def interactive(self, value):
        self.model.set("interactive", bool(value))

    @property
    def calculation(self):
        return self.model.calculation

    @calculation.setter
    def calculation(self, value):
        if value not in ("automatic", "manual", "semiautomatic"):
            raise ValueError(f"calculation must be automatic, manual or semiautomatic, got {value!r}")
        self.model.set("calculation", value)

    @property
    def status_bar(self):
        return self.model.status_bar

    @status_bar.setter
    def status_bar(self, value):
        if not isinstance(value, str) and value is not False:
            raise TypeError(f"status_bar takes a string or False, got {value!r}")
        self.model.set("status_bar", value)

    def alert(self, prompt, title, buttons, mode, callback):
        self.model.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode,
                                  "state": self.model.state()})
        return {"ok": "ok", "ok_cancel": "ok", "yes_no": "yes", "yes_no_cancel": "yes"}[buttons]

    def calculate(self):
        pass

    def activate(self, steal_focus=False):
        self.apps._apps.remove(self)
        self.apps._apps.insert(0, self)

    def quit(self):
        self.apps._apps.remove(self)

    def kill(self):
        self.quit()


@strict
class Books(base.Books):
    def __init__(self, app: App):
        self.app = app
        self._books: list[Book] = []
        self._untitled = itertools.count(1)

    @property
    def active(self):
        return self._books[-1] if self._books else None

    def __call__(self, name_or_index):
        if isinstance(name_or_index, int):
            return self._books[name_or_index - 1]
        for b in self._books:
            if b.name.lower() == str(name_or_index).lower():
                return b
        raise KeyError(name_or_index)

    def __len__(self):
        return len(self._books)

    def __iter__(self):
        return iter(list(self._books))

    def add(self):
        name = f"Book{next(self._untitled)}"
        book = Book(self.app, BookModel(name=name, fullname=name, sheets=[SheetModel("Sheet1")]))
        self._books.append(book)
        return book

    def open(self, fullname=None, *args, **kwargs):
        book = Book(self.app, load_workbook_model(fullname))
        self._books.append(book)
        return book


@strict
class Book(base.Book):
    def __init__(self, app: App, model: BookModel):
        self._app, self.model = app, model

    @property
    def api(self):
        return self.model

    @property
    def name(self):
        return self.model.name

    @property
    def fullname(self):
        return self.model.fullname

    @property
    def app(self):
        return self._app

    @property
    def sheets(self):
        return Sheets(self)

    def activate(self):
        books = self._app.books._books
        books.remove(self)
        books.append(self)

    def close(self):
        self._app.books._books.remove(self)


_BAD_SHEET_CHARS = set("\\/?*[]:")


def _check_sheet_name(name: str) -> None:
    if not name or len(name) > 31 or _BAD_SHEET_CHARS & set(name) or name.startswith("'") or name.endswith("'"):
        raise ValueError(f"Excel does not accept the sheet name {name!r}")


@strict
class Sheets(base.Sheets):
    def __init__(self, book: Book):
        self.book = book

    @property
    def api(self):
        return self.book.model.sheets

    @property
    def active(self):
        return Sheet(self.book, self.book.model.sheets[self.book.model.active])

    def __call__(self, name_or_index):
        models = self.book.model.sheets
        if isinstance(name_or_index, int):
            if not 1 <= name_or_index <= len(models):
                raise IndexError(f"sheet index {name_or_index} out of range (1..{len(models)})")
            return Sheet(self.book, models[name_or_index - 1])
        return Sheet(self.book, self.book.model.sheet(name_or_index))

    def __contains__(self, name):
        return any(s.name.lower() == str(name).lower() for s in self.book.model.sheets)

    def __len__(self):
        return len(self.book.model.sheets)

    def __iter__(self):
        return iter([Sheet(self.book, s) for s in self.book.model.sheets])

    def add(self, before=None, after=None, name=None):
        models = self.book.model.sheets
        if name is None:
            taken = {s.name.lower() for s in models}
            name = next(f"Sheet{i}" for i in itertools.count(1) if f"sheet{i}" not in taken)
        _check_sheet_name(name)
        if name in self:
            raise ValueError(f"Sheet named {name!r} already present in workbook")
        model = SheetModel(name)
        if before is not None:
            index = models.index(before.model)
        elif after is not None:
            index = models.index(after.model) + 1
        else:
            index = self.book.model.active  # Excel inserts before the active sheet
        models.insert(index, model)
        self.book.model.active = index
        return Sheet(self.book, model)


@strict
class Sheet(base.Sheet):
    def __init__(self, book: Book, model: SheetModel):
        self._book, self.model = book, model

    @property
    def api(self):
        return self.model

    @property
    def name(self):
        return self.model.name

    @name.setter
    def name(self, value):
        _check_sheet_name(value)
        self.model.name = value

    @property
    def book(self):
        return self._book

    @property
    def index(self):
        return self._book.model.sheets.index(self.model) + 1

    def range(self, arg1, arg2=None):
        if isinstance(arg1, tuple) and len(arg1) == 4:  # (row, column, rows, columns): xlwings' slicing
            row, col, nrows, ncols = arg1
            return Range(self, row, col, nrows, ncols)
        r1, c1, r2, c2 = self._corners(arg1)
        if arg2 is not None:
            s1, t1, s2, t2 = self._corners(arg2)
            r1, c1, r2, c2 = min(r1, s1), min(c1, t1), max(r2, s2), max(c2, t2)
        return Range(self, r1, c1, r2 - r1 + 1, c2 - c1 + 1)

    def _corners(self, arg) -> tuple[int, int, int, int]:
        if isinstance(arg, Range):
            if arg.sheet_model is not self.model:
                raise ValueError("ranges on different sheets")
            return arg.row, arg.column, arg.row + arg.nrows - 1, arg.column + arg.ncols - 1
        if isinstance(arg, tuple) and len(arg) == 2:
            if 0 in arg:
                raise IndexError("Attempted to access 0-based Range. xlwings/Excel Ranges are 1-based.")
            return arg[0], arg[1], arg[0], arg[1]
        if isinstance(arg, str):
            return _parse_address(arg)
        raise NotImplementedError(f"xlwings memory engine: Sheet.range({arg!r}) is not implemented")

    @property
    def cells(self):
        return Range(self, 1, 1, MAX_ROWS, MAX_COLS)

    def activate(self):
        self._book.model.active = self.index - 1

    def clear_contents(self):
        self.model.values.clear()

    def clear_formats(self):
        self.model.formats.clear()

    def clear(self):
        self.model.values.clear()
        self.model.formats.clear()
        self.model.notes.clear()
        self.model.links.clear()

    @property
    def visible(self):
        return self.model.visible

    @visible.setter
    def visible(self, value):
        self.model.visible = bool(value)

    def delete(self):
        if len(self._book.model.sheets) == 1:
            raise ValueError("A workbook must contain at least one visible worksheet")
        self._book.model.sheets.remove(self.model)
        self._book.model.active = min(self._book.model.active, len(self._book.model.sheets) - 1)

    @property
    def charts(self):
        return Charts(self)

    @property
    def used_range(self):
        box = self.model.used_box()
        if box is None:
            return Range(self, 1, 1, 1, 1)  # Excel: $A$1 on an empty sheet
        r1, c1, r2, c2 = box
        return Range(self, r1, c1, r2 - r1 + 1, c2 - c1 + 1)


_A1 = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def _parse_address(address: str) -> tuple[int, int, int, int]:
    parts = address.split(":")
    cells = []
    for p in parts:
        m = _A1.fullmatch(p.strip())
        if not m:
            raise NotImplementedError(f"xlwings memory engine: address {address!r} is not implemented "
                                      "(A1 or A1:B2 only)")
        col = 0
        for ch in m[1].upper():
            col = col * 26 + ord(ch) - 64
        cells.append((int(m[2]), col))
    (r1, c1), (r2, c2) = cells[0], cells[-1]
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


@strict
class Range(base.Range):
    def __init__(self, sheet: Sheet, row: int, column: int, nrows: int, ncols: int):
        if row < 1 or column < 1 or row + nrows - 1 > MAX_ROWS or column + ncols - 1 > MAX_COLS:
            raise IndexError(f"range ({row}, {column}) size {nrows}x{ncols} is outside the sheet")
        self._sheet = sheet
        self._row, self._column, self.nrows, self.ncols = row, column, nrows, ncols
        self.options = {}

    @property
    def row(self):
        return self._row

    @property
    def column(self):
        return self._column

    # where it is
    @property
    def sheet_model(self) -> SheetModel:
        return self._sheet.model

    @property
    def sheet(self):
        return self._sheet

    @property
    def api(self):
        return self  # truthy: xlwings writes only to ranges with a native object

    @property
    def coords(self):
        return self._sheet, self.row, self.column, self.nrows, self.ncols

    def __len__(self):
        return self.nrows * self.ncols

    @property
    def shape(self):
        return self.nrows, self.ncols

    def _cells(self):
        for r in range(self.row, self.row + self.nrows):
            for c in range(self.column, self.column + self.ncols):
                yield r, c

    def __call__(self, arg1, arg2=None):
        if arg2 is None:  # linear index, row by row
            arg1, arg2 = (arg1 - 1) // self.ncols + 1, (arg1 - 1) % self.ncols + 1
        return Range(self._sheet, self.row + arg1 - 1, self.column + arg2 - 1, 1, 1)

    def get_address(self, row_absolute=True, col_absolute=True, external=False):
        def a1(r, c):
            return f"{'$' if col_absolute else ''}{col_name(c)}{'$' if row_absolute else ''}{r}"

        text = a1(self.row, self.column)
        if (self.nrows, self.ncols) != (1, 1):
            text += ":" + a1(self.row + self.nrows - 1, self.column + self.ncols - 1)
        if external:
            text = f"[{self._sheet.book.name}]{self._sheet.name}!{text}"
        return text

    @property
    def address(self):
        return self.get_address()

    @property
    def max_cells_per_write(self):
        return self._sheet.book.app.engine.max_cells_per_write

    # values
    @property
    def raw_value(self):
        v = self.sheet_model.values
        if (self.nrows, self.ncols) == (1, 1):
            return v.get((self.row, self.column))
        return [[v.get((r, c)) for c in range(self.column, self.column + self.ncols)]
                for r in range(self.row, self.row + self.nrows)]

    @raw_value.setter
    def raw_value(self, data):
        coerce = self._sheet.book.app.engine.coerce_text
        if isinstance(data, list | tuple):
            rows = [list(r) if isinstance(r, list | tuple) else [r] for r in data]
            if len(rows) != self.nrows or any(len(r) != self.ncols for r in rows):
                raise ValueError(f"{len(rows)}x{len(rows[0]) if rows else 0} values for a "
                                 f"{self.nrows}x{self.ncols} range {self.address}")
        else:
            rows = [[data] * self.ncols for _ in range(self.nrows)]
        values = self.sheet_model.values
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                key = (self.row + i, self.column + j)
                stored = _stored(v, coerce_text=coerce)
                if stored is None:
                    values.pop(key, None)
                else:
                    values[key] = stored

    def clear_contents(self):
        for k in self._cells():
            self.sheet_model.values.pop(k, None)

    def clear_formats(self):
        for k in self._cells():
            self.sheet_model.formats.pop(k, None)

    def clear(self):
        for k in self._cells():
            self.sheet_model.values.pop(k, None)
            self.sheet_model.formats.pop(k, None)
            self.sheet_model.notes.pop(k, None)
            self.sheet_model.links.pop(k, None)

    # widths, heights, wrapping, links
    @property
    def column_width(self):
        seen = {self.sheet_model.column_widths.get(c, DEFAULT_COLUMN_WIDTH)
                for c in range(self.column, self.column + self.ncols)}
        return seen.pop() if len(seen) == 1 else None

    @column_width.setter
    def column_width(self, value):
        if not 0 <= float(value) <= 255:
            raise ValueError(f"column width {value!r} is outside 0-255 characters")
        for c in range(self.column, self.column + self.ncols):
            self.sheet_model.column_widths[c] = float(value)

    @property
    def row_height(self):
        seen = {self.sheet_model.row_heights.get(r, ROW_HEIGHT_PT) for r in range(self.row, self.row + self.nrows)}
        return seen.pop() if len(seen) == 1 else None

    @row_height.setter
    def row_height(self, value):
        if not 0 <= float(value) <= 409:
            raise ValueError(f"row height {value!r} is outside 0-409 points")
        for r in range(self.row, self.row + self.nrows):
            self.sheet_model.row_heights[r] = float(value)

    @property
    def wrap_text(self):
        return self._get_format("wrap_text", False)

    @wrap_text.setter
    def wrap_text(self, value):
        self._set_format("wrap_text", bool(value))

    def autofit(self, axis=None):
        """Rows only: each row as tall as the wrapped text of its cells needs (one line otherwise)."""
        if axis not in ("r", "rows"):
            raise NotImplementedError("xlwings memory engine: Range.autofit of columns is not implemented")
        from salesbook.io.presentation import row_height, wrapped_lines

        model = self.sheet_model
        for r in range(self.row, self.row + self.nrows):
            lines = 1
            for c in range(self.column, self.column + self.ncols):
                value = model.values.get((r, c))
                if value is not None and model.formats.get((r, c), {}).get("wrap_text"):
                    lines = max(lines, wrapped_lines(str(value), model.column_widths.get(c, DEFAULT_COLUMN_WIDTH)))
            if lines > 1:
                model.row_heights[r] = row_height(lines)
            else:
                model.row_heights.pop(r, None)

    @property
    def hyperlink(self):
        return self.sheet_model.links.get((self.row, self.column), "")

    def add_hyperlink(self, address, text_to_display=None, screen_tip=None):
        key = (self.row, self.column)
        self.sheet_model.links[key] = address
        shown = address if text_to_display is None else text_to_display
        self.sheet_model.values[key] = _stored(shown, coerce_text=False)

    # formats
    def _get_format(self, key, default=None):
        seen = {self.sheet_model.formats.get(k, {}).get(key, default) for k in self._cells()}
        return seen.pop() if len(seen) == 1 else None

    def _set_format(self, key, value):
        for k in self._cells():
            self.sheet_model.formats.setdefault(k, {})[key] = value

    @property
    def color(self):
        return self._get_format("color")

    @color.setter
    def color(self, color_or_rgb):
        self._set_format("color", _rgb(color_or_rgb))

    @property
    def number_format(self):
        return self._get_format("number_format", "General")

    @number_format.setter
    def number_format(self, value):
        if not isinstance(value, str):
            raise TypeError(f"number_format must be a string, got {value!r}")
        self._set_format("number_format", value)

    @property
    def font(self):
        return Font(self)

    @property
    def left(self):
        return self.sheet_model.column_left(self.column)

    @property
    def top(self):
        return self.sheet_model.row_top(self.row)

    @property
    def width(self):
        return self.sheet_model.column_left(self.column + self.ncols) - self.left

    @property
    def height(self):
        return self.sheet_model.row_top(self.row + self.nrows) - self.top

    # notes (on the top-left cell, as Excel's Range.Note)
    @property
    def note(self):
        key = (self.row, self.column)
        return Note(self.sheet_model, key) if key in self.sheet_model.notes else None

    def add_note(self, text):
        key = (self.row, self.column)
        if key in self.sheet_model.notes:
            raise ValueError("This cell already has a note")
        self.sheet_model.notes[key] = text
        return Note(self.sheet_model, key)


@strict
class Font(base.Font):
    def __init__(self, rng: Range):
        self.rng = rng

    @property
    def bold(self):
        return self.rng._get_format("bold", False)

    @bold.setter
    def bold(self, value):
        self.rng._set_format("bold", bool(value))

    @property
    def italic(self):
        return self.rng._get_format("italic", False)

    @italic.setter
    def italic(self, value):
        self.rng._set_format("italic", bool(value))

    @property
    def color(self):
        return self.rng._get_format("font_color", (0, 0, 0))

    @color.setter
    def color(self, color_or_rgb):
        self.rng._set_format("font_color", _rgb(color_or_rgb))

    @property
    def size(self):
        return self.rng._get_format("font_size", 11.0)

    @size.setter
    def size(self, value):
        self.rng._set_format("font_size", float(value))


@strict
class Note(base.Note):
    def __init__(self, sheet: SheetModel, key: tuple[int, int]):
        self.sheet, self.key = sheet, key

    @property
    def text(self):
        return self.sheet.notes[self.key]

    @text.setter
    def text(self, value):
        self.sheet.notes[self.key] = value

    def delete(self):
        del self.sheet.notes[self.key]


@strict
class Charts(base.Charts):
    def __init__(self, sheet: Sheet):
        self.sheet = sheet

    @property
    def parent(self):
        return self.sheet

    def __call__(self, name_or_index):
        charts = self.sheet.model.charts
        if isinstance(name_or_index, int):
            return Chart(self.sheet, charts[name_or_index - 1])
        for c in charts:
            if c.name == name_or_index:
                return Chart(self.sheet, c)
        raise KeyError(name_or_index)

    def __contains__(self, name):
        return any(c.name == name for c in self.sheet.model.charts)

    def __len__(self):
        return len(self.sheet.model.charts)

    def __iter__(self):
        return iter([Chart(self.sheet, c) for c in self.sheet.model.charts])

    def add(self, left, top, width, height, chart_type=None, source=None, plot_by=None, name=None, anchor=None,
            style=227):
        model = self.sheet.model
        model.chart_counter += 1
        if anchor is not None:
            left, top = anchor.left, anchor.top
        chart = ChartModel(name=name or f"Chart {model.chart_counter}", left=float(left), top=float(top),
                           width=float(width), height=float(height), style=style)
        model.charts.append(chart)
        impl = Chart(self.sheet, chart)
        if source is not None:
            impl.set_source_data(source, plot_by)
        if chart_type is not None:
            impl.chart_type = chart_type
        return impl


@strict
class Chart(base.Chart):
    def __init__(self, sheet: Sheet, model: ChartModel):
        self.sheet, self.model = sheet, model

    @property
    def name(self):
        return self.model.name

    @property
    def parent(self):
        return self.sheet

    def set_source_data(self, rng, plot_by=None):
        self.model.source = (rng.sheet_model.name, rng.row, rng.column, rng.nrows, rng.ncols)
        self.model.plot_by = plot_by

    @property
    def chart_type(self):
        return self.model.chart_type

    @chart_type.setter
    def chart_type(self, chart_type):
        self.model.chart_type = chart_type

    @property
    def title(self):
        return self.model.title

    @title.setter
    def title(self, value):
        self.model.title = value

    @property
    def left(self):
        return self.model.left

    @property
    def top(self):
        return self.model.top

    @property
    def width(self):
        return self.model.width

    @property
    def height(self):
        return self.model.height

    def delete(self):
        self.sheet.model.charts.remove(self.model)


# ----------------------------------------------------------------------------- activation


@contextmanager
def memory_engine(*, coerce_text: bool = True, max_cells_per_write: int | None = base.DEFAULT_MAX_CELLS_PER_WRITE):
    """Register the engine and make it the active one; afterwards restore xlwings as it was.

    Restores: the active engine, the engines list, and `xw.Book._mock_caller` (what
    `Book.set_mock_caller()` sets and `Book.caller()` reads).
    """
    impl = Engine(coerce_text=coerce_text, max_cells_per_write=max_cells_per_write)
    engine = xwmain.Engine(impl=impl)
    engines = xwmain.engines
    previous_active = engines.active
    previous_by_name = engines.engines_by_name.get(ENGINE_NAME)
    had_mock = "_mock_caller" in vars(xwmain.Book)
    previous_mock = vars(xwmain.Book).get("_mock_caller")
    engines.add(engine)
    engine.activate()
    try:
        yield impl
    finally:
        engines.engines.remove(engine)
        if previous_by_name is None:
            engines.engines_by_name.pop(ENGINE_NAME, None)
        else:
            engines.engines_by_name[ENGINE_NAME] = previous_by_name
        engines.active = previous_active
        if had_mock:
            xwmain.Book._mock_caller = previous_mock
        elif "_mock_caller" in vars(xwmain.Book):
            del xwmain.Book._mock_caller


def model_of(book: xw.Book) -> BookModel:
    """The in-memory workbook behind an `xw.Book` of this engine."""
    if not isinstance(book.impl, Book):
        raise TypeError(f"{book!r} is not a book of the memory engine")
    return book.impl.model


def app_model_of(book: xw.Book) -> AppModel:
    return book.impl.app.model


def dump(book: xw.Book) -> dict[str, dict]:
    """Every sheet's values (A1 to the last used cell) and charts, for comparison."""
    return {s.name: {"values": s.grid(), "charts": [vars(c).copy() for c in s.charts]}
            for s in model_of(book).sheets}


__all__ = ["AppModel", "BookModel", "ChartModel", "Formula", "SheetModel", "Engine", "app_model_of", "dump",
           "excel_parse", "load_workbook_model", "memory_engine", "model_of"]
