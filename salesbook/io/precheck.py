"""Checks a file before any parser sees it: its kind by content (whatever the extension), encryption
(Excel's built-in default password is opened as Excel opens it), zip bombs, XML entities, and the
size of the sheets that will be read. Cheap, and no worksheet parser is involved; it runs in the
reader's worker all the same (decrypting and measuring use memory on the file's behalf).

Size guards follow what the parser allocates: for an .xlsx, the cells of the sheets salesbook
reads (not their declared <dimension>, which counts formatting, and not notes sheets beside them);
for an .xls, the range every sheet declares (the parser reserves room for each when it opens the
file). A verdict may carry replacement bytes: a decrypted copy, or a repackaged .xlsx without
macro sheets the parser cannot take and with over-long shared strings shortened.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import msoffcrypto

from ..core.findings import Bilingual
from ..core.table import MAX_TEXT_CHARS
from . import biff, markup, ooxml

ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
READ_EXTENSIONS = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".csv", ".txt"}
_OPENXML_EXTENSIONS = {".xlsx", ".xlsm", ".xlsb", ".ods"}  # Excel refuses text content under these names
EXCEL_DEFAULT_PASSWORD = "VelvetSweatshop"  # what Excel uses for a file "protected" without a password

_HEAD = 8192  # a member's first bytes: where a DTD is looked for first, and a sheet's <dimension>
_KEPT_HEADS = 256
_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
DAMAGED = Bilingual("文件内容已损坏，无法读取：请在 Excel 中打开并另存为 .xlsx",
                    "the file's content is damaged and cannot be read: open it in Excel and save it as .xlsx")


@dataclass(frozen=True)
class Limits:
    """Size guards for untrusted workbooks."""

    max_file_bytes: int = 200 * 1024 * 1024
    max_inflated_bytes: int = 512 * 1024 * 1024
    max_ratio: float = 200.0  # inflated / compressed, for members above 1 MiB inflated
    max_cells: int = 4_000_000  # a read sheet's extent: rows × columns of the block the parser builds
    max_declared_cells: int = 8_000_000  # an .xls sheet's declared range: the parser reserves 32 bytes a cell
    max_columns: int = 1_000
    max_text_chars: int = MAX_TEXT_CHARS  # one cell's text; longer is a finding (and never copied per cell)
    timeout_seconds: float = 120.0
    worker_memory_bytes: int = 768 * 1024 * 1024


@dataclass(frozen=True)
class Verdict:
    """What the precheck decided: a kind to parse, or a rejection with a finding code."""

    kind: str = ""  # xlsx | xlsb | xls | ods | csv | html | spreadsheetml
    code: str = ""  # file-encrypted | file-unsupported | file-unreadable when rejected
    reason: Bilingual | None = None
    note: Bilingual | None = None  # e.g. "contains macros (not run)"
    data: bytes | None = None  # what to parse when it is not the file's own bytes

    @property
    def rejected(self) -> bool:
        return bool(self.code)


def _no(code: str, zh: str, en: str) -> Verdict:
    return Verdict(code=code, reason=Bilingual(zh, en))


def _notes(*notes: Bilingual | None) -> Bilingual | None:
    kept = [n for n in notes if n]
    if not kept:
        return None
    return Bilingual("；".join(n.zh for n in kept), "; ".join(n.en for n in kept))


_XML_SPACE = b" \t\r\n"
_BOM_BYTES = b"\xef\xbb\xbf\xff\xfe"


def _prolog_declares_dtd(start: bytes, fh) -> bool:
    """True when the XML prolog (all before the root element) holds a <!DOCTYPE.

    A DTD can only stand there, but comments and processing instructions may push it past any
    fixed window, so the prolog is scanned to its end; a member that does not start with markup
    (binary) stops at once. NUL bytes are dropped so UTF-16 markup is seen too.
    """
    buf = start.replace(b"\x00", b"").lstrip(_BOM_BYTES)
    closing = b""  # inside a comment or PI: the bytes that end it
    eof = False
    while True:
        if closing:
            end = buf.find(closing)
            if end < 0:
                if eof:
                    return False
                more = fh.read(65536).replace(b"\x00", b"")
                eof = not more
                buf = buf[-2:] + more
                continue
            buf, closing = buf[end + len(closing):], b""
        buf = buf.lstrip(_XML_SPACE)
        if len(buf) < 9 and not eof:
            more = fh.read(65536).replace(b"\x00", b"")
            eof = not more
            buf += more
            continue
        if buf[:9].upper() == b"<!DOCTYPE":
            return True
        if buf.startswith(b"<?"):
            buf, closing = buf[2:], b"?>"
        elif buf.startswith(b"<!--"):
            buf, closing = buf[4:], b"-->"
        else:
            return False  # the root element, text or binary: no DTD can follow


def precheck(path: Path, data: bytes, limits: Limits, reads: Callable[[str], bool] = lambda name: True,
             *, decrypted: bool = False) -> Verdict:
    """Decide how to read `data` (the bytes of `path`) or why not to. `reads(sheet name)` says
    which sheets will be read, so only those are size-checked."""
    ext = path.suffix.lower()
    if len(data) == 0:
        return _no("file-unreadable", "文件是空的（0 字节）：请从 Excel 重新保存", "the file is empty (0 bytes): save it again from Excel")
    if len(data) > limits.max_file_bytes:
        mib, most = len(data) // 2**20, limits.max_file_bytes // 2**20
        return _no("file-unsupported", f"文件有 {mib} MiB，超过 {most} MiB 的上限（设置 reader.max_file_mb）",
                   f"the file is {mib} MiB, above the {most} MiB limit (setting reader.max_file_mb)")
    if data.startswith(CFB_MAGIC):
        return _check_ole(path, data, limits, reads, decrypted)
    if data.startswith(ZIP_MAGIC):
        return _check_zip(data, limits, reads)
    kind = markup.sniff(data)
    if kind in ("html", "spreadsheetml"):
        if ext in _OPENXML_EXTENSIONS:
            what = "网页（HTML）" if kind == "html" else "XML 表格"
            return _no("file-unsupported", f"这是一个{what}文件，却以 {ext} 命名，Excel 也打不开：请把扩展名改为 .xls，或在 Excel 中另存为 .xlsx",
                       f"{'an HTML page' if kind == 'html' else 'an XML spreadsheet'} named {ext}, which Excel does not open "
                       "either: rename it to .xls, or save it from Excel as .xlsx")
        return Verdict(kind=kind)
    if kind == "text":
        if ext in (".csv", ".txt", ".xls"):
            return Verdict(kind="csv")
        return _no("file-unsupported", f"这是文本文件（如 CSV），却以 {ext} 命名，不是工作簿：请把扩展名改为 .csv，或在 Excel 中另存为 .xlsx",
                   f"a text file named {ext}, not a workbook: rename it to .csv, or open it in Excel and save as .xlsx")
    if ext in (".csv", ".txt"):
        return _no("file-unsupported", f"{ext} 文件中是二进制内容，不是文本：请从 Excel 另存为 CSV UTF-8",
                   f"binary content in a {ext} file, not text: save it from Excel as CSV UTF-8")
    return _no("file-unreadable", f"不是有效的 {ext} 文件（内容无法识别）：请在 Excel 中打开并另存为 .xlsx",
               f"not a valid {ext} file (its content is not a workbook Excel writes): open it in Excel and save as .xlsx")


def _check_ole(path: Path, data: bytes, limits: Limits, reads: Callable[[str], bool], decrypted: bool) -> Verdict:
    """An OLE container: an .xls (BIFF), or an encrypted OOXML workbook, or not a workbook at all."""
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        encrypted = office.is_encrypted()
    except Exception:  # noqa: BLE001 - msoffcrypto raises many kinds on odd files; BIFF is looked at below
        office, encrypted = None, False
    if encrypted:
        plain = None if decrypted else _open_with_default_password(office)  # one layer, as Excel
        if plain is None:
            return _no("file-encrypted", "工作簿有密码保护", "the workbook is password-protected")
        inner = precheck(path, plain, limits, reads, decrypted=True)
        if inner.rejected:
            return inner
        opened = Bilingual("以 Excel 内置的默认密码打开", "opened with Excel's built-in default password")
        return replace(inner, data=inner.data or plain, note=_notes(opened, inner.note))
    try:
        stream = biff.workbook_stream(data)
        if stream is not None and biff.is_encrypted(stream):  # a kind of encryption msoffcrypto did not see
            return _no("file-encrypted", "工作簿有密码保护", "the workbook is password-protected")
        sheets = biff.sheets(stream) if stream is not None else None
    except biff.BiffError:
        return _no("file-unreadable", "文件已损坏（Office 容器无法读取）：请在 Excel 中打开并另存为 .xlsx",
                   "the file is damaged (its Office container cannot be read): open it in Excel and save as .xlsx")
    if sheets is None:
        return _no("file-unsupported", "这是 Office 文件但不是工作簿（例如 Word 文档）",
                   "an Office file that is not a workbook (a Word document, for instance)")
    for s in sheets:  # the parser reserves room for every sheet's declared range when it opens the file
        if s.rows * s.columns > limits.max_declared_cells:
            return _no("file-unsupported",
                       f"工作表「{s.name}」声明的范围有 {s.rows} 行 × {s.columns} 列，超过可读取的范围：请在 Excel 中删除多余的行和列，另存为 .xlsx",
                       f"sheet '{s.name}' declares {s.rows:,} rows × {s.columns:,} columns, more than salesbook reads: "
                       "delete the unused rows and columns in Excel and save it as .xlsx")
    return Verdict(kind="xls")


def _open_with_default_password(office) -> bytes | None:
    """The decrypted bytes when the file opens with Excel's default password, else None."""
    try:
        office.load_key(password=EXCEL_DEFAULT_PASSWORD)
        out = io.BytesIO()
        office.decrypt(out)
    except Exception:  # noqa: BLE001 - a real password (or a kind msoffcrypto cannot decrypt)
        return None
    plain = out.getvalue()
    return plain or None


def _check_zip(data: bytes, limits: Limits, reads: Callable[[str], bool]) -> Verdict:
    damaged = ("file-unreadable", "文件已损坏或不完整（也许下载或复制中断了）：请重新复制，或从 Excel 重新保存",
               "the file is damaged or truncated (an interrupted download or copy?): copy it again, or save it again from Excel")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return _no(*damaged)
    total = sum(i.file_size for i in infos)
    if total > limits.max_inflated_bytes:
        mib, most = total // 2**20, limits.max_inflated_bytes // 2**20
        return _no("file-unsupported", f"解压后有 {mib} MiB，超过 {most} MiB 的上限（可能是压缩炸弹）",
                   f"it inflates to {mib} MiB, above the {most} MiB limit (a zip bomb?)")
    for i in infos:
        if i.file_size > 2**20 and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            ratio = i.file_size // max(i.compress_size, 1)
            return _no("file-unsupported", f"其中一部分压缩比为 {ratio}:1，远超正常工作簿（可能是压缩炸弹）",
                       f"a part of it compresses {ratio}:1, far beyond a normal workbook (a zip bomb?)")
    heads: dict[str, bytes] = {}  # each member's first bytes, kept for the sheets' <dimension>
    try:
        for i in infos:  # every member: a sheet may be stored under any name its rels give
            with zf.open(i) as fh:
                start = fh.read(_HEAD)
                if len(heads) < _KEPT_HEADS or i.filename in heads:  # bounded: a package of a million tiny members keeps no more
                    heads[i.filename] = start
                dtd = _DOCTYPE.search(start) or _prolog_declares_dtd(start, fh)
            if dtd:
                return _no("file-unsupported", "工作簿内含 DTD/实体声明（工作簿中不允许，可能是 XML 攻击）：请向发送者要一份正常保存的文件",
                           "the workbook declares a DTD / entities inside (not allowed in workbooks; possibly an XML "
                           "attack): ask the sender for a copy saved normally from Excel")
        pkg = ooxml.Package(zf)
        if pkg.info("mimetype") is not None and pkg.info("content.xml") is not None:
            if (pkg.read("mimetype") or b"").strip().startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                return Verdict(kind="ods")
            return _no("file-unsupported", "这是 OpenDocument 文档，但不是电子表格（例如文字文档）",
                       "an OpenDocument file that is not a spreadsheet (a text document, for instance)")
        workbook = pkg.workbook_part()
        if workbook is None:
            if pkg.info("EncryptionInfo") is not None:
                return _no("file-encrypted", "工作簿有密码保护", "the workbook is password-protected")
            return _no("file-unsupported", "这是 zip 压缩包，不是 Excel 工作簿：请解压后把其中的工作簿放进团队文件夹",
                       "a zip archive, not an Excel workbook: unpack it and put the workbooks themselves in the team folder")
        return _check_xlsx(zf, pkg, workbook, limits, reads, heads)
    except ooxml.PackageError:
        return Verdict(code="file-unreadable", reason=DAMAGED)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError):
        return _no(*damaged)


def _macro_note(pkg: ooxml.Package, skipped: list[str] = ()) -> Bilingual | None:
    vba = any(name.endswith("vbaproject.bin") for name in pkg.members)
    notes = [Bilingual("含宏（未运行）", "contains macros (not run)") if vba else None]
    if skipped:
        names = "、".join(skipped)
        notes.append(Bilingual(f"Excel 4 宏表 {names} 未读取", f"Excel 4 macro sheets {', '.join(skipped)} not read"))
    return _notes(*notes)


def _check_xlsx(zf: zipfile.ZipFile, pkg: ooxml.Package, workbook: str, limits: Limits,
                reads: Callable[[str], bool], heads: dict[str, bytes] | None = None) -> Verdict:
    """An .xlsx, .xlsm or .xlsb package (the workbook part found by its relationships)."""
    binary = workbook.lower().endswith(".bin")
    sheets = pkg.sheets(workbook)
    new: dict[str, bytes] = {}
    odd = [s for s in sheets if s.kind in ("macrosheet", "unknown")]
    if odd:  # the parser refuses the whole file over one sheet it cannot type; leave those out
        member = pkg.info(workbook).filename
        strip = ooxml.without_binary_sheets if binary else ooxml.without_sheets
        new[member] = strip(zf.read(member), {s.rid for s in odd})
    note = _macro_note(pkg, [s.name for s in odd if s.kind == "macrosheet"])
    if binary:  # binary sheets: the parser's own range is checked after it reads them
        return Verdict(kind="xlsb", note=note, data=ooxml.repackage(zf, new) if new else None)
    for s in sheets:
        if s.kind != "worksheet" or not reads(s.name):
            continue
        refused = _check_sheet(zf, s, limits, (heads or {}).get(s.member))
        if refused is not None:
            return refused
    sst = next((t for typ, t in pkg.relationships(workbook).values() if typ.endswith("/sharedStrings")), None)
    info = pkg.info(sst) if sst else None
    if info is not None and info.file_size > limits.max_text_chars:
        # A cell refers to a shared string by number: the parser copies the string into every such
        # cell. Strings over the text limit are shortened here (they are reported, never used).
        strings = zf.read(info)
        long = ooxml.long_shared_strings(strings, limits.max_text_chars)
        if long:
            new[info.filename] = ooxml.bound_shared_strings(strings, long, limits.max_text_chars + 1)
    return Verdict(kind="xlsx", note=note, data=ooxml.repackage(zf, new) if new else None)


def _check_sheet(zf: zipfile.ZipFile, sheet: ooxml.SheetPart, limits: Limits,
                 head: bytes | None = None) -> Verdict | None:
    """A read sheet whose cells reach past Excel's grid, or span more than salesbook reads, is refused.
    `head` is the member's first bytes when the caller has read them already."""

    def too_big(first: tuple[int, int], last: tuple[int, int]) -> bool:
        rows, cols = last[0] - first[0] + 1, last[1] - first[1] + 1
        return cols > limits.max_columns or rows * cols > limits.max_cells or last[0] >= ooxml.EXCEL_MAX_ROWS \
            or last[1] >= ooxml.EXCEL_MAX_COLUMNS

    if head is None:
        with zf.open(sheet.member) as fh:
            head = fh.read(_HEAD)
    declared = ooxml.dimension(head)
    if declared is not None and not too_big(*declared):
        return None  # what the writer declares is small: the parser's own range is checked after it reads
    with zf.open(sheet.member) as fh:  # none declared, or a large one (formatting counts): measure the cells
        extent = ooxml.measure(fh)
    if extent.beyond:
        return beyond_excel(sheet.name, extent.beyond)
    if extent.first is not None and too_big(extent.first, extent.last):
        return too_large(sheet.name, extent.span, extent.rows, extent.columns, limits)
    return None


def beyond_excel(sheet: str, ref: str) -> Verdict:
    return _no("file-unsupported",
               f"工作表「{sheet}」有超出 Excel 范围的单元格 {ref}（最后一列是 XFD，最后一行是 1048576）：文件已损坏或被改动，请在 Excel 中打开并重新保存",
               f"sheet '{sheet}' has a cell at {ref}, beyond Excel's last column XFD / last row 1,048,576: the file is "
               "damaged or was altered; open it in Excel and save it again")


def too_large(sheet: str, span: str, rows: int, cols: int, limits: Limits) -> Verdict:
    return _no("file-unsupported",
               f"工作表「{sheet}」的数据范围 {span}（{rows} 行 × {cols} 列）超过可读取的范围（最多 {limits.max_columns} 列、"
               f"{limits.max_cells} 个单元格）：请删除远处多余的单元格后保存",
               f"sheet '{sheet}' holds data across {span} ({rows:,} rows × {cols:,} columns), more than salesbook reads "
               f"(at most {limits.max_columns:,} columns and {limits.max_cells:,} cells): delete the stray cells far "
               "from the data and save")
