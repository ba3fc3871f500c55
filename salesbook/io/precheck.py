"""Checks a file before any parser sees it: kind by content, encryption, zip bombs, XML entities,
sheet dimensions. Cheap, and safe to run in the parent process (no workbook parser involved)."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import msoffcrypto

ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
READ_EXTENSIONS = {".xlsx", ".xlsm", ".xls", ".ods", ".csv"}

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """Size guards for untrusted workbooks."""

    max_file_bytes: int = 200 * 1024 * 1024
    max_inflated_bytes: int = 512 * 1024 * 1024
    max_ratio: float = 200.0  # inflated / compressed, for members above 1 MiB inflated
    max_cells: int = 25_000_000
    max_columns: int = 1_000
    timeout_seconds: float = 120.0
    worker_memory_bytes: int = 1536 * 1024 * 1024


@dataclass(frozen=True)
class Verdict:
    """What the precheck decided: a kind to parse, or a rejection with a finding code."""

    kind: str = ""  # xlsx | xls | ods | csv
    code: str = ""  # file-encrypted | file-unsupported | file-unreadable when rejected
    reason: str = ""
    note: str = ""  # e.g. "contains macros (not run)"

    @property
    def rejected(self) -> bool:
        return bool(self.code)


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


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.decode():
        n = n * 26 + (ord(ch) - 64)
    return n


def precheck(path: Path, data: bytes, limits: Limits) -> Verdict:
    """Decide how to read `data` (the bytes of `path`) or why not to."""
    ext = path.suffix.lower()
    if len(data) == 0:
        return Verdict(code="file-unreadable", reason="the file is empty (0 bytes)")
    if len(data) > limits.max_file_bytes:
        return Verdict(code="file-unsupported",
                       reason=f"the file is {len(data) // 2**20} MiB, above the {limits.max_file_bytes // 2**20} MiB limit")
    head = data[:8]
    if head.startswith(CFB_MAGIC):
        try:
            import io

            office = msoffcrypto.OfficeFile(io.BytesIO(data))
            if office.is_encrypted():
                return Verdict(code="file-encrypted", reason="the workbook is password-protected")
        except Exception:  # noqa: BLE001 - msoffcrypto raises many kinds on odd files
            if ext != ".xls":
                return Verdict(code="file-unreadable", reason="an OLE container that is not a workbook")
        if ext in (".xls",):
            return Verdict(kind="xls")
        return Verdict(code="file-unsupported", reason=f"the content is an old-format (OLE) file, not {ext}")
    if ext == ".csv":
        if b"\x00" in data[:4096]:
            return Verdict(code="file-unsupported", reason="binary content in a .csv file")
        return Verdict(kind="csv")
    if not head.startswith(ZIP_MAGIC):
        if ext == ".xls":
            return Verdict(code="file-unsupported", reason="not an Excel 97–2003 file")
        sample = data[:512]
        if sample and all(b in b"\t\r\n" or 32 <= b < 127 or b >= 128 for b in sample):
            return Verdict(code="file-unsupported", reason=f"a text file named {ext}, not a workbook")
        return Verdict(code="file-unreadable", reason=f"not a valid {ext} file (no zip container)")
    return _check_zip(path, data, limits, ext)


def _check_zip(path: Path, data: bytes, limits: Limits, ext: str) -> Verdict:
    import io

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return Verdict(code="file-unreadable", reason=f"damaged or truncated zip container ({exc})")
    names = {i.filename for i in infos}
    total = sum(i.file_size for i in infos)
    if total > limits.max_inflated_bytes:
        return Verdict(code="file-unsupported",
                       reason=f"inflates to {total // 2**20} MiB, above the {limits.max_inflated_bytes // 2**20} MiB limit (zip bomb?)")
    for i in infos:
        if i.file_size > 2**20 and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            return Verdict(code="file-unsupported",
                           reason=f"{i.filename} compresses {i.file_size // max(i.compress_size, 1)}:1 (zip bomb?)")
    if ext == ".ods" or "content.xml" in names and "mimetype" in names:
        kind = "ods"
    elif "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        kind = "xlsx"
        if "xl/workbook.bin" in names:
            return Verdict(code="file-unsupported", reason="binary workbook (.xlsb) content")
    elif "EncryptionInfo" in names:
        return Verdict(code="file-encrypted", reason="the workbook is password-protected")
    else:
        return Verdict(code="file-unsupported", reason="a zip file that is not a workbook")
    try:
        for i in infos:  # every member: a sheet may be stored under any name its rels give
            lower = i.filename.lower()
            with zf.open(i) as fh:
                start = fh.read(8192)
                dtd = _DOCTYPE.search(start) or _prolog_declares_dtd(start, fh)
            if dtd:
                return Verdict(code="file-unsupported",
                               reason=f"{i.filename} declares a DTD/entities (not allowed in workbooks; possible XML attack)")
            if lower.startswith("xl/worksheets/"):
                m = _DIMENSION.search(start)
                if m and m.group(3):
                    rows = int(m.group(4)) - int(m.group(2)) + 1
                    cols = _col_number(m.group(3)) - _col_number(m.group(1)) + 1
                    if cols > limits.max_columns or rows * cols > limits.max_cells:
                        ref = (m.group(1) + m.group(2) + b":" + m.group(3) + m.group(4)).decode()
                        return Verdict(code="file-unsupported",
                                       reason=f"{i.filename} spans {ref} ({rows} rows × {cols} columns), larger than salesbook reads")
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        return Verdict(code="file-unreadable", reason=f"damaged zip member ({exc})")
    note = "contains macros (not run)" if "xl/vbaProject.bin" in names else ""
    return Verdict(kind=kind, note=note)
