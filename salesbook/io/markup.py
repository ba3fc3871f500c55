"""Text that Excel opens as a workbook: CSV and tab-separated text, and the "Excel" exports of web
and ERP systems — an HTML table or a SpreadsheetML 2003 XML file, usually named .xls.

Parsed here with the standard library's HTML parser and defusedxml (no DTD, no entity expansion,
no network), within the same size limits as a workbook: a table wider or larger than salesbook
reads, or a cell placed beyond Excel's last row or column, is refused before it is built.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import datetime
from html.parser import HTMLParser

SPREADSHEETML_NS = "urn:schemas-microsoft-com:office:spreadsheet"
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_SPACES = re.compile(r"[ \t\r\n\f]+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


class TableError(Exception):
    """The text cannot be read as a table; `zh` and `en` say why and what to do."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


def bom_encoding(data: bytes) -> str | None:
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc
    return None


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Text of a file: by its byte-order mark (UTF-8, UTF-16), else `declared`, else UTF-8, else GB18030."""
    enc = bom_encoding(data)
    tries = [enc] if enc else [e for e in (declared, "utf-8", "gb18030") if e]
    for e in tries:
        try:
            return data.decode(e)
        except (UnicodeDecodeError, LookupError):
            continue
    raise TableError("文本既不是 UTF-8/UTF-16 也不是 GB18030 编码：请在 Excel 中另存为 CSV UTF-8 或 .xlsx",
                     "the text is neither UTF-8/UTF-16 nor GB18030: save it from Excel as CSV UTF-8 or .xlsx")


def sniff(data: bytes) -> str:
    """What a file that is not a zip or OLE container holds: html | spreadsheetml | text | binary."""
    head = data[:65536]
    enc = bom_encoding(head)
    if enc is None and b"\x00" in head[:4096]:
        return "binary"
    sample = head.decode(enc or "utf-8", "replace").lstrip("\ufeff \t\r\n").lower()
    if sample.startswith("<"):
        if SPREADSHEETML_NS in sample and ("<workbook" in sample or ":workbook" in sample):
            return "spreadsheetml"
        if any(tag in sample for tag in ("<html", "<table", "<!doctype html")):
            return "html"
    controls = sum(1 for ch in sample[:4096] if ord(ch) < 32 and ch not in "\t\r\n\f")
    return "binary" if controls > 8 else "text"


def read_csv(data: bytes) -> list[list[str]]:
    """Rows of a CSV or tab-separated text file; the separator (comma, semicolon, tab) is sniffed."""
    text = decode_text(data)
    sample = text[:16384]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel
    return [row for row in csv.reader(io.StringIO(text, newline=""), dialect)]


def _check_size(rows: int, cols: int, max_cells: int, max_columns: int, what_zh: str, what_en: str) -> None:
    if cols > max_columns or rows * cols > max_cells:
        raise TableError(f"{what_zh}有 {rows} 行 × {cols} 列，超过可读取的范围（最多 {max_columns} 列、{max_cells} 个单元格）",
                         f"{what_en} has {rows:,} rows × {cols:,} columns, more than salesbook reads "
                         f"(at most {max_columns:,} columns, {max_cells:,} cells)")


# --- HTML --------------------------------------------------------------------------------------

class _Tables(HTMLParser):
    """Every <table>'s rows of cell texts; colspan and rowspan leave empty cells, as Excel shows them."""

    def __init__(self, max_cells: int, max_columns: int):
        super().__init__(convert_charrefs=True)
        self.max_cells, self.max_columns = max_cells, max_columns
        self.tables: list[list[list[str]]] = []
        self.names: list[str] = []  # Excel's own export names its sheet in an <x:Name> element
        self._open: list[dict] = []  # tables being read, innermost last
        self._skip = 0  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "table":
            self._open.append({"rows": [], "row": None, "cell": None, "spans": {}, "width": 0})
        elif not self._open:
            return
        elif tag == "tr":
            self._end_row()
            t = self._open[-1]
            t["row"] = []
            for col, left in list(t["spans"].items()):  # cells a rowspan above covers
                if left > 0:
                    t["spans"][col] = left - 1
        elif tag in ("td", "th"):
            t = self._open[-1]
            if t["row"] is None:
                t["row"] = []
            self._end_cell()
            a = dict(attrs)
            t["cell"] = {"text": [], "colspan": _span(a.get("colspan"), self.max_columns),
                         "rowspan": _span(a.get("rowspan"), 65534)}
        elif tag == "br":
            self._text("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif not self._open:
            return
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr":
            self._end_row()
        elif tag == "table":
            self._end_row()
            self.tables.append(self._open.pop()["rows"])

    def handle_data(self, data):
        if not self._skip:
            self._text(_SPACES.sub(" ", data))  # HTML shows a run of white space as one space

    def handle_comment(self, data):
        self.names += [m.strip() for m in re.findall(r"<x:Name>(.*?)</x:Name>", data, re.S)]

    def _text(self, data: str) -> None:
        for t in self._open:
            if t["cell"] is not None:
                t["cell"]["text"].append(data)

    def _end_cell(self) -> None:
        t = self._open[-1]
        cell = t["cell"]
        if cell is None:
            return
        t["cell"] = None
        row = t["row"]
        while t["spans"].get(len(row), 0) > 0:  # a cell a rowspan from above covers
            row.append("")
        text = "\n".join(line.strip() for line in "".join(cell["text"]).split("\n")).strip()
        start = len(row)
        row.append(text)
        row.extend([""] * (cell["colspan"] - 1))
        if cell["rowspan"] > 1:
            for col in range(start, len(row)):
                t["spans"][col] = cell["rowspan"] - 1
        t["width"] = max(t["width"], len(row))
        _check_size(len(t["rows"]) + 1, t["width"], self.max_cells, self.max_columns, "网页表格", "the HTML table")

    def _end_row(self) -> None:
        t = self._open[-1]
        self._end_cell()
        if t["row"] is not None:
            t["rows"].append(t["row"])
            t["row"] = None
            _check_size(len(t["rows"]), max(t["width"], 1), self.max_cells, self.max_columns, "网页表格", "the HTML table")


def _span(value: str | None, most: int) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return 1
    return min(max(n, 1), most)


def read_html(data: bytes, max_cells: int, max_columns: int) -> tuple[list[list[list[str]]], list[str]]:
    """The tables of an HTML "Excel" export (each a list of rows of text) and the sheet names it gives."""
    m = _META_CHARSET.search(data[:4096])
    declared = m.group(1).decode("ascii", "replace").lower() if m else None
    if declared in ("gb2312", "gbk", "x-gbk"):
        declared = "gb18030"
    parser = _Tables(max_cells, max_columns)
    parser.feed(decode_text(data, declared))
    parser.close()
    while parser._open:  # a table left open at the end of the file still counts
        parser.handle_endtag("table")
    return [t for t in parser.tables if t], parser.names


# --- SpreadsheetML 2003 ------------------------------------------------------------------------------

def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _attr(el, name: str) -> str | None:
    for k, v in el.attrib.items():
        if _local(k) == name:
            return v
    return None


def _value(kind: str | None, text: str) -> object:
    kind = (kind or "String").lower()
    try:
        if kind == "number":
            return float(text)
        if kind == "boolean":
            return text.strip() in ("1", "true", "TRUE")
        if kind == "datetime":
            return datetime.fromisoformat(text.strip()[:19])
    except ValueError:
        pass
    return text


def read_spreadsheetml(data: bytes, max_cells: int, max_columns: int) -> list[tuple[str, list[list]]]:
    """(sheet name, rows) of every worksheet of a SpreadsheetML 2003 file, streamed and bounded."""
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    sheets: list[tuple[str, list[list]]] = []
    name, rows, row_no, width = "", [], 0, 0
    try:
        for event, el in SafeET.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
            tag = _local(el.tag)
            if event == "start":
                if tag == "Worksheet":
                    name, rows, row_no, width = _attr(el, "Name") or f"Sheet{len(sheets) + 1}", [], 0, 0
                continue
            if tag == "Row":
                index = _attr(el, "Index")
                row_no = int(index) if index and index.isdigit() else row_no + 1
                if row_no > EXCEL_MAX_ROWS:
                    raise _beyond(name, f"row {row_no}", f"第 {row_no} 行")
                row: list = []
                for cell in el:
                    if _local(cell.tag) != "Cell":
                        continue
                    index = _attr(cell, "Index")
                    col = int(index) if index and index.isdigit() else len(row) + 1
                    if col > EXCEL_MAX_COLUMNS:
                        raise _beyond(name, f"column {col}", f"第 {col} 列")
                    _check_size(row_no, max(width, col), max_cells, max_columns, f"工作表「{name}」", f"sheet '{name}'")
                    row.extend([""] * (col - 1 - len(row)))
                    data_el = next((c for c in cell if _local(c.tag) == "Data"), None)
                    row.append("" if data_el is None else _value(_attr(data_el, "Type"), "".join(data_el.itertext())))
                    merge = _attr(cell, "MergeAcross")
                    if merge and merge.isdigit():
                        row.extend([""] * min(int(merge), max_columns))
                width = max(width, len(row))
                _check_size(row_no, width, max_cells, max_columns, f"工作表「{name}」", f"sheet '{name}'")
                rows.extend([[] for _ in range(row_no - 1 - len(rows))])
                rows.append(row)
                el.clear()  # the rows are kept as lists; the parsed elements are not
            elif tag == "Worksheet":
                sheets.append((name, rows))
                el.clear()
    except DefusedXmlException:
        raise TableError("文件包含 DTD/实体声明（工作簿中不允许，可能是 XML 攻击）",
                         "the file declares a DTD / entities (not allowed in workbooks; possibly an XML attack)") from None
    except SafeET.ParseError:
        raise TableError("XML 内容已损坏或不完整：请在 Excel 中打开并另存为 .xlsx",
                         "the XML is damaged or incomplete: open it in Excel and save as .xlsx") from None
    return sheets


def _beyond(sheet: str, en: str, zh: str) -> TableError:
    return TableError(f"工作表「{sheet}」的单元格位于{zh}，超出 Excel 的范围（最后一列 XFD、最后一行 1048576）：文件已损坏或被改动",
                      f"sheet '{sheet}' places a cell at {en}, beyond Excel's limits (last column XFD, "
                      f"last row 1,048,576): the file is damaged or was altered")
