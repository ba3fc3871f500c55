"""The Book port: what the button actions need from the master workbook, with two backends.

- `XlwingsBook`: the workbook open in Excel, reached through xlwings (`xw.Book.caller()`).
- `FileBook`: the .xlsm file on disk (openpyxl, `keep_vba=True`), saved atomically with a backup.

Team files never go through a Book: the safe reader reads them from disk.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from ..progress import Progress, StatusProgress
from .atomic import atomic_copy, remove_stale_temporaries
from .presentation import FONT, HEADER_FILL, HEADER_FONT, ColourRule, rule_fills, rule_formula
from .sheetxml import SheetCells, lean_package, splice
from .staging import keep_mode_and_owner, keep_owner
from .writers import xlsx_text


class WorkbookLocked(Exception):
    """The workbook is open in Excel (or another program); close it and run again. Nothing was written."""


class BookError(Exception):
    """The master workbook cannot be used as it is; the message says what to fix."""


@dataclass
class SheetData:
    """A sheet an action writes: the header, the rows and how they look (salesbook.io.presentation).

    Rows may hold blank rows and small tables of their own (the dashboard): `header_rows` are data
    rows styled as table headers, `title_rows` as titles. With an empty `header` no header row is
    written and the rows start at `start_row`.
    """

    name: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)  # column index -> note on the header cell
    fills: dict[int, str] = field(default_factory=dict)  # data row index (0-based) -> "#RRGGBB", whole row
    number_formats: dict[int, str] = field(default_factory=dict)  # column index -> Excel format
    start_row: int = 1  # 1-based row of the header
    widths: dict[int, float] = field(default_factory=dict)  # column index -> width in characters
    wrap: set[int] = field(default_factory=set)  # columns whose long text wraps
    rules: list[ColourRule] = field(default_factory=list)  # colours by value (conditional formats)
    links: dict[tuple[int, int], str] = field(default_factory=dict)  # (data row, column) -> hyperlink
    frozen_columns: int = 0  # leading columns frozen beside the header row
    freeze: bool = True
    autofilter: bool = True
    landscape: bool = True  # print landscape, fitted to the page width, header repeated
    header_lines: int = 1
    row_heights: dict[int, float] = field(default_factory=dict)  # data row -> points (wrapped text)
    page_breaks: list[int] = field(default_factory=list)  # data rows that start a printed page
    header_rows: set[int] = field(default_factory=set)
    title_rows: set[int] = field(default_factory=set)
    cell_formats: dict[tuple[int, int], str] = field(default_factory=dict)  # (data row, column) -> format

    @property
    def first_data_row(self) -> int:
        return self.start_row + 1 if self.header else self.start_row

    def fill_map(self) -> dict[int, dict[int, str]]:
        """The colour of every coloured cell (data row -> column -> #RRGGBB): row fills, then the rules."""
        width = max([len(self.header), *(len(r) for r in self.rows)] or [0])
        out = {i: dict.fromkeys(range(width), colour) for i, colour in self.fills.items()}
        for i, cells in rule_fills(self.rules, self.rows, width).items():
            out.setdefault(i, {}).update(cells)
        return out


@dataclass
class ChartSpec:
    """A native Excel chart over a block of the sheet: categories in the first column, series after.

    `line_series` are series (0-based) drawn as lines over the bars (a 100 % target line);
    `point_colours` colour the first series' bars one by one (fixed colours per category);
    `value_format` and `axis_title` make the value axis readable.
    """

    title: str
    kind: str  # column | bar | pie
    first_row: int  # 1-based header row of the data block
    last_row: int
    first_col: int  # 1-based column of the categories
    last_col: int
    anchor: str  # top-left cell of the chart
    line_series: tuple[int, ...] = ()
    point_colours: tuple[str, ...] = ()
    series_colours: tuple[str, ...] = ()
    value_format: str = ""
    axis_title: str = ""
    legend: bool = True
    width_cm: float = 16.0
    height_cm: float = 8.0
    reverse_categories: bool = False  # first category at the top of a horizontal bar chart


def excel_value(v: object) -> object:
    """Values as both backends store them: dates become datetimes, NaN/None become None."""
    if v is None:
        return None
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, datetime):
        return v
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    if hasattr(v, "item") and not isinstance(v, str):  # numpy scalars
        return v.item()
    if v is not None and type(v).__name__ in ("NAType", "NaTType"):
        return None
    return v


_EXCEL_ESCAPE = re.compile(r"(_x[0-9A-Fa-f]{4}_)")


def _string_cell(cell, text: str) -> None:
    """Store `text` in an openpyxl cell as a string cell, whatever it looks like.

    openpyxl would make "=…" a formula and "#N/A" an error cell, and refuses control characters;
    text from a team file must stay the text it is (SPEC §7). A literal "_x0041_" is escaped as
    Excel itself writes it, or Excel would show "A".
    """
    cell.value = cell_text(text)
    cell.data_type = "s"


def cell_text(text: str) -> str:
    """Text as a string cell holds it: legal characters only, a literal "_x0041_" escaped."""
    text = xlsx_text(text)
    return _EXCEL_ESCAPE.sub(r"_x005F\1", text) if "_x" in text else text


class Book:
    """The operations every backend provides."""

    fullname: Path

    @property
    def folder(self) -> Path:
        return Path(self.fullname).parent

    def sheet_names(self) -> list[str]:
        raise NotImplementedError

    def read(self, sheet: str) -> list[list]:
        """Every value of the sheet's used range, as rows from A1."""
        raise NotImplementedError

    def write(self, data: SheetData) -> None:
        """Replace the sheet's contents (creating the sheet if it is missing)."""
        raise NotImplementedError

    def charts(self, sheet: str, charts: list[ChartSpec]) -> None:
        """Replace the sheet's charts."""
        raise NotImplementedError

    def set_cells(self, sheet: str, cells: dict[str, object]) -> None:
        """Write single cells ("B12" -> value) of a sheet that otherwise stays as it is."""
        raise NotImplementedError

    def status(self, text: str) -> None:
        """Progress for the user (Excel's status bar)."""

    def progress(self) -> Progress:
        """How an action shows its phases: in the status bar, unless a display was given (`show_progress`)."""
        if getattr(self, "_progress", None) is None:
            self._progress = StatusProgress(self.status)
        return self._progress

    def show_progress(self, progress: Progress | None) -> None:
        """Show the actions' phases with `progress` (the command line's bar on a terminal)."""
        self._progress = progress

    def finish(self, message: str) -> None:
        """Tell the user the action is done (a message box in Excel)."""

    def confirm(self, question: str) -> bool:
        """Ask the user yes or no (a message box in Excel); headless, nobody answers: no."""
        return False

    def save(self) -> None:
        raise NotImplementedError

    def prepare_save(self) -> None:
        """Work the save will need, done now while the caller waits for something else (nothing here)."""

    def save_ahead(self) -> None:
        """Start making the saved workbook now, for `save` to put in place (nothing here)."""

    def discard_save_ahead(self) -> None:
        """Drop what `save_ahead` started (after an error or a Ctrl-C)."""

    def close(self) -> None:
        pass


# ------------------------------------------------------------------ file backend


def lock_file(path: Path) -> Path:
    """Excel's owner file beside an open workbook: ~$SalesBook.xlsm."""
    return path.with_name("~$" + path.name)


class FileBook(Book):
    """The master workbook file, edited with openpyxl (VBA and buttons kept) and saved atomically.

    `rewrites` names the sheets the action will write anew: their old cells are not loaded.
    Saving writes a temporary file beside the workbook, copies the old workbook to
    `<name>.bak`, then replaces the workbook in one step. A lock file `~$<name>` or a failed
    replace means Excel has it open: nothing is written and `WorkbookLocked` says so.
    """

    def __init__(self, path: Path, *, rewrites: Collection[str] = ()):
        self.fullname = Path(path).resolve()
        if not self.fullname.exists():
            raise BookError(f"{self.fullname} does not exist. Create it with `salesbook init DIR`.")
        self._check_unlocked()
        remove_stale_temporaries(self.fullname.parent)  # left by a save that was killed
        self._before = self.fullname.stat().st_mtime_ns
        self.messages: list[str] = []
        self._fast: dict[str, tuple] = {}  # sheet -> (worksheet, SheetCells, SheetData): output sheets as text
        self._calls: list[tuple[str, tuple]] = []  # this session's changes, to redo on the whole workbook
        self._lean: set[str] = set()  # sheets loaded without their cells (see _whole)
        self._version = 0  # changes made through this object: a save made ahead stands while it is the same
        self._ahead: tuple | None = None  # (temporary file, waiter, version) of the save `save_ahead` started
        self.wb = self._load(lean=set(rewrites))

    def _load(self, *, lean: set[str]):
        """The workbook in openpyxl, the sheets `lean` (those the action writes anew) without their
        cells: reading one, or saving without having written it, loads the whole workbook first."""
        import io

        import openpyxl

        keep_vba = self.fullname.suffix.lower() == ".xlsm"
        data, self._lean = lean_package(self.fullname, lean) if lean else (None, set())
        try:
            return openpyxl.load_workbook(io.BytesIO(data) if data is not None else self.fullname, keep_vba=keep_vba)
        except Exception as exc:  # noqa: BLE001 - any load failure means the file is not usable
            raise BookError(f"{self.fullname.name} cannot be opened as a workbook ({type(exc).__name__}: {exc}).") from None

    def _whole(self) -> None:
        """Load the whole workbook (every sheet's cells) and redo this session's changes on it."""
        if not self._lean:
            return
        self.wb = self._load(lean=set())
        self._fast = {}
        calls, self._calls = self._calls, []
        for name, args in calls:
            getattr(self, name)(*args)

    def _check_unlocked(self) -> None:
        if lock_file(self.fullname).exists():
            raise WorkbookLocked(
                f"{self.fullname.name} is open in Excel ({lock_file(self.fullname).name} exists). "
                "Close it (or use the buttons inside Excel) and run again. Nothing was written."
            )

    def sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def read(self, sheet: str) -> list[list]:
        if sheet in self._lean:
            self._whole()
        self._as_cells(sheet)
        ws = self.wb[sheet]
        return [list(r) for r in ws.iter_rows(values_only=True)]

    def write(self, data: SheetData) -> None:
        self._version += 1
        self._calls.append(("write", (data,)))
        self._lean.discard(data.name)  # its old cells are not needed
        self._fast.pop(data.name, None)
        ws = self._fresh_sheet(data.name)
        cells = SheetCells(ws)  # the cells as text, put in place when saving (see salesbook.io.sheetxml)
        _fill_sheet(ws, data, cells)
        self._fast[data.name] = (ws, cells, data)

    def _fresh_sheet(self, name: str):
        if name in self.wb.sheetnames:
            old = self.wb[name]
            index = self.wb.index(old)
            codename = old.sheet_properties.codeName
            self.wb.remove(old)
            ws = self.wb.create_sheet(name, index)
            if codename:
                ws.sheet_properties.codeName = codename
            return ws
        return self.wb.create_sheet(name)

    def _as_cells(self, name: str) -> None:
        """A sheet written as text made into openpyxl cells (to be read or changed before saving)."""
        found = self._fast.pop(name, None)
        if found is not None:
            self._version += 1
            old, _, data = found
            charts = old._charts
            ws = self._fresh_sheet(name)
            _fill_sheet(ws, data, None)
            ws._charts = charts

    def set_cells(self, sheet: str, cells: dict[str, object]) -> None:
        """Write single cells ("B12" -> value) of a sheet that stays as it is (the start sheet)."""
        if sheet in self._lean:
            self._whole()
        self._version += 1
        self._calls.append(("set_cells", (sheet, cells)))
        self._as_cells(sheet)
        ws = self.wb[sheet]
        for ref, v in cells.items():
            c = ws[ref]
            v = excel_value(v)
            _string_cell(c, v) if isinstance(v, str) else setattr(c, "value", v)
            if isinstance(v, datetime):
                c.number_format = "yyyy-mm-dd hh:mm"

    def charts(self, sheet: str, charts: list[ChartSpec]) -> None:
        self._version += 1
        self._calls.append(("charts", (sheet, charts)))
        ws = self.wb[sheet]
        ws._charts = []
        for spec in charts:
            ws.add_chart(_openpyxl_chart(ws, spec), spec.anchor)

    def status(self, text: str) -> None:
        self.messages.append(text)

    def finish(self, message: str) -> None:
        self.messages.append(message)

    def save(self) -> None:
        """Temporary file, backup, atomic replace; refuse when the workbook is open elsewhere."""
        ahead, self._ahead = self._ahead, None
        try:
            self._save(ahead)
        except BaseException:
            if ahead is not None:
                _discard(ahead)
            raise

    def _save(self, ahead: tuple | None) -> None:
        self._check_unlocked()
        if self.fullname.stat().st_mtime_ns != self._before:
            raise WorkbookLocked(
                f"{self.fullname.name} changed on disk while salesbook was working (saved in Excel?). "
                "Nothing was written; run the action again."
            )
        self._whole()  # a sheet loaded without its cells and not written anew keeps them
        if ahead is not None and ahead[2] != self._version:  # changed since it was made: saved anew
            _discard(ahead)
            ahead = None
        backup = self.fullname.with_name(self.fullname.name + ".bak")
        # First: whatever happens next, the last good copy exists. Through a temporary file and a
        # rename, so a link planted at <name>.bak is replaced, never written through.
        atomic_copy(self.fullname, backup)  # with the workbook's mode
        keep_owner(self.fullname, backup)
        tmp_path = ahead[0] if ahead is not None else self._temporary()
        try:
            if ahead is not None:
                ahead[1]()  # the child's save, or its exception raised here
            else:
                self._save_to(tmp_path)
            keep_mode_and_owner(self.fullname, tmp_path)  # colleagues on a shared folder keep their access
            try:
                os.replace(tmp_path, self.fullname)
            except PermissionError:
                raise WorkbookLocked(
                    f"{self.fullname.name} could not be replaced: it is open in another program. "
                    "Close it and run again. Nothing was written."
                ) from None
        finally:
            tmp_path.unlink(missing_ok=True)
        self._before = self.fullname.stat().st_mtime_ns

    def prepare_save(self) -> None:
        """The output sheets' cell XML, made now (see SheetCells.prepare)."""
        for _, cells, _ in self._fast.values():
            cells.prepare()

    def save_ahead(self) -> None:
        """Make the saved workbook in a temporary file now, in a forked child (io.background), while this
        process waits for other work (the ledger's record); `save` puts it in place if nothing was changed
        since, else saves anew. The checks and the backup are `save`'s, at the time it is called."""
        from .background import in_background

        self.discard_save_ahead()
        self._whole()
        tmp_path = self._temporary()
        try:
            waiter = in_background(self._save_to, tmp_path)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        self._ahead = (tmp_path, waiter, self._version)

    def discard_save_ahead(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            _discard(ahead)

    def _temporary(self) -> Path:
        fd, tmp = tempfile.mkstemp(prefix=".~sb-", suffix=self.fullname.suffix, dir=self.fullname.parent)
        os.close(fd)
        return Path(tmp)

    def _save_to(self, path: Path) -> None:
        """openpyxl saves the workbook (in memory), then the output sheets' cells go in as text; should a
        sheet part not be as openpyxl writes it, the sheets are made into cells and saved by openpyxl alone."""
        import io

        sheets = [cells for _, cells, _ in self._fast.values()]
        if not sheets:
            self.wb.save(path)
            return
        for cells in sheets:
            cells.register()  # the looks must be in the styles openpyxl writes
            cells.take_rows()
        saved = io.BytesIO()
        try:
            self.wb.save(saved)
            spliced = splice(saved, path, sheets)
        finally:
            for cells in sheets:
                cells.give_rows_back()
        if not spliced:
            for name in list(self._fast):
                self._as_cells(name)
            self.wb.save(path)


def _discard(ahead: tuple) -> None:
    """Stop a save made ahead and remove its temporary file."""
    ahead[1].cancel()
    ahead[0].unlink(missing_ok=True)


# ------------------------------------------------------------------ writing a sheet


class _Looks:
    """The styles a sheet's cells are given (made once per sheet)."""

    def __init__(self):
        from openpyxl.styles import Alignment, Font

        self.head_font = Font(name=FONT, bold=True, color=HEADER_FONT.lstrip("#"))
        self.head_fill = _fill(HEADER_FILL)
        self.head_align = Alignment(wrap_text=True, vertical="center")
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.top = Alignment(vertical="top")
        self.sub_font, self.title_font = Font(name=FONT, bold=True), Font(name=FONT, bold=True, size=14)
        self.sub_fill = _fill("#DDEBF7")
        self.link_font = Font(name=FONT, color="0563C1", underline="single")


def _style_data_cell(c, looks: _Looks, colour, fmt, align, kind) -> None:
    """A data cell's look, set in the order that registers fonts, fills and formats in the workbook."""
    if colour is not None:
        c.fill = _fill(colour)
    if fmt:
        c.number_format = fmt
    if align is not None:
        c.alignment = looks.wrap if align == "wrap" else looks.top
    if kind == "sub":
        c.font, c.fill = looks.sub_font, looks.sub_fill
    elif kind == "title":
        c.font = looks.title_font


_DATE_TYPES = (datetime, date, time, timedelta)
_BY_VALUE = frozenset({str, int, float, bool, type(None), date, datetime})  # equal values make the same cell


def _fill_sheet(ws, data: SheetData, cells) -> None:
    """Write `data` into the empty sheet `ws`: as openpyxl cells, or (with `cells`, a SheetCells) the
    data cells as text, openpyxl holding only the cells with a note or a link and the sheet's settings."""
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink
    from openpyxl.worksheet.pagebreak import Break

    looks = _Looks()
    r0, first = data.start_row, data.first_data_row
    for j, h in enumerate(data.header, start=1):
        c = ws.cell(row=r0, column=j)
        _string_cell(c, str(h))
        c.font, c.fill, c.alignment = looks.head_font, looks.head_fill, looks.head_align
        if j - 1 in data.notes:
            c.comment = Comment(xlsx_text(data.notes[j - 1]), "salesbook", width=320, height=120)
        if cells is not None:
            cells.put_cell(c)
    if data.header:
        ws.row_dimensions[r0].height = 15 * data.header_lines + 3
    fills = data.fill_map() if not data.rules else {i: dict.fromkeys(range(len(data.header)), c)
                                                     for i, c in data.fills.items()}
    formats, number_formats, wrap = data.cell_formats, data.number_formats, data.wrap
    header_rows, title_rows = data.header_rows, data.title_rows
    aligned = "top" if data.header else None
    found_looks = cells._looks if cells is not None else None

    def entry(i: int, j: int, v: object, colour, kind) -> tuple | None:
        """The (look, content) of a cell as text, or None for no cell; `j` counts from 1."""
        if v.__class__ is str and v:  # most cells: text, on the short path
            fmt = (formats.get((i, j - 1)) if formats else None) or number_formats.get(j - 1)
            key = (None, colour, fmt, "wrap" if j - 1 in wrap else aligned, kind)
            array = found_looks.get(key)
            if array is None:
                array = cells.look(key, None, lambda c, a=key[1:]: _style_data_cell(c, looks, *a))
            return array, cells.text_content(v, cell_text)
        v = excel_value(v)
        if v is None and colour is None:
            return None
        fmt = (formats.get((i, j - 1)) if formats else None) or number_formats.get(j - 1)
        dated = isinstance(v, _DATE_TYPES)
        if not fmt and isinstance(v, datetime):
            fmt = "yyyy-mm-dd"
        align = "wrap" if j - 1 in wrap else aligned
        key = (type(v) if dated else None, colour, fmt, align, kind)
        array = found_looks.get(key)
        if array is None:
            array = cells.look(key, v if dated else None,
                               lambda c, a=(colour, fmt, align, kind): _style_data_cell(c, looks, *a))
        return array, cells.content(cell_text(v) if isinstance(v, str) else v)

    def openpyxl_cell(rr: int, i: int, j: int, v: object, colour, kind) -> None:
        v = excel_value(v)
        if v is None and colour is None:
            return
        fmt = (formats.get((i, j - 1)) if formats else None) or number_formats.get(j - 1)
        if not fmt and isinstance(v, datetime):
            fmt = "yyyy-mm-dd"
        c = ws.cell(row=rr, column=j)
        _string_cell(c, v) if isinstance(v, str) else setattr(c, "value", v)
        _style_data_cell(c, looks, colour, fmt, "wrap" if j - 1 in wrap else aligned, kind)

    rows = data.rows
    plain = set()  # rows without colour, format or kind: their cells depend on the column and value only
    if cells is not None and not formats:
        plain = {i for i in range(len(rows)) if not fills.get(i) and i not in header_rows and i not in title_rows}
        built: dict[int, dict[int, tuple]] = {i: {} for i in sorted(plain)}
        for j in range(1, max((len(rows[i]) for i in plain), default=0) + 1):
            made: dict = {}  # (class, value) -> its entry: a column repeats its values
            for i, row_cells in built.items():
                row = rows[i]
                if len(row) < j:
                    continue
                v = row[j - 1]
                cls = v.__class__
                if cls in _BY_VALUE and (v or cls is not float):  # 0.0 and -0.0 are equal, yet not the same text
                    key = (cls, v)  # the class too: True == 1, yet a bool cell is not a number cell
                    e = made[key] if key in made else made.setdefault(key, entry(i, j, v, None, None))
                else:
                    e = entry(i, j, v, None, None)
                if e is not None:
                    row_cells[j] = e
        for i, row_cells in built.items():
            cells.put_row(first + i, row_cells)
    for i, row in enumerate(rows):
        rr = first + i
        if i not in plain:
            row_fill = fills.get(i, {})
            kind = "sub" if i in header_rows else "title" if i in title_rows else None
            for j, v in enumerate(row, start=1):
                if cells is None:
                    openpyxl_cell(rr, i, j, v, row_fill.get(j - 1), kind)
                else:
                    e = entry(i, j, v, row_fill.get(j - 1), kind)
                    if e is not None:
                        cells.rows.setdefault(rr, {})[j] = e
        height = 22 if i in title_rows else data.row_heights.get(i)
        if height is None:
            continue
        if cells is not None:  # kept with the cells: openpyxl would make a row object for each
            cells.heights[rr] = height
        else:
            ws.row_dimensions[rr].height = height
    for (i, j), target in data.links.items():
        file, _, place = target.partition("#")  # as Excel stores it: the file, and the place inside
        if cells is None:
            c = ws.cell(row=first + i, column=j + 1)
            c.hyperlink = Hyperlink(ref=c.coordinate, target=file, location=place or None)
            c.font = looks.link_font
        else:  # the text's look with the link's font; the link itself is written as text too (sheetxml.splice)
            cells.restyle(first + i, j + 1, _link_font)
            cells.links.append((f"{get_column_letter(j + 1)}{first + i}", file, place or None))
    if cells is not None:
        corners = cells.corners()
        if corners:  # the sheet's dimension, as openpyxl works it out from its cells
            ws.cell(row=corners[0], column=corners[1])
            ws.cell(row=corners[2], column=corners[3])
    for j, width in data.widths.items():
        ws.column_dimensions[get_column_letter(j + 1)].width = width
    last_row = first + max(len(data.rows), 1) - 1
    if data.header and data.freeze:
        ws.freeze_panes = ws.cell(row=first, column=data.frozen_columns + 1)
    if data.header and data.autofilter:
        ws.auto_filter.ref = f"A{r0}:{get_column_letter(len(data.header))}{last_row}"
    if data.rules and data.rows:
        _conditional_formats(ws, data.rules, first, first + len(data.rows) - 1, len(data.header))
    if data.landscape:
        _print_setup(ws, r0 if data.header else None)
    for i in data.page_breaks:
        ws.row_breaks.append(Break(id=first + i - 1))


def _link_font(c) -> None:
    from openpyxl.styles import Font

    c.font = Font(name=FONT, color="0563C1", underline="single")


def _fill(colour: str):
    from openpyxl.styles import PatternFill

    rgb = colour.lstrip("#").upper()
    return PatternFill("solid", fgColor=rgb, bgColor=rgb)


def _conditional_formats(ws, rules: list[ColourRule], first: int, last: int, width: int) -> None:
    """The colour rules as Excel conditional formats over the data rows (text from files never enters a
    formula: the values compared are the layout's own palette names)."""
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.utils import get_column_letter

    for rule in rules:
        col = get_column_letter(rule.column + 1)
        if rule.kind == "row":
            target = f"A{first}:{get_column_letter(width)}{last}"
        else:
            target = f"{col}{first}:{col}{last}"
        ws.conditional_formatting.add(target, FormulaRule(formula=[rule_formula(rule, first)], fill=_fill(rule.colour),
                                                          stopIfTrue=False))


def _print_setup(ws, header_row: int | None) -> None:
    """Landscape A4, fitted to the page width (as many pages down as it takes), header row repeated."""
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    if header_row is not None:
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4


def _openpyxl_chart(ws, spec: ChartSpec):
    from openpyxl.chart import BarChart, LineChart, PieChart, Reference
    from openpyxl.chart.marker import DataPoint
    from openpyxl.chart.shapes import GraphicalProperties

    cats = Reference(ws, min_col=spec.first_col, max_col=spec.first_col, min_row=spec.first_row + 1,
                     max_row=spec.last_row)
    bar_cols = [c for k, c in enumerate(range(spec.first_col + 1, spec.last_col + 1)) if k not in spec.line_series]
    if spec.kind == "pie":
        chart = PieChart()
    else:
        chart = BarChart()
        chart.type = "bar" if spec.kind == "bar" else "col"
        chart.grouping = "clustered"
        chart.overlap = -10 if len(bar_cols) > 1 else 0
        chart.gapWidth = 60
    for col in bar_cols:
        chart.add_data(Reference(ws, min_col=col, max_col=col, min_row=spec.first_row, max_row=spec.last_row),
                       titles_from_data=True)
    chart.set_categories(cats)
    for k, series in enumerate(chart.series):
        if k < len(spec.series_colours):
            series.graphicalProperties = GraphicalProperties(solidFill=spec.series_colours[k].lstrip("#"))
    if spec.point_colours and chart.series:
        first = chart.series[0]
        fills: dict[str, GraphicalProperties] = {}  # one per colour, shared: a point's own costs 10× the time
        for idx, colour in enumerate(spec.point_colours):
            fill = fills.get(colour)
            if fill is None:
                fill = fills[colour] = GraphicalProperties(solidFill=colour.lstrip("#"))
            first.dPt.append(DataPoint(idx=idx, spPr=fill))
    chart.title = spec.title
    chart.width, chart.height = spec.width_cm, spec.height_cm
    if spec.kind != "pie":
        chart.y_axis.delete = False
        chart.x_axis.delete = False
        if spec.value_format:
            chart.y_axis.numFmt = spec.value_format
            chart.y_axis.number_format = spec.value_format
        if spec.axis_title:
            chart.y_axis.title = spec.axis_title
        if spec.reverse_categories:
            chart.x_axis.scaling.orientation = "maxMin"
        chart.y_axis.majorGridlines = chart.y_axis.majorGridlines
    if spec.line_series:
        line = LineChart()
        for k in spec.line_series:
            col = spec.first_col + 1 + k
            line.add_data(Reference(ws, min_col=col, max_col=col, min_row=spec.first_row, max_row=spec.last_row),
                          titles_from_data=True)
        for series in line.series:
            series.graphicalProperties.line.solidFill = "C00000"
            series.graphicalProperties.line.width = 28575
            series.graphicalProperties.line.dashStyle = "dash"
            series.marker.symbol = "none"
            series.smooth = False
        chart += line
    if not spec.legend:
        chart.legend = None
    else:
        chart.legend.position = "b"
    return chart


# ------------------------------------------------------------------ xlwings backend


def _hex_to_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _as_text(v: object) -> object:
    """Excel parses a string written through Range.value as if typed ("001" → 1, "2026-11" → a date,
    "=x" → a formula); a leading apostrophe keeps it the text it is (and is not part of the value).
    Characters a saved workbook cannot hold become U+FFFD, as in the file backend."""
    return "'" + xlsx_text(v) if isinstance(v, str) and v else v


def _fill_ranges(fills: dict[int, dict[int, str]], width: int) -> list[tuple[int, int, int, int, str]]:
    """Coloured cells as few rectangles as it takes (r1, c1, r2, c2, colour): one call to Excel each."""
    out: list[list] = []
    for i in sorted(fills):
        cells = fills[i]
        colours = set(cells.values())
        if len(cells) == width and len(colours) == 1:
            spans = [(0, width - 1, colours.pop())]
        else:
            spans = [(j, j, c) for j, c in sorted(cells.items())]
        for c1, c2, colour in spans:
            prev = next((o for o in out if o[2] == i - 1 and o[1] == c1 and o[3] == c2 and o[4] == colour), None)
            if prev is not None:
                prev[2] = i
            else:
                out.append([i, c1, i, c2, colour])
    return [tuple(o) for o in out]


def _style_chart_com(chart, spec: ChartSpec) -> None:
    """Target line, fixed colours and the value axis through Excel's own object model on Windows.

    Open-source xlwings has no API for these; on macOS and in the test engine this does nothing
    and the chart keeps Excel's defaults."""
    try:
        xl = chart.api[1]
        for k in spec.line_series:
            xl.SeriesCollection(k + 1).ChartType = 4  # xlLine
        for k, colour in enumerate(spec.series_colours):
            if k not in spec.line_series:
                xl.SeriesCollection(k + 1).Format.Fill.ForeColor.RGB = _bgr(colour)
        for idx, colour in enumerate(spec.point_colours, start=1):
            xl.SeriesCollection(1).Points(idx).Format.Fill.ForeColor.RGB = _bgr(colour)
        if spec.kind != "pie" and spec.value_format:
            xl.Axes(2).TickLabels.NumberFormat = spec.value_format
        if spec.reverse_categories:
            xl.Axes(1).ReversePlotOrder = True
        xl.HasLegend = spec.legend
    except Exception:  # noqa: BLE001 - cosmetic; engines without the COM object skip it
        pass


def _bgr(colour: str) -> int:
    r, g, b = _hex_to_rgb(colour)
    return r + (g << 8) + (b << 16)


class XlwingsBook(Book):
    """The workbook open in Excel (the caller of a button), through open-source xlwings only."""

    def __init__(self, xw_book):
        self.book = xw_book
        self.app = xw_book.app
        self.fullname = Path(xw_book.fullname)

    @classmethod
    def caller(cls) -> XlwingsBook:
        import xlwings as xw

        return cls(xw.Book.caller())

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def _sheet(self, name: str):
        if name in self.sheet_names():
            return self.book.sheets[name]
        last = self.book.sheets[len(self.book.sheets) - 1]
        sheet = self.book.sheets.add(name, after=last)
        return sheet

    def read(self, sheet: str) -> list[list]:
        rng = self.book.sheets[sheet].used_range
        values = rng.value
        if values is None:
            return []
        if not isinstance(values, list):
            values = [[values]]
        elif values and not isinstance(values[0], list):
            values = [values] if rng.shape[0] == 1 else [[v] for v in values]
        # The used range may start below/right of A1: pad so rows and columns keep their places.
        top, left = rng.row - 1, rng.column - 1
        return [[None] * len(values[0])] * top + [[None] * left + list(r) for r in values]

    def write(self, data: SheetData) -> None:
        """Values, header, notes, formats, widths, colours and links. Frozen panes, the autofilter and the
        print setup are the built workbook's (Excel keeps them when a sheet is cleared; open-source
        xlwings cannot set them). Colours are plain fills computed from the rules: Excel reads the
        relative references of a conditional format added through COM against the active cell."""
        sheet = self._sheet(data.name)
        sheet.clear()
        r0, first = data.start_row, data.first_data_row
        width = max([len(data.header), *(len(r) for r in data.rows)] or [1])
        for j, w in data.widths.items():  # first: Excel fits wrapped rows to the widths in force
            sheet.range((1, j + 1)).column_width = w
        if data.header:
            sheet.range((r0, 1)).value = [[_as_text(h) for h in data.header]]
            head = sheet.range((r0, 1), (r0, len(data.header)))
            head.color = _hex_to_rgb(HEADER_FILL)
            head.font.bold = True
            head.font.color = _hex_to_rgb(HEADER_FONT)
            head.wrap_text = True
            head.row_height = 15 * data.header_lines + 3
            for j, note in data.notes.items():
                cell = sheet.range((r0, j + 1))
                cell.note.delete() if cell.note is not None else None
                cell.add_note(note)
        n = len(data.rows)
        if n:
            block = [[_as_text(excel_value(v)) for v in r] + [None] * (width - len(r)) for r in data.rows]
            sheet.range((first, 1)).value = block
            for j, fmt in data.number_formats.items():
                sheet.range((first, j + 1), (first + n - 1, j + 1)).number_format = fmt
            for (i, j), fmt in data.cell_formats.items():
                sheet.range((first + i, j + 1)).number_format = fmt
            for j in sorted(data.wrap):
                sheet.range((first, j + 1), (first + n - 1, j + 1)).wrap_text = True
            for r1, c1, r2, c2, colour in _fill_ranges(data.fill_map(), width):
                sheet.range((first + r1, c1 + 1), (first + r2, c2 + 1)).color = _hex_to_rgb(colour)
            for i in sorted(data.header_rows):
                cells = sheet.range((first + i, 1), (first + i, max(1, len(data.rows[i]))))
                cells.font.bold = True
                cells.color = _hex_to_rgb("#DDEBF7")
            for i in sorted(data.title_rows):
                cells = sheet.range((first + i, 1))
                cells.font.bold = True
                cells.font.size = 14
                cells.row_height = 22
            if data.row_heights:  # Excel measures wrapped text itself
                sheet.range((first, 1), (first + n - 1, width)).rows.autofit()
            for (i, j), target in data.links.items():
                value = data.rows[i][j] if j < len(data.rows[i]) else None
                cell = sheet.range((first + i, j + 1))
                cell.add_hyperlink(target, text_to_display=str(value or target),
                                   screen_tip="打开团队文件中的这一处 / Open this place in the team file")
                if value is not None and not isinstance(value, str):  # the display text replaced the number
                    cell.value = excel_value(value)

    def set_cells(self, sheet: str, cells: dict[str, object]) -> None:
        ws = self.book.sheets[sheet]
        for ref, v in cells.items():
            ws.range(ref).value = _as_text(excel_value(v))

    def charts(self, sheet: str, charts: list[ChartSpec]) -> None:
        ws = self._sheet(sheet)
        for chart in list(ws.charts):
            chart.delete()
        kinds = {"column": "column_clustered", "bar": "bar_clustered", "pie": "pie"}
        for spec in charts:
            anchor = ws.range(spec.anchor)
            chart = ws.charts.add(left=anchor.left, top=anchor.top, width=spec.width_cm * 28.35,
                                  height=spec.height_cm * 28.35)
            chart.set_source_data(ws.range((spec.first_row, spec.first_col), (spec.last_row, spec.last_col)))
            chart.chart_type = kinds[spec.kind]
            if isinstance(getattr(type(chart), "title", None), property):  # xlwings >= 0.37.3, every engine
                chart.title = spec.title
            _style_chart_com(chart, spec)

    def status(self, text: str) -> None:
        self.app.status_bar = text

    def finish(self, message: str) -> None:
        self.app.status_bar = False
        self.app.alert(message, title="salesbook")

    def confirm(self, question: str) -> bool:
        return self.app.alert(question, title="salesbook", buttons="yes_no") == "yes"

    def save(self) -> None:
        pass  # Excel owns the file; the manager saves it like any workbook

    def properties(self):
        """Screen updating off and manual calculation while an action writes."""
        return self.app.properties(screen_updating=False, calculation="manual")
