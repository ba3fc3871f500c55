"""The cells of a workbook for people, as XML text inside an XlsxWriter workbook.

XlsxWriter spends about 3 µs on a cell (a call that checks and stores it, then an XML element made
at close). The output sheets are tens of thousands of rows with few distinct values per column, so
`FastSheet` is an XlsxWriter worksheet whose `<sheetData>` is text built here a column at a time,
each distinct value's cell XML made once. Everything else in the package (formats, column widths,
row heights, panes, autofilter, conditional formats, print setup, defined names, the hyperlinks and
their relationships, the shared-string table) is XlsxWriter's own, written as it writes it.

A cell is what XlsxWriter's write_* would have made of the value: a string in the shared-string
table (inline when the workbook is written with constant memory, as XlsxWriter then does), a number,
a boolean, a date as a serial in the date format. Text is always a string cell, never a formula.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime

import pandas as pd
from xlsxwriter.packager import Packager
from xlsxwriter.relationships import DOCUMENT_SCHEMA, PACKAGE_SCHEMA, Relationships
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.url import Url
from xlsxwriter.utility import (
    _datetime_to_excel_datetime,
    _preserve_whitespace,
    _utf16_len,
    xl_col_to_name,
)
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

from .ooxml import BIG_PART, DEFLATE_LEVEL
from .writers import _cell  # writers imports this module inside write_xlsx only

EXACT_INT = 2**53  # beyond this a whole number is written as the double a cell holds
ROWS_PER_WRITE = 2_000  # rows of XML joined before they are written to the part


CELLS_MARK = '<salesbook-cells n="{}"/>'  # where sheet n's cells go; text from a file is escaped, never this
_CELLS_AT = re.compile(r'<salesbook-cells n="(\d+)"/>')


class FastWorkbook(Workbook):
    """XlsxWriter's workbook, packaged by `FastPackager`; made in memory, its big parts (the sheets,
    the shared strings, the hyperlinks' relationships) are compressed at DEFLATE_LEVEL."""

    def _get_packager(self):
        return FastPackager()

    def _store_workbook(self) -> None:
        if not self.in_memory:
            super()._store_workbook()
            return
        # XlsxWriter packages the workbook into memory with the big parts left empty (FastPackager
        # keeps them in `big_parts`); then each part is copied, in XlsxWriter's order and with its dates.
        target, self.filename = self.filename, io.BytesIO()
        self.big_parts: dict[str, bytes] = {}
        for ws in self.worksheets():  # a sheet's cells as UTF-8 aside, not in its part's text (4 bytes a character)
            ws.cells_aside = []
        try:
            super()._store_workbook()
            built = self.filename
        finally:
            self.filename = target
        with zipfile.ZipFile(built) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED,
                                                            allowZip64=self.allow_zip64) as zout:
            for info in zin.infolist():
                part = zipfile.ZipInfo(info.filename, info.date_time)
                part.compress_type, part.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
                big = self.big_parts.pop(info.filename, None)
                if big is None:
                    zout.writestr(part, zin.read(info.filename))
                else:
                    zout.writestr(part, big, compresslevel=DEFLATE_LEVEL)


class FastSheet(Worksheet):
    """An XlsxWriter worksheet whose `<sheetData>` comes from `rows_xml(write)` when it is set, and
    whose links into files (`links`, in row and column order) are written as XlsxWriter writes them."""

    def __init__(self) -> None:
        super().__init__()
        self.rows_xml: Callable[[Callable[[str], object]], None] | None = None
        self.links: list[tuple[str, str, str]] = []  # (cell, relationship target, escaped anchor)
        self.cells_aside: list[bytes] | None = None  # the `<sheetData>` as UTF-8, when the workbook is in memory

    def _write_sheet_data(self) -> None:
        if self.rows_xml is None:
            super()._write_sheet_data()
        elif self.cells_aside is not None:  # in memory: the part gets a mark, FastPackager puts the cells there
            chunks = self.cells_aside
            self.rows_xml(lambda text: chunks.append(text.encode("utf-8")))
            self.fh.write(CELLS_MARK.format(self.index))
        else:
            self.rows_xml(self.fh.write)

    def _write_hyperlinks(self) -> None:
        if not self.links:
            super()._write_hyperlinks()
            return
        parts = ["<hyperlinks>"]
        rels = self.external_hyper_links
        for ref, target, anchor in self.links:
            self.rel_count += 1
            where = f' location="{anchor}"' if anchor else ""
            parts.append(f'<hyperlink ref="{ref}" r:id="rId{self.rel_count}"{where}/>')
            rels.append(["/hyperlink", target, "External"])
        parts.append("</hyperlinks>")
        self.fh.write("".join(parts))


class FastPackager(Packager):
    """XlsxWriter's packager; the shared strings and the worksheets' relationships (one per hyperlink)
    written as XlsxWriter writes them, a string at a time instead of an element at a time."""

    def _create_package(self):
        files = super()._create_package()
        big = getattr(self.workbook, "big_parts", None)
        if not self.in_memory or big is None:
            return files
        sheets = self.workbook.worksheets()
        out = []
        for k, (fh, name, binary) in enumerate(files):
            files[k] = None  # each part's text goes as its bytes are made (all held to the end: ~20 MiB more)
            if not binary:
                text = fh.getvalue()
                mark = _CELLS_AT.search(text)
                if mark is not None:
                    ws = sheets[int(mark.group(1))]
                    big[name] = b"".join([text[:mark.start()].encode("utf-8"), *ws.cells_aside,
                                          text[mark.end():].encode("utf-8")])
                    ws.cells_aside = None
                    fh = io.StringIO()
                elif len(text) >= BIG_PART:
                    big[name] = text.encode("utf-8")
                    fh = io.StringIO()
            out.append((fh, name, binary))
        return out

    def _write_shared_strings_file(self) -> None:
        if not self.workbook.str_table.count:
            return
        sst = _SharedStrings()
        sst.string_table = self.workbook.str_table
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()

    def _write_worksheet_rels_files(self) -> None:
        index = 0
        for ws in self.workbook.worksheets():
            if ws.is_chartsheet:
                continue
            index += 1
            links = (ws.external_hyper_links + ws.external_drawing_links + ws.external_vml_links
                     + ws.external_background_links + ws.external_table_links + ws.external_comment_links)
            if links:
                rels = _Relationships()
                rels.relationships = [(DOCUMENT_SCHEMA + kind, target, mode) for kind, target, mode in links]
                rels._set_xml_writer(self._filename(f"xl/worksheets/_rels/sheet{index}.xml.rels"))
                rels._assemble_xml_file()


# A shared string XlsxWriter writes as it is: no character to escape, no space to keep at either end.
_PLAIN_STRING = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff&<>]|_x[0-9a-fA-F]{4}_|^\s|\s$")


class _SharedStrings(SharedStrings):
    def _write_sst_strings(self) -> None:
        plain = _PLAIN_STRING.search
        parts: list[str] = []
        for string in self.string_table.string_array:
            if plain(string) is None:
                parts.append(f"<si><t>{string}</t></si>")
            else:  # XlsxWriter's own escapes, in order with the rest
                self.fh.write("".join(parts))
                parts.clear()
                self._write_si(string)
            if len(parts) >= ROWS_PER_WRITE:
                self.fh.write("".join(parts))
                parts.clear()
        self.fh.write("".join(parts))


class _Relationships(Relationships):
    def _write_relationships(self) -> None:
        escape = self._escape_attributes
        known: dict[str, str] = {}
        parts = [f'<Relationships xmlns="{PACKAGE_SCHEMA}">']
        for kind, target, mode in self.relationships:
            head = known.get(kind)
            if head is None:
                head = known[kind] = f'" Type="{escape(kind)}" Target="'
            shown = known.get(target)
            if shown is None:
                shown = known[target] = escape(target)
            tail = f' TargetMode="{escape(mode)}"' if mode else ""
            parts.append(f'<Relationship Id="rId{self.id}{head}{shown}"{tail}/>')
            self.id += 1
        parts.append("</Relationships>")
        self.fh.write("".join(parts))


class CellText:
    """Cell XML of one workbook: each cell is `<c r="A2"` followed by a suffix made here."""

    def __init__(self, wb, *, inline: bool) -> None:
        self.strings = wb.str_table
        self.inline = inline
        self.date_1904 = wb.date_1904
        self._made: dict[tuple[str, str], tuple[str, bool]] = {}  # (text, style) -> (suffix, shared)

    def text(self, s: str, style: str) -> str | None:
        """A string cell holding `s` (already as a worksheet can hold it); None for empty text.
        Each call is one use of the string (the shared-string table counts them)."""
        if not s:
            return None
        key = (s, style)
        found = self._made.get(key)
        if found is not None:
            if found[1]:
                self.strings.count += 1
            return found[0]
        # XlsxWriter copies a shared string of the form "<r>…</r>" into the table unescaped, as rich
        # text: such text from a file would be markup, so it is an escaped inline string instead.
        if self.inline or (s.startswith("<r>") and s.endswith("</r>")):
            esc = XMLwriter._escape_control_characters(s)
            space = ' xml:space="preserve"' if _preserve_whitespace(esc) else ""
            esc = esc.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            made = f'{style} t="inlineStr"><is><t{space}>{esc}</t></is></c>', False
        else:
            made = f'{style} t="s"><v>{self.strings._get_shared_string_index(s)}</v></c>', True
        if len(self._made) < 500_000:
            self._made[key] = made
        return made[0]

    def counted(self, extra: int) -> None:
        """`extra` more uses of shared strings than `text` was asked for."""
        if not self.inline:
            self.strings.count += extra

    def number(self, v: object, style: str) -> str | None:
        """A number cell; NaN and missing values are no cell, ±inf the #DIV/0! XlsxWriter makes."""
        if v.__class__ is not float and v.__class__ is not int:
            if isinstance(v, bool):
                return self.boolean(v, style)
            if not isinstance(v, int | float):
                return None  # pd.NA in a nullable column: a blank
            v = float(v) if isinstance(v, float) else int(v)
        if v != v:
            return None
        if v.__class__ is float and math.isinf(v):
            return f'{style} t="e"><f>{"1/0" if v > 0 else "-1/0"}</f><v>#DIV/0!</v></c>'
        return f"{style}><v>{number_text(v)}</v></c>"

    @staticmethod
    def boolean(v: object, style: str) -> str:
        return f'{style} t="b"><v>{1 if v else 0}</v></c>'

    def when(self, v: date, style: str) -> str:
        """A date (or date and time) as Excel's serial number, as XlsxWriter's write_datetime makes it."""
        if not isinstance(v, datetime):
            v = datetime(v.year, v.month, v.day)
        return f"{style}><v>{_datetime_to_excel_datetime(v, self.date_1904, False):.16G}</v></c>"


def number_text(v: int | float) -> str:
    """The shortest text Excel reads back as exactly this number (Python's repr, "12" for 12.0)."""
    if v.__class__ is int:
        if -EXACT_INT <= v <= EXACT_INT:
            return str(v)
        v = float(v)
    r = repr(v)
    return r[:-2] if r.endswith(".0") else r


def column_suffixes(cells: CellText, values: Sequence[object], kind: str, style: str, date_style: str,
                    xlsx_text: Callable[[str], str]) -> list[str | None]:
    """Each value's cell suffix (None for no cell), as the old cell-by-cell writer typed it: a numeric
    or boolean column by its dtype, anything else by each value's type."""
    if kind in "fiu":
        shown = {v: cells.number(v, style) for v in set(values)}
        return list(map(shown.__getitem__, values))
    if kind == "b":
        return [cells.boolean(v, style) if isinstance(v, bool | int) else None for v in values]
    if set(map(type, values)) <= _TEXT_TYPES:  # text and blanks: a cell per distinct text
        shown = {v: _suffix(cells, v, style, date_style, xlsx_text) for v in dict.fromkeys(values)}
        shared = [v for v, x in shown.items() if x is not None and x.endswith("</v></c>")]
        if len(shared) == len(shown) - (None in shown) - ("" in shown):  # every text a shared string
            cells.counted(len(values) - values.count(None) - values.count("") - len(shared))
        else:
            cells.counted(sum(values.count(v) for v in shared) - len(shared))
        return list(map(shown.__getitem__, values))
    out = []
    cache: dict[tuple[type, object], str | None] = {}
    for v in values:
        key = (v.__class__, v)
        try:
            found = cache[key]
        except KeyError:
            found = cache[key] = _suffix(cells, v, style, date_style, xlsx_text)
        except TypeError:  # an unhashable value: made for this cell alone
            found = _suffix(cells, v, style, date_style, xlsx_text)
        out.append(found)
    asked = sum(1 for x in cache.values() if x is not None and x.endswith("</v></c>") and ' t="s">' in x)
    if asked:
        cells.counted(sum(1 for x in out if x is not None and x.endswith("</v></c>") and ' t="s">' in x) - asked)
    return out


_TEXT_TYPES = frozenset({str, type(None)})


def _suffix(cells: CellText, v: object, style: str, date_style: str, xlsx_text: Callable[[str], str]) -> str | None:
    """What the cell-by-cell writer made of a value in a column of mixed values (writers._write_any)."""
    if v.__class__ is str:
        return cells.text(xlsx_text(v), style) if v else None
    if v is pd.NaT:
        return None
    if isinstance(v, date):
        return cells.when(v, date_style)
    v = _cell(v)  # blanks, NaN; a flag among other values is the text TRUE / FALSE, as in the CSV
    if isinstance(v, int | float) and not isinstance(v, bool):
        return cells.number(v, style)
    if isinstance(v, str):
        return cells.text(xlsx_text(v), style) if v else None
    text = str(v)  # anything else (a numpy integer, bytes, …) as its text, as write_string wrote it
    return cells.text(xlsx_text(text), style) if text else None


def column_xml(letter: str, rows: Sequence[str], suffixes: Sequence[str | None]) -> list[str]:
    """The column's cells as XML (an empty string where there is no cell); rows[i] is row i's number."""
    return [f'<c r="{letter}{r}"{s}' if s is not None else "" for r, s in zip(rows, suffixes, strict=True)]


def link(ws, target: str, urls: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    """(relationship target, escaped anchor) of a hyperlink to `target` in a team file, as XlsxWriter's
    write_url(…, "external:" + target) makes them; None when Excel could not hold the link (the cell
    then keeps its value, as write_url leaves it)."""
    url = "external:" + target
    head, hash_, anchor = url.partition("#")
    most = ws.max_url_length
    if (2 * len(head) > most and _utf16_len(head) > most) or (2 * len(anchor) > most and _utf16_len(anchor) > most):
        return None
    ws.hlink_count += 1
    if ws.hlink_count > 65530:
        return None
    if not hash_ or len(head) < len("external:") + 2:  # XlsxWriter's reading of a short path: its own way
        made = Url(url)
        return made._target(), ws._escape_attributes(made._anchor)
    found = urls.get(head)
    if found is None:  # made once per file: a link's place in the file (after "#") is only its anchor
        found = urls[head] = (Url(head)._target(), "")
    # XlsxWriter turns every / of an external link into \, its anchor's too
    return found[0], ws._escape_attributes(anchor.replace("/", "\\"))


def emit_rows(ws, write: Callable[[str], object], header: str, chunks: Iterable[tuple[int, list[str]]],
              note: str, n: int) -> None:
    """Write `<sheetData>`: the header row, the data rows from `chunks` ((index of the first row, each
    row's cells as XML) in order), the note row after the n data rows. A row with no cells is written
    only when it has a height, as XlsxWriter writes it."""
    if ws.dim_rowmin is None:
        write("<sheetData/>")
        return
    info = ws.row_info

    def row(i: int, body: str) -> str:
        if i in info:
            return _row_start(ws, i, empty=not body) + (body + "</row>" if body else "")
        return f'<row r="{i + 1}">{body}</row>' if body else ""

    write("<sheetData>")
    write(row(0, header))
    for first, bodies in chunks:
        xml = [f'<row r="{i}">{body}</row>' if body else "" for i, body in enumerate(bodies, start=first + 1)]
        for i in info:
            if first <= i < first + len(bodies):
                xml[i - first] = row(i, bodies[i - first])
        for start in range(0, len(xml), ROWS_PER_WRITE):
            write("".join(xml[start:start + ROWS_PER_WRITE]))
    after = {i for i in info if i > n} | ({n + 1} if note else set())
    for i in sorted(after):  # the note; a height past the data (none is set there)
        write(row(i, note if i == n + 1 else ""))
    write("</sheetData>")


def _row_start(ws, i: int, *, empty: bool) -> str:
    """The `<row>` tag XlsxWriter writes for row `i` with the height set on it."""
    fh, ws.fh = ws.fh, io.StringIO()
    try:
        ws._write_row(i, None, ws.row_info[i], empty_row=empty)
        return ws.fh.getvalue()
    finally:
        ws.fh = fh


__all__ = ["CellText", "FastPackager", "FastSheet", "FastWorkbook", "column_suffixes", "column_xml", "emit_rows", "link", "number_text",
           "xl_col_to_name"]
