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
from itertools import islice
from pathlib import Path

import pandas as pd

from .atomic import TEMP_PREFIX, atomic_output, atomic_write_bytes, publish

__all__ = ["atomic_write_bytes", "csv_bytes", "needs_neutralising", "neutralize", "write_csv", "write_xlsx",
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
        return list(map(str, vals))
    if kind == "b":
        return ["TRUE" if v else "FALSE" for v in vals]
    convert = _csv_text if neutralise else _cell
    # No numbers or booleans among the values (a text column's blanks are NaN): equal values are
    # the same cell, so each distinct value is converted once.
    if set(map(type, vals)) <= _BY_VALUE or isinstance(series.dtype, pd.StringDtype):
        shown = {v: convert(v) for v in set(vals)}
        return list(map(shown.__getitem__, vals))
    return [convert(v) for v in vals]


# Cell types that compare equal only to themselves (True == 1 == 1.0 would share one entry).
_BY_VALUE = frozenset({str, type(None), date, datetime})


CSV_CHUNK_ROWS = 2_000  # rows converted to text at a time
CSV_FLUSH_ROWS = 250  # rows of CSV text held before they are written


def write_csv(path: Path, frame: pd.DataFrame, *, neutralise: bool = True) -> Path:
    """`frame` as CSV, UTF-8 with BOM, CRLF, formula-neutralised text.

    Streamed a block of rows at a time into a temporary file beside `path`, then renamed onto it:
    memory holds one block's text, never the whole file.
    """
    path = Path(path)
    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        buf = io.StringIO(newline="")
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow([str(c) for c in frame.columns])
        fh.write(b"\xef\xbb\xbf")  # the BOM: Excel then reads the file as UTF-8
        for start in range(0, len(frame), CSV_CHUNK_ROWS):
            block = frame.iloc[start:start + CSV_CHUNK_ROWS]
            rows = zip(*(csv_column(block[c], neutralise) for c in frame.columns), strict=True)
            while part := list(islice(rows, CSV_FLUSH_ROWS)):
                w.writerows(part)
                fh.write(buf.getvalue().encode("utf-8"))  # encoded a few hundred rows at a time, not row by row
                buf.seek(0)
                buf.truncate()
        fh.write(buf.getvalue().encode("utf-8"))
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_any(ws, i: int, j: int, v: object, datef) -> None:
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
               views: dict[str, str] | None = None) -> Path:
    """Workbook for people: each sheet with the look of salesbook.io.presentation — Chinese over English
    headers, widths from the content, number formats, key columns first and frozen, colours by value
    as conditional formats, autofilter, landscape print fitted to the page width with the header repeated.

    `sources` maps a team file's label to its path: rows naming a file (and sheet, cell or row) link to
    that place, relative to this workbook's folder. `views` names the layout view of a sheet whose look
    is not its own name (the HR workbook's 考核表 is the view 人事导出).
    A sheet longer than `max_rows` shows its first rows and says where the rest is.
    Deterministic: a fixed creation date, so the same data gives the same bytes.
    """
    import xlsxwriter

    from .presentation import forget_links, sheet_look

    forget_links()

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".xlsx", dir=path.parent)  # O_EXCL, random
    os.close(fd)
    try:
        wb = xlsxwriter.Workbook(tmp, {"constant_memory": constant_memory, "strings_to_formulas": False,
                                       "strings_to_urls": False, "nan_inf_to_errors": True})
        wb.set_properties({"created": datetime(2026, 1, 1), "title": "salesbook"})
        styles = _XlsxStyles(wb)
        for name, frame in sheets:
            ws = wb.add_worksheet(name[:31])
            look = sheet_look((views or {}).get(name, name), [str(c) for c in frame.columns],
                              sample=lambda k, f=frame: f[k].head(200).tolist())
            shown = frame if max_rows is None else frame.head(max_rows)
            shown = shown[look.keys] if len(look.keys) else shown
            columns = [look.columns[j] for j in range(len(look.keys))]
            display = [_display_column(col, shown[col.key]) for col in columns]
            head = [d[:2000] if d is not None else shown[c.key].head(2000).tolist() for d, c in zip(display, columns,
                                                                                                  strict=True)]
            widths = look.widths([list(r) for r in zip(*head, strict=True)] if head else [])
            for j, col in enumerate(columns):
                ws.write_string(0, j, xlsx_text(col.label), styles.head)
                fmt = styles.column(col)
                ws.set_column(j, j, widths[j], fmt)
            ws.set_row(0, 15 * look.header_lines(widths) + 3)
            if not constant_memory:  # there rows must be written in order, heights with them
                shown_rows = [list(r) for r in zip(*head, strict=True)] if head else []
                for i, height in look.row_heights(shown_rows, widths).items():
                    ws.set_row(i + 1, height)
            links = _links(look.keys, shown, sources, path.parent) if sources else {}
            if constant_memory:  # rows must be written in order
                values = [d if d is not None else shown[c.key].tolist() for d, c in zip(display, columns, strict=True)]
                for i in range(len(shown)):
                    for j in range(len(columns)):
                        if (i, j) in links:
                            _write_link(ws, i + 1, j, links[(i, j)], values[j][i], styles.link)
                        else:
                            _write_any(ws, i + 1, j, values[j][i], styles.date)
            else:  # a column at a time: one type decision per column, not per cell
                for j in range(len(columns)):
                    _write_column(ws, j, pd.Series(display[j], dtype=object) if display[j] is not None else
                                  shown[columns[j].key], styles.date)
                for (i, j), target in links.items():
                    shown_value = display[j][i] if display[j] is not None else shown.iat[i, j]
                    _write_link(ws, i + 1, j, target, shown_value, styles.link)
            n = len(shown)
            if max_rows is not None and len(frame) > max_rows:
                ws.write_string(n + 1, 0, f"… 另有 {len(frame) - max_rows} 行见 CSV 或 parquet / "
                                          f"{len(frame) - max_rows} more rows: see the CSV or parquet output")
            ws.freeze_panes(1, look.frozen)
            if columns:
                ws.autofilter(0, 0, max(n, 1), len(columns) - 1)
            if n:
                from .book import rule_formula

                for rule in look.rules():
                    first_col, last_col = (0, len(columns) - 1) if rule.kind == "row" else (rule.column, rule.column)
                    ws.conditional_format(1, first_col, n, last_col, {"type": "formula",
                                                                      "criteria": "=" + rule_formula(rule, 2),
                                                                      "format": styles.fill(rule.colour)})
            ws.set_landscape()
            ws.set_paper(9)
            ws.fit_to_pages(1, 0)
            ws.repeat_rows(0)
            ws.set_margins(left=0.4, right=0.4)
        wb.close()
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
    return [show(v) for v in series.tolist()]


def _links(keys: list[str], frame: pd.DataFrame, sources: dict[str, str], base: Path) -> dict[tuple[int, int], str]:
    from .presentation import MAX_XLSX_LINKS, row_link

    if "file" not in keys:
        return {}
    out = {}
    records = frame.head(MAX_XLSX_LINKS).to_dict("records")
    for i, rec in enumerate(records):
        found = row_link(rec, sources, base)
        if found is not None and found[0] in keys:
            out[(i, keys.index(found[0]))] = found[1]
    return out


def _write_link(ws, i: int, j: int, target: str, shown: object, fmt) -> None:
    text = xlsx_text("" if shown is None else str(shown))
    ws.write_url(i, j, "external:" + target, fmt, string=text or target)
