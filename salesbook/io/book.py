"""The Book port: what the button actions need from the master workbook, with two backends.

- `XlwingsBook`: the workbook open in Excel, reached through xlwings (`xw.Book.caller()`).
- `FileBook`: the .xlsm file on disk (openpyxl, `keep_vba=True`), saved atomically with a backup.

Team files never go through a Book: the safe reader reads them from disk.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ..progress import Progress, StatusProgress
from .atomic import atomic_copy, remove_stale_temporaries
from .staging import keep_mode_and_owner, keep_owner
from .writers import xlsx_text


class WorkbookLocked(Exception):
    """The workbook is open in Excel (or another program); close it and run again. Nothing was written."""


class BookError(Exception):
    """The master workbook cannot be used as it is; the message says what to fix."""


@dataclass
class SheetData:
    """A sheet an action writes: the header, the rows, header notes and row colours."""

    name: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)  # column index -> note on the header cell
    fills: dict[int, str] = field(default_factory=dict)  # data row index (0-based) -> "#RRGGBB"
    number_formats: dict[int, str] = field(default_factory=dict)  # column index -> Excel format
    start_row: int = 1  # 1-based row of the header


@dataclass
class ChartSpec:
    """A native Excel chart over a block of the sheet: categories in the first column, series after."""

    title: str
    kind: str  # column | bar | pie
    first_row: int  # 1-based header row of the data block
    last_row: int
    first_col: int  # 1-based column of the categories
    last_col: int
    anchor: str  # top-left cell of the chart


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
    text = xlsx_text(text)
    cell.value = _EXCEL_ESCAPE.sub(r"_x005F\1", text) if "_x" in text else text
    cell.data_type = "s"


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

    def close(self) -> None:
        pass


# ------------------------------------------------------------------ file backend


def lock_file(path: Path) -> Path:
    """Excel's owner file beside an open workbook: ~$SalesBook.xlsm."""
    return path.with_name("~$" + path.name)


class FileBook(Book):
    """The master workbook file, edited with openpyxl (VBA and buttons kept) and saved atomically.

    Saving writes a temporary file beside the workbook, copies the old workbook to
    `<name>.bak`, then replaces the workbook in one step. A lock file `~$<name>` or a failed
    replace means Excel has it open: nothing is written and `WorkbookLocked` says so.
    """

    def __init__(self, path: Path):
        import openpyxl

        self.fullname = Path(path).resolve()
        if not self.fullname.exists():
            raise BookError(f"{self.fullname} does not exist. Create it with `salesbook init DIR`.")
        self._check_unlocked()
        remove_stale_temporaries(self.fullname.parent)  # left by a save that was killed
        self._before = self.fullname.stat().st_mtime_ns
        keep_vba = self.fullname.suffix.lower() == ".xlsm"
        try:
            self.wb = openpyxl.load_workbook(self.fullname, keep_vba=keep_vba)
        except Exception as exc:  # noqa: BLE001 - any load failure means the file is not usable
            raise BookError(f"{self.fullname.name} cannot be opened as a workbook ({type(exc).__name__}: {exc}).") from None
        self.messages: list[str] = []

    def _check_unlocked(self) -> None:
        if lock_file(self.fullname).exists():
            raise WorkbookLocked(
                f"{self.fullname.name} is open in Excel ({lock_file(self.fullname).name} exists). "
                "Close it (or use the buttons inside Excel) and run again. Nothing was written."
            )

    def sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def read(self, sheet: str) -> list[list]:
        ws = self.wb[sheet]
        return [list(r) for r in ws.iter_rows(values_only=True)]

    def write(self, data: SheetData) -> None:
        from openpyxl.comments import Comment
        from openpyxl.styles import Font, PatternFill

        if data.name in self.wb.sheetnames:
            old = self.wb[data.name]
            index = self.wb.index(old)
            codename = old.sheet_properties.codeName
            self.wb.remove(old)
            ws = self.wb.create_sheet(data.name, index)
            if codename:
                ws.sheet_properties.codeName = codename
        else:
            ws = self.wb.create_sheet(data.name)
        r0 = data.start_row
        bold = Font(bold=True, color="FFFFFF")
        head_fill = PatternFill("solid", fgColor="1F4E78")
        for j, h in enumerate(data.header, start=1):
            c = ws.cell(row=r0, column=j)
            _string_cell(c, str(h))
            c.font, c.fill = bold, head_fill
            if j - 1 in data.notes:
                c.comment = Comment(xlsx_text(data.notes[j - 1]), "salesbook")
        fills = {k: PatternFill("solid", fgColor=v.lstrip("#")) for k, v in data.fills.items()}
        for i, row in enumerate(data.rows):
            rr = r0 + 1 + i
            fill = fills.get(i)
            for j, v in enumerate(row, start=1):
                v = excel_value(v)
                if v is None and fill is None:
                    continue
                c = ws.cell(row=rr, column=j)
                if isinstance(v, str):
                    _string_cell(c, v)
                else:
                    c.value = v
                if fill is not None:
                    c.fill = fill
                fmt = data.number_formats.get(j - 1)
                if fmt:
                    c.number_format = fmt
                elif isinstance(v, datetime):
                    c.number_format = "yyyy-mm-dd"
        ws.freeze_panes = ws.cell(row=r0 + 1, column=1)
        if data.header:
            from openpyxl.utils import get_column_letter

            last = get_column_letter(len(data.header))
            ws.auto_filter.ref = f"A{r0}:{last}{r0 + max(1, len(data.rows))}"
            for j, h in enumerate(data.header, start=1):
                ws.column_dimensions[get_column_letter(j)].width = max(10, min(36, len(str(h)) * 1.6 + 2))

    def charts(self, sheet: str, charts: list[ChartSpec]) -> None:
        from openpyxl.chart import BarChart, PieChart, Reference

        ws = self.wb[sheet]
        ws._charts = []
        for spec in charts:
            if spec.kind == "pie":
                chart = PieChart()
            else:
                chart = BarChart()
                chart.type = "bar" if spec.kind == "bar" else "col"
                chart.grouping = "clustered"
            chart.title = spec.title
            data = Reference(ws, min_col=spec.first_col + 1, max_col=spec.last_col, min_row=spec.first_row,
                             max_row=spec.last_row)
            cats = Reference(ws, min_col=spec.first_col, max_col=spec.first_col, min_row=spec.first_row + 1,
                             max_row=spec.last_row)
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(cats)
            chart.width, chart.height = 16, 8
            ws.add_chart(chart, spec.anchor)

    def status(self, text: str) -> None:
        self.messages.append(text)

    def finish(self, message: str) -> None:
        self.messages.append(message)

    def save(self) -> None:
        """Temporary file, backup, atomic replace; refuse when the workbook is open elsewhere."""
        self._check_unlocked()
        if self.fullname.stat().st_mtime_ns != self._before:
            raise WorkbookLocked(
                f"{self.fullname.name} changed on disk while salesbook was working (saved in Excel?). "
                "Nothing was written; run the action again."
            )
        backup = self.fullname.with_name(self.fullname.name + ".bak")
        # First: whatever happens next, the last good copy exists. Through a temporary file and a
        # rename, so a link planted at <name>.bak is replaced, never written through.
        atomic_copy(self.fullname, backup)  # with the workbook's mode
        keep_owner(self.fullname, backup)
        fd, tmp = tempfile.mkstemp(prefix=".~sb-", suffix=self.fullname.suffix, dir=self.fullname.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            self.wb.save(tmp_path)
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


# ------------------------------------------------------------------ xlwings backend


def _hex_to_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _as_text(v: object) -> object:
    """Excel parses a string written through Range.value as if typed ("001" → 1, "2026-11" → a date,
    "=x" → a formula); a leading apostrophe keeps it the text it is (and is not part of the value).
    Characters a saved workbook cannot hold become U+FFFD, as in the file backend."""
    return "'" + xlsx_text(v) if isinstance(v, str) and v else v


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
        sheet = self._sheet(data.name)
        sheet.clear()
        r0 = data.start_row
        header = sheet.range((r0, 1))
        header.value = [[_as_text(h) for h in data.header]]
        head = sheet.range((r0, 1), (r0, max(1, len(data.header))))
        head.color = (31, 78, 120)
        head.font.bold = True
        head.font.color = (255, 255, 255)
        for j, note in data.notes.items():
            cell = sheet.range((r0, j + 1))
            cell.note.delete() if cell.note is not None else None
            cell.add_note(note)
        if data.rows:
            width = max(len(data.header), max(len(r) for r in data.rows))
            block = [[_as_text(excel_value(v)) for v in r] + [None] * (width - len(r)) for r in data.rows]
            sheet.range((r0 + 1, 1)).value = block
            for j, fmt in data.number_formats.items():
                sheet.range((r0 + 1, j + 1), (r0 + len(block), j + 1)).number_format = fmt
            for i, colour in data.fills.items():
                sheet.range((r0 + 1 + i, 1), (r0 + 1 + i, width)).color = _hex_to_rgb(colour)

    def charts(self, sheet: str, charts: list[ChartSpec]) -> None:
        ws = self._sheet(sheet)
        for chart in list(ws.charts):
            chart.delete()
        kinds = {"column": "column_clustered", "bar": "bar_clustered", "pie": "pie"}
        for spec in charts:
            anchor = ws.range(spec.anchor)
            chart = ws.charts.add(left=anchor.left, top=anchor.top, width=460, height=230)
            chart.set_source_data(ws.range((spec.first_row, spec.first_col), (spec.last_row, spec.last_col)))
            chart.chart_type = kinds[spec.kind]
            if isinstance(getattr(type(chart), "title", None), property):  # xlwings >= 0.37.3, every engine
                chart.title = spec.title
                continue
            try:  # older xlwings: the Windows COM object (on macOS this fails and the chart has no title)
                chart.api[1].HasTitle = True
                chart.api[1].ChartTitle.Text = spec.title
            except Exception:  # noqa: BLE001 - titles are cosmetic; engines without .api skip them
                pass

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
