"""Builders for the kinds of files Excel opens that team folders really hold, generated here: .xlsb,
Excel 97-2003 .xls, HTML and SpreadsheetML "Excel" exports, packages with odd part names, macro
sheets, stray far cells. Each writes a customers sheet (客户) with the rows given."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

HEADERS = ["客户编号", "客户名称", "联系人", "联系电话", "负责销售", "建档日期"]
ROWS = [["C001", "上海某某有限公司", "张三", "13812345678", "S001", "2026-11-03"],
        ["C002", "北京龍飛科技有限公司", "李四", "13912345678", "S001", "2026-11-05"]]
CUSTOMERS = {"C001": "上海某某有限公司", "C002": "北京龍飛科技有限公司"}


def xlsx(path: Path, sheets: dict[str, list[list]], *, extra=None) -> Path:
    """An .xlsx by XlsxWriter (shared strings, as Excel writes them); `extra(wb, ws_by_name)` may add more."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": datetime(2026, 1, 1)})
    made = {}
    for name, rows in sheets.items():
        ws = made[name] = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is not None:
                    ws.write(i, j, v)
    if extra:
        extra(wb, made)
    wb.close()
    return path


def customers_xlsx(path: Path, **sheets: list[list]) -> Path:
    return xlsx(path, {"客户": [HEADERS, *ROWS], **sheets})


def rewrite_zip(path: Path, change) -> Path:
    """Rewrite each member of a zip: change(name, data) -> (name, data) or None to drop it."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            kept = change(info.filename, src.read(info))
            if kept is not None:
                dst.writestr(kept[0], kept[1])
    path.write_bytes(out.getvalue())
    return path


def add_zip_members(path: Path, members: dict[str, bytes], change=None) -> Path:
    rewrite_zip(path, change or (lambda n, d: (n, d)))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def with_macro_sheet(path: Path, kind: str = "macrosheet") -> Path:
    """Add an Excel 4 macro sheet (or a dialog sheet) to an .xlsx, as Excel saves one in an .xlsm."""
    folder, rel_type, ns = {
        "macrosheet": ("macrosheets", "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet",
                       "http://schemas.microsoft.com/office/excel/2006/main"),
        "dialogsheet": ("dialogsheets", "http://schemas.openxmlformats.org/officeDocument/2006/relationships/dialogsheet",
                        "http://schemas.openxmlformats.org/spreadsheetml/2006/main"),
    }[kind]
    root = "xm:macrosheet" if kind == "macrosheet" else "dialogsheet"
    body = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{root} xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main" xmlns:xm="{ns}"><sheetData><row r="1"><c r="A1" t="str"><f>HALT()</f>'
            f'<v>TRUE</v></c></row></sheetData></{root}>').encode()

    def change(name, data):
        if name == "xl/workbook.xml":
            data = data.replace(b"</sheets>", b'<sheet name="Macro1" sheetId="99" r:id="rId99"/></sheets>')
        elif name == "xl/_rels/workbook.xml.rels":
            data = data.replace(b"</Relationships>", f'<Relationship Id="rId99" Type="{rel_type}" '
                                f'Target="{folder}/sheet1.xml"/></Relationships>'.encode())
        return name, data

    return add_zip_members(path, {f"xl/{folder}/sheet1.xml": body}, change)


def moved_package(path: Path, folder: str = "wtf", backslashes: bool = False) -> Path:
    """The workbook part under another folder (found only through _rels/.rels), or every member name
    written with backslashes and the content types in lower case (as some writers do)."""
    def change(name, data):
        if folder != "xl" and (name.startswith("xl/") or name in ("_rels/.rels", "[Content_Types].xml")):
            data = data.replace(b"xl/", folder.encode() + b"/").replace(b'"/xl/', b'"/' + folder.encode() + b"/")
            name = folder + name[2:] if name.startswith("xl/") else name
        if backslashes:
            name = name.replace("/", "\\")
            name = "[content_types].xml" if name == "[Content_Types].xml" else name
        return name, data

    return rewrite_zip(path, change)


def with_cell(path: Path, sheet_member: str, ref: str, value: str = "x", *, styled_only: bool = False) -> Path:
    """Add one cell at `ref` to a sheet's last row, written as given (any reference, even past XFD)."""
    cell = f'<c r="{ref}" s="0"/>' if styled_only else f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'

    def change(name, data):
        if name == sheet_member:
            data = re.sub(rb"(</row>)(?!.*</row>)", cell.encode() + rb"\1", data, flags=re.S)
        return name, data

    return rewrite_zip(path, change)


def set_dimension(path: Path, sheet_member: str, ref: str | None) -> Path:
    def change(name, data):
        if name == sheet_member:
            data = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>'.encode() if ref else b"", data)
        return name, data

    return rewrite_zip(path, change)


# --- Excel 97-2003 ------------------------------------------------------------------------------------

def xls(path: Path, sheets: dict[str, list[list]]) -> Path:
    """An Excel 97-2003 workbook (BIFF8 in an OLE container) by xlwt, as older ERPs write them."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    datef = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for name, rows in sheets.items():
        ws = wb.add_sheet(name)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if isinstance(v, date):
                    ws.write(i, j, v, datef)
                elif v is not None:
                    ws.write(i, j, v)
    wb.save(str(path))
    return path


# --- .xlsb ------------------------------------------------------------------------------------------

def _rec(typ: int, body: bytes = b"") -> bytes:
    head = bytes([typ]) if typ < 0x80 else bytes([(typ & 0x7F) | 0x80, typ >> 7])
    size, n = b"", len(body)
    while True:
        size += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            break
    return head + size + body


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def xlsb(path: Path, sheets: dict[str, list[list]], *, macro_sheet: bool = False, bad_string_index: bool = False) -> Path:
    """A binary workbook (.xlsb): BIFF12 records, inline strings and doubles (dates as text)."""
    names = list(sheets)
    book = _rec(0x83) + _rec(0x8F)  # BrtBeginBook, BrtBeginBundleShs
    rels = []
    for i, name in enumerate(names, start=1):
        book += _rec(0x9C, struct.pack("<II", 0, i) + _wide(f"rId{i}") + _wide(name))  # BrtBundleSh
        rels.append(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    f'relationships/worksheet" Target="worksheets/sheet{i}.bin"/>')
    if macro_sheet:
        book += _rec(0x9C, struct.pack("<II", 0, 99) + _wide("rId99") + _wide("Macro1"))
        rels.append('<Relationship Id="rId99" Type="http://schemas.microsoft.com/office/2006/relationships/'
                    'xlMacrosheet" Target="macrosheets/sheet1.bin"/>')
    book += _rec(0x90) + _rec(0x9D, bytes(20)) + _rec(0x84)  # BrtEndBundleShs, BrtCalcProp, BrtEndBook
    members = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                               'package/2006/content-types"><Default Extension="bin" ContentType="application/'
                               'vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                       'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                       'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>',
        "xl/_rels/workbook.bin.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                                      'openxmlformats.org/package/2006/relationships">' + "".join(rels)
                                      + "</Relationships>",
        "xl/workbook.bin": book,
    }
    for i, name in enumerate(names, start=1):
        rows = sheets[name]
        width = max((len(r) for r in rows), default=1)
        data = _rec(0x81) + _rec(0x94, struct.pack("<IIII", 0, max(len(rows) - 1, 0), 0, width - 1)) + _rec(0x91)
        for r, row in enumerate(rows):
            data += _rec(0x00, struct.pack("<IIHBBI", r, 0, 0x12C, 0, 0, 0))  # BrtRowHdr
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, int | float) and not isinstance(v, bool):
                    data += _rec(0x05, struct.pack("<IId", c, 0, float(v)))  # BrtCellReal
                elif bad_string_index:
                    data += _rec(0x07, struct.pack("<III", c, 0, 12345))  # BrtCellIsst into no string table
                else:
                    data += _rec(0x06, struct.pack("<II", c, 0) + _wide(str(v)))  # BrtCellSt
        data += _rec(0x92) + _rec(0x82)  # BrtEndSheetData, BrtEndSheet
        members[f"xl/worksheets/sheet{i}.bin"] = data
    if macro_sheet:
        members["xl/macrosheets/sheet1.bin"] = _rec(0x81) + _rec(0x82)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


# --- exports of web and ERP systems ------------------------------------------------------------------------

def html_table(path: Path, rows: list[list], *, title: str = "客户列表", excel_name: str | None = None,
               encoding: str = "utf-8", layout: bool = False) -> Path:
    """An HTML table saved as .xls, as web systems "export to Excel" (optionally Excel's own sheet name,
    a GBK page, or the data table inside a layout table with a banner)."""
    meta = f'<meta http-equiv="Content-Type" content="application/vnd.ms-excel; charset={encoding}">'
    xml = (f"<!--[if gte mso 9]><xml><x:ExcelWorkbook><x:ExcelWorksheets><x:ExcelWorksheet><x:Name>{excel_name}"
           "</x:Name></x:ExcelWorksheet></x:ExcelWorksheets></x:ExcelWorkbook></xml><![endif]-->" if excel_name else "")
    body = "".join("<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{escape(str(v))}</{'th' if i == 0 else 'td'}>"
                                    for v in row) + "</tr>\n" for i, row in enumerate(rows))
    table = f'<table border="1">\n{body}</table>'
    if layout:
        table = f'<table><tr><td colspan="2">{escape(title)}</td></tr><tr><td>{table}</td></tr></table>'
    page = (f'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head>{meta}<title>{escape(title)}</title>{xml}'
            f"<style>td {{mso-number-format:'\\@';}}</style><script>var x = '<td>not data</td>';</script></head>"
            f"<body>\n{table}\n</body></html>")
    path.write_bytes(page.encode(encoding))
    return path


def spreadsheetml(path: Path, sheets: dict[str, list[list]], *, prolog: str = "", skip_to: dict | None = None) -> Path:
    """A SpreadsheetML 2003 ("XML Spreadsheet") file, as Excel 2003 and many ERPs write it."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', prolog, '<?mso-application progid="Excel.Sheet"?>',
           '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
           'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">']
    for name, rows in sheets.items():
        out.append(f'<Worksheet ss:Name="{escape(name)}"><Table>')
        for i, row in enumerate(rows):
            index = f' ss:Index="{skip_to["row"]}"' if skip_to and skip_to.get("at") == i and "row" in skip_to else ""
            cells = []
            for j, v in enumerate(row):
                at = f' ss:Index="{skip_to["col"]}"' if skip_to and skip_to.get("at") == i and j == 0 and "col" in skip_to else ""
                if isinstance(v, int | float):
                    cells.append(f'<Cell{at}><Data ss:Type="Number">{v}</Data></Cell>')
                elif isinstance(v, date):
                    cells.append(f'<Cell{at}><Data ss:Type="DateTime">{v.isoformat()}T00:00:00.000</Data></Cell>')
                else:
                    cells.append(f'<Cell{at}><Data ss:Type="String">{escape(str(v))}</Data></Cell>')
            out.append(f"<Row{index}>{''.join(cells)}</Row>")
        out.append("</Table></Worksheet>")
    out.append("</Workbook>")
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def encrypt(path: Path, plain: Path, password: str) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    with open(plain, "rb") as fin, open(path, "wb") as fout:
        OOXMLFile(fin).encrypt(password, fout)
    return path


def ods(path: Path, sheets: dict[str, list[list]]) -> Path:
    """An OpenDocument spreadsheet, as LibreOffice or WPS saves one (mimetype first, stored)."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    tables = []
    for name, rows in sheets.items():
        body = []
        for row in rows:
            cells = []
            for v in row:
                if isinstance(v, int | float):
                    cells.append(f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p>'
                                 "</table:table-cell>")
                else:
                    cells.append(f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p>'
                                 "</table:table-cell>")
            body.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
        tables.append(f'<table:table table:name="{escape(name)}">{"".join(body)}</table:table>')
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
               f"<office:body><office:spreadsheet>{''.join(tables)}</office:spreadsheet></office:body>"
               "</office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type='
                '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path='
                '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet",
                   compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)
    return path
