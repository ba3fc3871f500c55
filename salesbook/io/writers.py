"""Writing outputs: CSV (UTF-8 with BOM, so Excel shows Chinese) and formatted .xlsx (XlsxWriter).

Text from team files is always text in what we write: in an .xlsx it is a string cell (never a
formula, whatever it starts with), cleaned of characters a worksheet cannot hold; in a CSV, text
Excel would run as a formula gets a leading apostrophe. Every file is written through a
temporary file and an atomic rename (``io.atomic``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .atomic import TEMP_PREFIX, atomic_output, atomic_write_bytes, publish

__all__ = ["atomic_write_bytes", "colours_and_print", "csv_bytes", "needs_neutralising", "neutralize", "write_csv", "write_xlsx",
           "xlsx_text"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# What Excel (and LibreOffice) start a formula with, ASCII and full-width (an IME types ＝).
_FORMULA_CHARS = frozenset("=+-@＝＋－＠")


def needs_neutralising(text: str) -> bool:
    """True for text Excel could run as a formula when it opens a CSV: =, +, -, @ (also full-width ＝＋－＠)
    first, or after leading whitespace; or a leading tab, CR or LF."""
    if not text:
        return False
    if text.startswith(_FORMULA_START):
        return True
    stripped = text.lstrip()  # str.lstrip knows every Unicode space: NBSP, the ideographic U+3000 …
    return bool(stripped) and stripped[0] in _FORMULA_CHARS


def neutralize(value: object) -> object:
    """Text that Excel would run as a formula gets a leading apostrophe; other values pass through."""
    if isinstance(value, str) and needs_neutralising(value):
        return "'" + value
    return value


XLSX_MAX_CHARS = 32_767  # Excel's limit for one cell; longer text makes Excel "repair" the file
# Characters XML 1.0 (so a worksheet) cannot hold: C0 controls but tab/LF/CR, lone surrogates, FFFE/FFFF.
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xlsx_text(text: str) -> str:
    """Text as a worksheet can hold it: each illegal character becomes U+FFFD (visible, so the odd
    value can be found in the team file), cut to Excel's 32,767 characters."""
    if _XLSX_ILLEGAL.search(text):
        text = _XLSX_ILLEGAL.sub("\ufffd", text)
    return text[:XLSX_MAX_CHARS] if len(text) > XLSX_MAX_CHARS else text


def _cell(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return value


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[object]], *, neutralise: bool = True) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([neutralize(_cell(v)) if neutralise else _cell(v) for v in r])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def _csv_text(v: object) -> object:
    if isinstance(v, str):
        return "'" + v if needs_neutralising(v) else v
    return neutralize(_cell(v))


def csv_column(series: pd.Series, neutralise: bool = True) -> list:
    """One column's cells as CSV text, a column at a time (much faster than cell by cell).

    Numbers are written as Python writes them (repr: 1234.5, 1e+20; NaN as a blank cell); a column
    of text, dates and blanks is converted once per distinct value, so a text repeated down the
    column is checked for a formula start once.
    """
    vals = series.tolist()
    kind = series.dtype.kind
    if kind == "f":
        out = list(map(repr, vals))  # repr is "nan" only for NaN
        return ["" if v == "nan" else v for v in out] if "nan" in out else out
    if kind in "iu":
        return list(map(str, vals)) if not series.hasnans else ["" if v is pd.NA else str(v) for v in vals]
    if kind == "b":
        return ["" if v is pd.NA else "TRUE" if v else "FALSE" for v in vals]
    convert = _csv_text if neutralise else _cell
    # No numbers or booleans among the values (a text column's blanks are NaN): equal values are
    # the same cell, so each distinct value is converted once.
    if set(map(type, vals)) <= _BY_VALUE or isinstance(series.dtype, pd.StringDtype):
        shown = {v: convert(v) for v in set(vals)}
        return list(map(shown.__getitem__, vals))
    return [convert(v) for v in vals]


# Cell types that compare equal only to themselves (True == 1 == 1.0 would share one entry).
_BY_VALUE = frozenset({str, type(None), date, datetime})


CSV_BLOCK_ROWS = 32_768  # rows made into CSV text at a time: memory holds one block's text, never the whole file
_LARGE = pa.large_string()
_COMMA, _CRLF, _EMPTY, _QUOTE, _APOSTROPHE = (pa.scalar(t, _LARGE) for t in (",", "\r\n", "", '"', "'"))


def _formula_pattern() -> str:
    """needs_neutralising as an RE2 pattern: a formula character first, or after what str.lstrip strips."""
    def cls(chars) -> str:
        return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"
    spaces = [c for c in map(chr, range(0x3001)) if c.isspace()]  # U+3000 is the last character isspace knows
    return f"^{cls(_FORMULA_START)}|^{cls(spaces)}*{cls(sorted(_FORMULA_CHARS))}"


_FORMULA_PATTERN = _formula_pattern()


def write_csv(path: Path, frame: pd.DataFrame, *, neutralise: bool = True) -> Path:
    """`frame` as CSV, UTF-8 with BOM, CRLF, formula-neutralised text: the bytes `csv.writer` writes
    (minimal quoting) of `csv_column`'s cells.

    Each block of rows is made a column at a time in Arrow (text turned into CSV fields once per
    distinct value of the block, the rows joined by Arrow's kernels) and written into a temporary
    file beside `path`, then renamed onto it.
    """
    path = Path(path)
    names = [str(c) for c in frame.columns]
    series = [frame.iloc[:, j] for j in range(len(names))]
    columns = [_arrow_column(col) for col in series]
    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        fh.write(b"\xef\xbb\xbf")  # the BOM: Excel then reads the file as UTF-8
        if not names:  # no columns: the empty header line alone, as csv.writer wrote it (no kernel joins zero columns)
            fh.write(b"\r\n")
            return path
        fh.write((",".join(map(_csv_field, names)) if names != [""] else '""').encode("utf-8") + b"\r\n")
        for start in range(0, len(frame), CSV_BLOCK_ROWS):
            stop = min(start + CSV_BLOCK_ROWS, len(frame))
            fields = [_csv_fields(col, arrow, start, stop, neutralise) for col, arrow in zip(series, columns, strict=True)]
            if len(fields) == 1:  # csv.writer writes a row of one empty field as "" (an empty line is no row)
                fields[0] = pc.if_else(pc.equal(fields[0], _EMPTY), pa.scalar('""', _LARGE), fields[0])
            lines = pc.binary_join_element_wise(*fields, _COMMA)
            lines = pc.binary_join_element_wise(lines, _EMPTY, _CRLF)  # each row ends in CRLF
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
            first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
            fh.write(memoryview(lines.buffers()[2])[first:last])
    return path


def _arrow_column(series: pd.Series) -> pa.Array | None:
    """A text column's Arrow array (pandas keeps it so: no copy), else None."""
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        arr = pa.array(series.array)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        return arr if arr.type == _LARGE else arr.cast(_LARGE)
    return None


def _csv_fields(column: pd.Series, arrow: pa.Array | None, start: int, stop: int, neutralise: bool) -> pa.Array:
    """One column's cells of rows start:stop as CSV fields (quoted where csv.writer quotes); `arrow`: the
    column's Arrow text, when it is text."""
    if arrow is not None:  # text: each distinct value of the block looked at, and changed, by Arrow's kernels
        coded = pc.dictionary_encode(arrow.slice(start, stop - start))
        distinct = coded.dictionary
        if neutralise:
            distinct = _changed(distinct, pc.match_substring_regex(distinct, _FORMULA_PATTERN), _apostrophe_first)
        distinct = _changed(distinct, pc.match_substring_regex(distinct, '[,"\r\n]'), _quoted)
        return pc.fill_null(distinct.take(coded.indices), _EMPTY)
    block = column.iloc[start:stop]
    kind = block.dtype.kind
    numpy = isinstance(block.dtype, np.dtype)  # no blanks among its values (Int64's <NA> are csv_column's)
    if kind in "iu" and numpy:
        return pa.array(block.to_numpy()).cast(_LARGE)  # Arrow writes an integer as str() does
    if kind == "b" and numpy:
        return pc.if_else(pa.array(block.to_numpy()), pa.scalar("TRUE", _LARGE), pa.scalar("FALSE", _LARGE))
    if kind == "f":  # repr has no comma, quote or line break: never quoted
        return pa.array(csv_column(block, neutralise), _LARGE)
    shown: dict[str, str] = {}
    return pa.array([shown[t] if t in shown else shown.setdefault(t, _csv_field(t))
                     for t in map(_as_text, csv_column(block, neutralise))], _LARGE)


def _changed(texts: pa.Array, mask: pa.Array, change) -> pa.Array:
    """`texts` with those under `mask` (few, as a rule: a formula start, a comma) made `change(those)`."""
    if not pc.any(mask).as_py():
        return texts
    return pc.replace_with_mask(texts, mask, change(texts.filter(mask)))


def _apostrophe_first(texts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(_APOSTROPHE, texts, _EMPTY)


def _quoted(texts: pa.Array) -> pa.Array:
    """As _csv_field quotes: in quotes, a quote doubled."""
    return pc.binary_join_element_wise(_QUOTE, pc.replace_substring(texts, '"', '""'), _QUOTE, _EMPTY)


def _as_text(v: object) -> str:
    """What csv.writer writes for a cell: text as it is, nothing for None, a float by repr, else str()."""
    if v.__class__ is str:
        return v
    if v is None:
        return ""
    return float.__repr__(v) if isinstance(v, float) else str(v)


def _csv_field(text: str) -> str:
    """`text` as csv.writer's minimal quoting writes it: quoted when it holds a comma, a quote or a line break."""
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\r" in text or "\n" in text:
        return '"' + text + '"'
    return text


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_any(ws, i: int, j: int, v: object, datef) -> None:
    if v is pd.NaT:  # a missing date and time (NaT is a datetime too): a blank cell
        return
    v = _cell(v) if not isinstance(v, date) else v
    if isinstance(v, datetime):
        ws.write_datetime(i, j, v, datef)
    elif isinstance(v, date):
        ws.write_datetime(i, j, datetime(v.year, v.month, v.day), datef)
    elif isinstance(v, bool):
        ws.write_boolean(i, j, v)
    elif isinstance(v, int | float):
        ws.write_number(i, j, v)
    elif v != "":
        ws.write_string(i, j, xlsx_text(str(v)))  # a string cell: "=…" stays text, no apostrophe needed


def _write_column(ws, j: int, series: pd.Series, datef) -> None:
    vals = series.tolist()
    kind = series.dtype.kind
    if kind in "fiu":
        write = ws.write_number
        for i, v in enumerate(vals, start=1):
            if v == v:  # not NaN
                write(i, j, v)
        return
    if kind == "b":
        for i, v in enumerate(vals, start=1):
            ws.write_boolean(i, j, bool(v))
        return
    write = ws.write_string
    for i, v in enumerate(vals, start=1):
        if v.__class__ is str:
            if v:
                write(i, j, xlsx_text(v))
        else:
            _write_any(ws, i, j, v, datef)


def write_xlsx(path: Path, sheets: list[tuple[str, pd.DataFrame]], *, constant_memory: bool = False,
               max_rows: int | None = None, sources: dict[str, str] | None = None,
               views: dict[str, str] | None = None, _cell_by_cell: bool = False) -> Path:
    """Workbook for people: each sheet with the look of salesbook.io.presentation — Chinese over English
    headers, widths from the content, number formats, key columns first and frozen, colours by value
    as conditional formats, autofilter, landscape print fitted to the page width with the header repeated.

    `sources` maps a team file's label to its path: rows naming a file (and sheet, cell or row) link to
    that place, relative to this workbook's folder. `views` names the layout view of a sheet whose look
    is not its own name (the HR workbook's 考核表 is the view 人事导出).
    A sheet longer than `max_rows` shows its first rows and says where the rest is.
    `constant_memory` (a workbook of every row) keeps memory low: strings inline, parts streamed to disk.
    Deterministic: a fixed creation date, so the same data gives the same bytes.

    The cells are XML text made a column at a time (`io.xlsxcells`) inside XlsxWriter's workbook;
    `_cell_by_cell` writes them with XlsxWriter's write_* calls instead (the reference the tests compare).
    """
    import xlsxwriter

    from .presentation import forget_links
    from .xlsxcells import FastSheet, FastWorkbook

    forget_links()

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".xlsx", dir=path.parent)  # O_EXCL, random
    os.close(fd)
    try:
        options = {"strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": True}
        if _cell_by_cell:
            options["constant_memory"] = constant_memory
        else:  # a capped workbook is small: its parts are made in memory, not in temporary files
            options["in_memory"] = not constant_memory
        wb = (xlsxwriter.Workbook if _cell_by_cell else FastWorkbook)(tmp, options)
        wb.set_properties({"created": datetime(2026, 1, 1), "title": "salesbook"})
        styles = _XlsxStyles(wb)
        for name, frame in sheets:
            ws = wb.add_worksheet(name[:31], worksheet_class=None if _cell_by_cell else FastSheet)
            plan = _SheetPlan(name, frame, max_rows, (views or {}).get(name, name), sources, path.parent,
                              heights=not (_cell_by_cell and constant_memory),
                              links=_links_by_record if _cell_by_cell else _links)
            for j, col in enumerate(plan.columns):
                ws.set_column(j, j, plan.widths[j], styles.column(col))
            ws.set_row(0, plan.header_height)
            for i, height in plan.heights.items():
                ws.set_row(i + 1, height)
            if _cell_by_cell:
                _write_cells(ws, plan, styles, constant_memory)
            else:
                _fast_cells(ws, plan, styles, inline=constant_memory)
            ws.freeze_panes(1, plan.look.frozen)
            if plan.columns:
                ws.autofilter(0, 0, max(plan.n, 1), len(plan.columns) - 1)
            colours_and_print(ws, plan.look, plan.n, len(plan.columns), styles.fill)
        wb.close()
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class _SheetPlan:
    """What one sheet shows: its look, the rows shown, each column's shown values, widths, heights, links."""

    def __init__(self, name: str, frame: pd.DataFrame, max_rows: int | None, view: str,
                 sources: dict[str, str] | None, base: Path, *, heights: bool, links=None) -> None:
        from .presentation import sheet_look

        self.name = name
        self.look = look = sheet_look(view, [str(c) for c in frame.columns],
                                      sample=lambda k, f=frame: f[k].head(200).tolist())
        shown = frame if max_rows is None else frame.head(max_rows)
        self.shown = shown = shown[look.keys] if len(look.keys) else shown
        self.columns = columns = [look.columns[j] for j in range(len(look.keys))]
        self.display = display = [_display_column(col, shown[col.key]) for col in columns]
        head = [d[:2000] if d is not None else shown[c.key].head(2000).tolist()
                for d, c in zip(display, columns, strict=True)]
        rows = [list(r) for r in zip(*head, strict=True)] if head else []
        self.widths = widths = look.widths(rows)
        self.header_height = 15 * look.header_lines(widths) + 3
        self.heights = look.row_heights(rows, widths) if heights else {}
        self.links = (links or _links)(look.keys, shown, sources, base) if sources else {}
        self.n = len(shown)
        self.more = len(frame) - max_rows if max_rows is not None and len(frame) > max_rows else 0

    def values(self, j: int) -> list | pd.Series:
        """Column j as shown: the display values, or the frame's column as it is."""
        d = self.display[j]
        return d if d is not None else self.shown[self.columns[j].key]

    @property
    def note(self) -> str:
        return f"… 另有 {self.more} 行见 CSV 或 parquet / {self.more} more rows: see the CSV or parquet output"


def _write_cells(ws, plan: _SheetPlan, styles: _XlsxStyles, constant_memory: bool) -> None:
    """The cells by XlsxWriter's write_* calls (the reference for the text-built cells)."""
    columns, links = plan.columns, plan.links
    for j, col in enumerate(columns):
        ws.write_string(0, j, xlsx_text(col.label), styles.head)
    if constant_memory:  # rows must be written in order
        values = [list(plan.values(j)) for j in range(len(columns))]
        for i in range(plan.n):
            for j in range(len(columns)):
                if (i, j) in links:
                    _write_link(ws, i + 1, j, links[(i, j)], values[j][i], styles.link)
                else:
                    _write_any(ws, i + 1, j, values[j][i], styles.date)
    else:  # a column at a time: one type decision per column, not per cell
        for j in range(len(columns)):
            d = plan.display[j]
            _write_column(ws, j, pd.Series(d, dtype=object) if d is not None else plan.values(j), styles.date)
        for (i, j), target in links.items():
            shown_value = plan.display[j][i] if plan.display[j] is not None else plan.shown.iat[i, j]
            _write_link(ws, i + 1, j, target, shown_value, styles.link)
    if plan.more:
        ws.write_string(plan.n + 1, 0, plan.note)


LAZY_ROWS = 20_000  # rows of cells made at a time when the sheet is written


def _fast_cells(ws, plan: _SheetPlan, styles: _XlsxStyles, *, inline: bool) -> None:
    """The sheet's cells as XML text, a column at a time, written when XlsxWriter writes the sheet.

    With shared strings every text is put in the table now (XlsxWriter writes the table after the
    sheets); with inline strings (a workbook of every row) the cells are made when the sheet is
    written, LAZY_ROWS rows at a time, so memory holds one block of one sheet."""
    from bisect import bisect_left

    from .xlsxcells import CellText, column_suffixes, column_xml, emit_rows, link, xl_col_to_name

    cells = CellText(styles.wb, inline=inline)
    columns, n = plan.columns, plan.n
    style = [f' s="{styles.column(col)._get_xf_index()}"' for col in columns]
    date_style = f' s="{styles.date._get_xf_index()}"'
    head_style = f' s="{styles.head._get_xf_index()}"'
    link_style = f' s="{styles.link._get_xf_index()}"'
    letters = [xl_col_to_name(j) for j in range(len(columns))]
    header = "".join(f'<c r="{letters[j]}1"{cells.text(xlsx_text(col.label), head_style) or head_style + "/>"}'
                     for j, col in enumerate(columns))  # an empty label: a blank cell in the header's look
    links = sorted(plan.links.items())
    where = [ij for ij, _ in links]
    urls: dict = {}
    texts: dict[object, str] = {}

    def part(start: int, stop: int) -> list[list[str | None]]:
        """Each column's cell suffixes for rows start..stop (0 the first data row), links made."""
        out = []
        shown_values = []
        for j in range(len(columns)):
            values = plan.values(j)
            if isinstance(values, pd.Series):
                kind = values.dtype.kind
                values = values.tolist() if (start, stop) == (0, n) else values.iloc[start:stop].tolist()
            else:
                kind = "O"
                values = values if (start, stop) == (0, n) else values[start:stop]
            shown_values.append(values)
            out.append(column_suffixes(cells, values, kind, style[j], date_style, xlsx_text))
        for (i, j), target in links[bisect_left(where, (start, -1)):bisect_left(where, (stop, -1))]:
            made = link(ws, target, urls)
            if made is not None:
                shown = shown_values[j][i - start]
                text = texts.get(shown) if shown.__class__ is str else None
                if text is None:
                    text = xlsx_text("" if shown is None else str(shown))
                    if shown.__class__ is str:
                        texts[shown] = text
                ws.links.append((f"{letters[j]}{i + 2}", *made))
                out[j][i - start] = cells.text(text or target, link_style)
        return out

    def rows(start: int, suffixes: list[list[str | None]]) -> list[str]:
        count = len(suffixes[0]) if suffixes else 0
        numbers = [str(i) for i in range(start + 2, start + 2 + count)]
        xml = [column_xml(letters[j], numbers, suffixes[j]) for j in range(len(columns))]
        return list(map("".join, zip(*xml, strict=True)))

    blocks = range(0, n, LAZY_ROWS) if columns else range(0)
    if inline:
        made = None

        def chunks():
            for start in blocks:
                yield start + 1, rows(start, part(start, min(n, start + LAZY_ROWS)))
    else:
        made = part(0, n)

        def chunks():
            for start in blocks:
                yield start + 1, rows(start, [s[start:start + LAZY_ROWS] for s in made])
    note = f'<c r="A{n + 2}"{cells.text(plan.note, style[0] if columns else "")}' if plan.more else ""
    if columns or plan.more:
        ws._check_dimensions(0, 0)
        ws._check_dimensions(n + 1 if plan.more else n, max(len(columns) - 1, 0))
    ws.rows_xml = lambda write: emit_rows(ws, write, header, chunks(), note, n)


def colours_and_print(ws, look, last_row: int, n_columns: int, fill) -> None:
    """An XlsxWriter sheet's conditional colours over rows 1..`last_row` (none when 0) and its print
    setup: A4 landscape, one page wide, the header row repeated. `fill(colour)` gives a format."""
    from .presentation import rule_formula  # not from book: that imports openpyxl, ~0.13 s in the xlsx writer

    if last_row:
        for rule in look.rules():
            first_col, last_col = (0, n_columns - 1) if rule.kind == "row" else (rule.column, rule.column)
            ws.conditional_format(1, first_col, last_row, last_col, {"type": "formula",
                                                                     "criteria": "=" + rule_formula(rule, 2),
                                                                     "format": fill(rule.colour)})
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4)


class _XlsxStyles:
    """XlsxWriter formats, made once per workbook."""

    def __init__(self, wb) -> None:
        from .presentation import HEADER_FILL, HEADER_FONT

        self.wb = wb
        self.head = wb.add_format({"bold": True, "bg_color": HEADER_FILL, "font_color": HEADER_FONT, "border": 1,
                                   "text_wrap": True, "valign": "vcenter"})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
        self.link = wb.add_format({"font_color": "#0563C1", "underline": 1, "valign": "top"})
        self._columns: dict[tuple[str | None, bool], object] = {}
        self._fills: dict[str, object] = {}

    def column(self, col):
        key = (col.number_format, col.wrap)
        if key not in self._columns:
            spec: dict[str, object] = {"valign": "top"}
            if col.number_format:
                spec["num_format"] = col.number_format
            if col.wrap:
                spec["text_wrap"] = True
            self._columns[key] = self.wb.add_format(spec)
        return self._columns[key]

    def fill(self, colour: str):
        if colour not in self._fills:
            self._fills[colour] = self.wb.add_format({"bg_color": colour})
        return self._fills[colour]


def _display_column(col, series: pd.Series) -> list | None:
    """The column as the sheet shows it (flags, enum names, whole numbers), None when shown as it is."""
    from .presentation import display_function

    show = display_function(col)
    if show is None:
        return None
    values = series.tolist()
    if set(map(type, values)) <= _SHOWN_ONCE:  # a value shows the same wherever it is: once per distinct value
        shown = {v: show(v) for v in set(values)}
        return list(map(shown.__getitem__, values))
    return [show(v) for v in values]


# Cell types whose equal values are one value (not True == 1 == 1.0) and show the same.
_SHOWN_ONCE = frozenset({str, type(None), float, date, datetime})


def _links(keys: list[str], frame: pd.DataFrame, sources: dict[str, str], base: Path) -> dict[tuple[int, int], str]:
    """(row, column) -> hyperlink of the rows that point into a team file (the first MAX_XLSX_LINKS)."""
    from .presentation import MAX_XLSX_LINKS, sheet_links

    return sheet_links(keys, frame, sources, base, MAX_XLSX_LINKS)


def _links_by_record(keys: list[str], frame: pd.DataFrame, sources: dict[str, str],
                     base: Path) -> dict[tuple[int, int], str]:
    """`_links` a record at a time with `row_link` (the reference the cell-by-cell writer uses)."""
    from .presentation import MAX_XLSX_LINKS, row_link

    if "file" not in keys:
        return {}
    out = {}
    for i, rec in enumerate(frame.head(MAX_XLSX_LINKS).to_dict("records")):
        found = row_link(rec, sources, base)
        if found is not None and found[0] in keys:
            out[(i, keys.index(found[0]))] = found[1]
    return out


def _write_link(ws, i: int, j: int, target: str, shown: object, fmt) -> None:
    text = xlsx_text("" if shown is None else str(shown))
    ws.write_url(i, j, "external:" + target, fmt, string=text or target)
