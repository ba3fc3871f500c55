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
    """One column's cells as CSV text, a column at a time (much faster than cell by cell)."""
    vals = series.tolist()
    if series.dtype.kind == "f":
        return ["" if v != v else repr(v) for v in vals]
    if series.dtype.kind in "iu":
        return [str(v) for v in vals]
    if series.dtype.kind == "b":
        return ["TRUE" if v else "FALSE" for v in vals]
    if neutralise:
        return [_csv_text(v) for v in vals]
    return [_cell(v) for v in vals]


CSV_CHUNK_ROWS = 5_000  # rows of text held at a time


def write_csv(path: Path, frame: pd.DataFrame, *, neutralise: bool = True) -> Path:
    """`frame` as CSV, UTF-8 with BOM, CRLF, formula-neutralised text.

    Streamed a block of rows at a time into a temporary file beside `path`, then renamed onto it:
    memory holds one block's text, never the whole file.
    """
    path = Path(path)
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow([str(c) for c in frame.columns])
        for start in range(0, len(frame), CSV_CHUNK_ROWS):
            block = frame.iloc[start:start + CSV_CHUNK_ROWS]
            w.writerows(zip(*(csv_column(block[c], neutralise) for c in frame.columns), strict=True))
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# Column formats by name for the formatted workbooks.
MONEY_COLUMNS = {"amount", "weighted_amount", "revenue", "revenue_target", "collections", "collections_target",
                 "value_amount", "unit_price", "line_total", "subtotal", "total", "base", "commission"}
PCT_COLUMNS = {"probability", "revenue_attainment", "volume_attainment", "collections_attainment",
               "new_customers_attainment", "activities_attainment", "discount"}
RATING_COLOURS = {"S": "#63BE7B", "A": "#A9D08E", "B": "#FFEB84", "C": "#F8CBAD", "D": "#F4B084"}
SEVERITY_COLOURS = {"error": "#F8CBAD", "warning": "#FFEB84", "info": "#DDEBF7"}


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
               max_rows: int | None = None) -> Path:
    """Formatted workbook: frozen header, filters, money with separators, percentages, colours.

    A sheet longer than `max_rows` shows its first rows and says where the rest is.
    Deterministic: a fixed creation date, so the same data gives the same bytes.
    """
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".xlsx", dir=path.parent)  # O_EXCL, random
    os.close(fd)
    try:
        wb = xlsxwriter.Workbook(tmp, {"constant_memory": constant_memory, "strings_to_formulas": False,
                                       "strings_to_urls": False, "nan_inf_to_errors": True})
        wb.set_properties({"created": datetime(2026, 1, 1), "title": "salesbook"})
        head = wb.add_format({"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF", "border": 1,
                              "text_wrap": True, "valign": "top"})
        money = wb.add_format({"num_format": "#,##0.00"})
        pct = wb.add_format({"num_format": "0.0%"})
        datef = wb.add_format({"num_format": "yyyy-mm-dd"})
        colour = {k: wb.add_format({"bg_color": v}) for k, v in {**RATING_COLOURS}.items()}
        sev = {k: wb.add_format({"bg_color": v}) for k, v in SEVERITY_COLOURS.items()}
        for name, frame in sheets:
            ws = wb.add_worksheet(name[:31])
            cols = list(frame.columns)
            for j, c in enumerate(cols):
                ws.write_string(0, j, xlsx_text(str(c)), head)
                width = max(10, min(40, len(str(c)) + 2))
                fmt = money if c in MONEY_COLUMNS else pct if c in PCT_COLUMNS else None
                ws.set_column(j, j, width, fmt)
            shown = frame if max_rows is None else frame.head(max_rows)
            if constant_memory:  # rows must be written in order
                for i, row in enumerate(shown.itertuples(index=False, name=None), start=1):
                    for j, v in enumerate(row):
                        _write_any(ws, i, j, v, datef)
            else:  # a column at a time: one type decision per column, not per cell
                for j, c in enumerate(cols):
                    _write_column(ws, j, shown[c], datef)
            if max_rows is not None and len(frame) > max_rows:
                ws.write_string(len(shown) + 1, 0, f"… {len(frame) - max_rows} more rows: see the CSV or parquet output")
            ws.freeze_panes(1, 0)
            if cols:
                ws.autofilter(0, 0, max(len(frame), 1), len(cols) - 1)
            n = len(frame)
            if n and "rating" in cols:
                j = cols.index("rating")
                for k, f in colour.items():
                    ws.conditional_format(1, j, n, j, {"type": "cell", "criteria": "==", "value": f'"{k}"',
                                                       "format": f})
            if n and "severity" in cols:
                j = cols.index("severity")
                for k, f in sev.items():
                    ws.conditional_format(1, j, n, j, {"type": "cell", "criteria": "==", "value": f'"{k}"',
                                                       "format": f})
        wb.close()
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
