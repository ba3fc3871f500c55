"""A worksheet's cells as openpyxl writes them, built as text: the master's big output sheets.

openpyxl spends most of a save of the master on the output sheets' cells (a style object hashed for
every font, fill and alignment set, then an XML element per cell). Those sheets are thousands of rows
in a handful of looks, so `SheetCells` works out each look once (on a cell openpyxl styles, so fonts,
fills and formats are registered in the workbook exactly as before), writes each cell's XML as
openpyxl would (inline strings, the same number text, the same escapes) and, after openpyxl has saved
the workbook with those sheets holding only the cells that carry comments and links, puts the
`<sheetData>` in place. Everything else in the file (VBA, the other sheets, print setup, conditional
formats, links, comments) is openpyxl's own.
"""

from __future__ import annotations

import re
import zipfile
from datetime import timedelta
from pathlib import Path

from openpyxl.cell.cell import Cell
from openpyxl.compat import safe_string
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel, to_ISO8601
from openpyxl.worksheet.dimensions import RowDimension

from .ooxml import BIG_PART, DEFLATE_LEVEL

_TEXT_MAX = 32767  # openpyxl cuts a string cell here


def _escaped(text: str) -> str:
    """Text as lxml writes it in an element (non-ASCII becomes character references at the end)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;") if "\r" in text else text


class SheetCells:
    """The cells of one output sheet, as the XML of its `<sheetData>`."""

    def __init__(self, ws):
        self.ws = ws
        self.wb = ws.parent
        self.rows: dict[int, dict[int, tuple]] = {}  # row -> column -> (style array, type and content)
        self._looks: dict[object, object] = {}  # look -> style array
        self._texts: dict[str, str] = {}  # text -> its cell content
        self._raw: dict[str, str] = {}  # text as given to put_text -> its cell content
        self._numbers: dict[float, str] = {}  # number -> its cell content
        self._others: dict[tuple, str] = {}  # (type, value) -> its cell content: dates repeat down a column
        self._letters: dict[int, str] = {}
        self._arrays: dict[int, object] = {}  # id -> every style array the cells use
        self._row_attrs: dict[int, str] | None = None  # row -> its attributes, while the rows are taken
        self._taken: dict = {}
        self._made: tuple | None = None  # (row attributes, style ids, XML) made ahead by `prepare`
        self.heights: dict[int, float] = {}  # row -> its height, for rows openpyxl holds no object of
        self.links: list[tuple[str, str, str | None]] = []  # (cell, target file, place in it) of each link cell

    # ------------------------------------------------------------------ building

    def look(self, key: object, value: object, style) -> object:
        """The style array of look `key`: the first time, `style(cell)` styles a scratch cell holding
        `value` (a date sets its own number format first, as on a real cell)."""
        found = self._looks.get(key)
        if found is None:
            c = Cell(self.ws)
            if value is not None:
                c.value = value
            style(c)
            found = self._looks[key] = c._style
            self._arrays[id(found)] = found
        return found

    def put(self, row: int, col: int, value: object, array) -> None:
        """A cell holding `value` (as `excel_value` gives it; strings already made cell text) in look `array`."""
        self._made = None
        self.rows.setdefault(row, {})[col] = (array, self._content(value))

    def put_text(self, row: int, col: int, text: str, array, convert) -> None:
        """A string cell of a file's `text`, which `convert` makes cell text: each distinct text once."""
        self._made = None
        self.rows.setdefault(row, {})[col] = (array, self.text_content(text, convert))

    def text_content(self, text: str, convert) -> str:
        """The cell content of a file's `text` (`convert` makes it cell text), made once per distinct text."""
        content = self._raw.get(text)
        if content is None:
            content = self._content(convert(text))
            if len(self._raw) < 200_000:
                self._raw[text] = content
        return content

    def content(self, value: object) -> str:
        """The cell content of `value` (as `excel_value` gives it; strings already made cell text)."""
        return self._content(value)

    def put_row(self, row: int, cells: dict[int, tuple]) -> None:
        """A whole row of cells at once: column -> (style array, content), as `put` makes them."""
        self._made = None
        if cells:
            self.rows[row] = cells

    def put_cell(self, c) -> None:
        """A cell already made in openpyxl (a header cell): its value and look."""
        self._made = None
        self.rows.setdefault(c.row, {})[c.column] = (c._style, self._typed(c.data_type, c._value))
        self._arrays[id(c._style)] = c._style

    def restyle(self, row: int, col: int, style) -> None:
        """Change one cell's look (a link's font on top of the cell's own look)."""
        self._made = None
        row_cells = self.rows.setdefault(row, {})
        cell = row_cells.get(col) or (None, ' t="n">')
        base = cell[0]
        key = ("restyle", style, tuple(base) if base is not None else None)
        found = self._looks.get(key)
        if found is None:
            c = Cell(self.ws)
            if base is not None:
                c._style = base.__copy__()
            style(c)
            found = self._looks[key] = c._style
            self._arrays[id(found)] = found
        row_cells[col] = (found, cell[1])  # a new entry: cells of one value may share theirs

    def corners(self) -> tuple[int, int, int, int] | None:
        """(first row, first column, last row, last column) of the cells, or None."""
        if not self.rows:
            return None
        cols = [c for cells in self.rows.values() for c in (min(cells), max(cells))]
        return min(self.rows), min(cols), max(self.rows), max(cols)

    def _content(self, v: object) -> str:
        """`' t="…">content'` of a cell: what follows the cell reference and style."""
        t = type(v)
        if isinstance(v, str):
            found = self._texts.get(v)
            if found is None:
                found = self._typed("s", str(v)[:_TEXT_MAX])
                if len(self._texts) < 200_000:
                    self._texts[v] = found
            return found
        if v is None:
            return ' t="n">'
        if t is float or t is int:
            found = self._numbers.get(v)  # an int and its equal float write the same text ...
            if found is None:
                found = f' t="n"><v>{safe_string(v)}</v>'
                if v and len(self._numbers) < 200_000:  # ... but 0 and -0.0 do not
                    self._numbers[v] = found
            return found
        key = (t, v)  # the type too: True == 1, yet a bool cell is not a number cell
        try:
            found = self._others.get(key)
        except TypeError:  # unhashable: openpyxl says what it makes of it
            key, found = None, None
        if found is None:  # anything else typed as openpyxl types it (bool, Decimal, dates, refusals), once
            c = Cell(self.ws)
            c.value = v
            found = self._typed(c.data_type, c._value)
            if key is not None and len(self._others) < 200_000:
                self._others[key] = found
        return found

    def _typed(self, data_type: str, value: object) -> str:
        """A cell's type attribute and content, as openpyxl's cell writer makes them."""
        if data_type == "s":
            if value is None or value == "":
                return ' t="inlineStr">'
            text = str(value)
            space = ' xml:space="preserve"' if text != text.strip() else ""
            return f' t="inlineStr"><is><t{space}>{_escaped(text)}</t></is>'
        if data_type == "d":
            if getattr(value, "tzinfo", None) is not None:
                raise TypeError("Excel does not support timezones in datetimes. "
                                "The tzinfo in the datetime/time object must be set to None.")
            if self.wb.iso_dates and not isinstance(value, timedelta):
                return f' t="d"><v>{_escaped(safe_string(to_ISO8601(value)))}</v>'
            return f' t="n"><v>{safe_string(to_excel(value, self.wb.epoch))}</v>'
        if value is None or value == "":
            return f' t="{data_type}">'
        if data_type not in ("n", "b", "e", "str"):
            raise ValueError(f"Cannot write a {data_type!r} cell as text")  # formulas are never written here
        return f' t="{data_type}"><v>{_escaped(safe_string(value))}</v>'

    # ------------------------------------------------------------------ writing

    def take_rows(self) -> None:
        """Keep the rows' attributes (their heights) here and take the rows off the sheet while openpyxl
        saves it: its own pass over thousands of them makes `<row>` elements the splice throws away."""
        dims = self.ws.row_dimensions
        self._row_attrs = {r: row_attributes(d) for r, d in dims.items()}
        self._taken = dict(dims)
        dims.clear()

    def give_rows_back(self) -> None:
        self.ws.row_dimensions.update(self._taken)
        self._taken, self._row_attrs = {}, None

    def prepare(self) -> None:
        """Make the XML now, while the caller waits for other work: `xml` gives it at the save when the
        cells, row heights and style ids are still the same."""
        self._made = None
        row_attrs, ids = self._attributes()
        self._made = (row_attrs, ids, self._xml(row_attrs, ids))

    def xml(self) -> bytes:
        """The `<sheetData>` element, with the row heights the sheet has now (or had when taken)."""
        row_attrs, ids = self._attributes()
        made = self._made
        if made is not None and made[0] == row_attrs and made[1] == ids:
            return made[2]
        return self._xml(row_attrs, ids)

    def _attributes(self) -> tuple[dict[int, str], dict[int, str]]:
        """Each row's attributes and each look's style id (given its place in the workbook's styles now)."""
        row_attrs = self._row_attrs
        if row_attrs is None:
            row_attrs = {r: row_attributes(d) for r, d in self.ws.row_dimensions.items()}
        if self.heights:
            row_attrs = {**{r: height_attributes(h) for r, h in self.heights.items()}, **row_attrs}
        styles = self.wb._cell_styles
        ids = {i: f' s="{styles.add(a)}"' if a is not None and any(a) else "" for i, a in self._arrays.items()}
        return row_attrs, ids

    def _xml(self, row_attrs: dict[int, str], ids: dict[int, str]) -> bytes:
        out = ["<sheetData>"]
        for r in sorted(self.rows.keys() | row_attrs.keys()):
            attrs = row_attrs.get(r, "")
            out.append(f'<row r="{r}"{attrs}>')
            for col, (array, content) in sorted(self.rows.get(r, {}).items()):
                letter = self._letters.get(col) or self._letters.setdefault(col, get_column_letter(col))
                sid = ids[id(array)] if array is not None else ""
                out.append(f'<c r="{letter}{r}"{sid}{content}</c>')
            out.append("</row>")
        out.append("</sheetData>")
        return "".join(out).encode("ascii", "xmlcharrefreplace")

    def register(self) -> None:
        """Give every look its place in the workbook's cell styles (before openpyxl writes them)."""
        styles = self.wb._cell_styles
        for array in self._arrays.values():
            if array is not None and any(array):
                styles.add(array)


_ROW_FIELDS = RowDimension.__fields__
_HEIGHTS: dict[float, str] = {}


def height_attributes(height: float) -> str:
    """The attributes openpyxl writes for a row that has only a height (`' ht="30" customHeight="1"'`)."""
    found = _HEIGHTS.get(height)
    if found is None:
        found = _HEIGHTS[height] = row_attributes(RowDimension(None, index=1, ht=height))
    return found


def row_attributes(dim) -> str:
    """A row's attributes as openpyxl writes them (`' ht="30" customHeight="1"'`). Its style id, looked up
    in the workbook's styles for every row, only when the row has a style."""
    if dim.has_style:
        return "".join(f' {k}="{v}"' for k, v in dim)
    out = []
    for key in _ROW_FIELDS:
        if key != "s":
            value = getattr(dim, key, None)
            if value:
                out.append(f' {key}="{safe_string(value)}"')
    return "".join(out)


def splice(saved, path: Path, sheets: list[SheetCells]) -> bool:
    """Write to `path` the workbook openpyxl saved into `saved` (a file object) with each sheet's
    `<sheetData>` and links put in; False, with nothing written, when a part is not as openpyxl writes it."""
    parts = {ws_part(s.ws): s for s in sheets}
    linked = {_rels_part(name): s for name, s in parts.items() if s.links}
    ids: dict[str, list[str]] = {}  # sheet part -> its links' relationship ids
    with zipfile.ZipFile(saved) as zin:
        entries = []
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in linked:  # a sheet's relationships (its comments'): the links' are added
                data, ids[info.filename] = _with_link_relationships(data, linked.pop(info.filename).links)
            entries.append((info, data))
        for rels, s in linked.items():  # a sheet with no relationships of its own yet
            data, ids[rels] = _with_link_relationships(_NO_RELATIONSHIPS, s.links)
            entries.append((zipfile.ZipInfo(rels, entries[0][0].date_time), data))
        for k, (info, data) in enumerate(entries):
            cells = parts.pop(info.filename, None)
            if cells is None:
                continue
            data = _with_sheet_data(data, cells.xml())
            if data is not None and cells.links:
                data = _with_hyperlinks(data, cells.links, ids[_rels_part(info.filename)])
            if data is None:
                return False
            entries[k] = (info, data)
    if parts:
        return False
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zout:
        for info, data in entries:
            level = DEFLATE_LEVEL if len(data) > BIG_PART else None  # the output sheets' many cells
            zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
    return True


_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NO_RELATIONSHIPS = b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>'
# What follows <hyperlinks> in a worksheet (ECMA-376 CT_Worksheet); openpyxl always writes pageMargins.
_AFTER_LINKS = (b"<printOptions", b"<pageMargins", b"<pageSetup", b"<headerFooter", b"<rowBreaks", b"<colBreaks",
                b"<customProperties", b"<cellWatches", b"<ignoredErrors", b"<smartTags", b"<drawing",
                b"<legacyDrawing", b"<picture", b"<oleObjects", b"<controls", b"<webPublishItems", b"<tableParts",
                b"<extLst", b"</worksheet>")


def _rels_part(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels"


def _attr(text: str) -> str:
    """Text as an XML attribute value (as an element's text, with quotes and the whitespace an attribute
    would normalise as references)."""
    return _escaped(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _with_link_relationships(rels: bytes, links: list[tuple[str, str, str | None]]) -> tuple[bytes, list[str]]:
    """The relationships part with one external hyperlink relationship a link (as openpyxl writes them),
    and their ids: rId1, rId2, … skipping the ids the part has."""
    taken = set(re.findall(rb'Id="([^"]*)"', rels))
    out, ids, n = [], [], 0
    for _, target, _place in links:
        n += 1
        while f"rId{n}".encode() in taken:
            n += 1
        ids.append(f"rId{n}")
        out.append(f'<Relationship Type="{_R}/hyperlink" Target="{_attr(target)}" TargetMode="External" '
                   f'Id="rId{n}"/>')
    end = rels.rfind(b"</Relationships>")
    added = "".join(out).encode("ascii", "xmlcharrefreplace")
    return rels[:end] + added + rels[end:], ids


def _with_hyperlinks(xml: bytes, links: list[tuple[str, str, str | None]], ids: list[str]) -> bytes | None:
    """The worksheet XML with its `<hyperlinks>` (none before: openpyxl held no link of this sheet)."""
    if b"<hyperlinks" in xml:
        return None
    after = xml.find(b"</sheetData>")
    if after < 0:
        return None
    at = min((i for i in (xml.find(tag, after) for tag in _AFTER_LINKS) if i >= 0), default=-1)
    if at < 0:
        return None
    out = ["<hyperlinks>"]
    for (ref, _target, place), rid in zip(links, ids, strict=True):
        where = f' location="{_attr(place)}"' if place else ""
        out.append(f'<hyperlink xmlns:r="{_R}" ref="{ref}"{where} r:id="{rid}"/>')
    out.append("</hyperlinks>")
    return xml[:at] + "".join(out).encode("ascii", "xmlcharrefreplace") + xml[at:]


LEAN_BYTES = 64 * 1024  # smaller worksheet parts are read in full: leaving their cells out saves nothing


def lean_package(path: Path, names: set[str]) -> tuple[bytes | None, set[str]]:
    """The workbook at `path` with the cells of the worksheets `names` left out (sheets an action
    writes anew: the last run's output), and the names of the sheets left out; (None, set()) when
    none is big or the package is not as expected."""
    from .ooxml import Package, PackageError, repackage

    try:
        with zipfile.ZipFile(path) as zf:
            pkg = Package(zf)
            workbook = pkg.workbook_part()
            if workbook is None or workbook.lower().endswith(".bin"):
                return None, set()
            replace, left_out = {}, set()
            for sheet in pkg.sheets(workbook):
                if sheet.name not in names or sheet.kind != "worksheet" or sheet.member is None:
                    continue
                if zf.getinfo(sheet.member).file_size <= LEAN_BYTES:
                    continue
                lean = _with_sheet_data(zf.read(sheet.member), b"<sheetData/>")
                if lean is not None:
                    lean = _without(lean, b"hyperlinks")  # the old links go with the old cells
                    replace[sheet.member] = lean
                    left_out.add(sheet.name)
            if not replace:
                return None, set()
            return repackage(zf, replace), left_out
    except (OSError, zipfile.BadZipFile, PackageError, KeyError):
        return None, set()  # openpyxl reads the file itself and says what is wrong with it


def ws_part(ws) -> str:
    """The worksheet's part in the package, as openpyxl saved it last."""
    return ws.path.lstrip("/")


def _without(xml: bytes, tag: bytes) -> bytes:
    """The worksheet XML without its `<tag>…</tag>` element (as openpyxl writes it: unprefixed, once)."""
    start = xml.find(b"<" + tag + b">")
    end = xml.find(b"</" + tag + b">", start)
    if start < 0 or end < 0:
        return xml
    return xml[:start] + xml[end + len(tag) + 3:]


def _with_sheet_data(xml: bytes, sheet_data: bytes) -> bytes | None:
    start = xml.find(b"<sheetData")
    if start < 0:
        return None
    if xml.startswith(b"<sheetData/>", start):
        end = start + len(b"<sheetData/>")
    else:
        close = xml.find(b"</sheetData>", start)
        if close < 0 or not xml.startswith(b"<sheetData>", start):
            return None
        end = close + len(b"</sheetData>")
    return xml[:start] + sheet_data + xml[end:]


__all__ = ["LEAN_BYTES", "SheetCells", "lean_package", "splice", "ws_part"]
