"""What salesbook reads of an Excel 97–2003 (.xls, BIFF) workbook before a parser does: each sheet's
name and the cell range its DIMENSIONS record declares.

The parser reads every sheet of an .xls when it opens the file and reserves memory for each sheet's
declared range first, so a 41 KB file declaring 65,536 × 256 cells asks for half a gigabyte; the
declared ranges are checked here, for every sheet, before the parser sees the file.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

_BOF, _EOF, _BOUNDSHEET, _DIMENSIONS, _FILEPASS = 0x0809, 0x000A, 0x0085, 0x0200, 0x002F
_SHEET_TYPES = {0: "worksheet", 1: "macrosheet", 2: "chartsheet", 6: "vbamodule"}


class BiffError(Exception):
    """The workbook stream is not BIFF as Excel writes it."""


@dataclass(frozen=True)
class BiffSheet:
    name: str
    kind: str
    rows: int  # declared by DIMENSIONS (0 when there is none)
    columns: int


def workbook_stream(data: bytes) -> bytes | None:
    """The Workbook (BIFF8) or Book (BIFF5) stream of an OLE file, or None when it has neither."""
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - olefile raises many kinds on damaged containers
        raise BiffError(type(exc).__name__) from None
    try:
        for name in ("Workbook", "Book"):
            if ole.exists(name):
                return ole.openstream(name).read()
        return None
    except Exception as exc:  # noqa: BLE001
        raise BiffError(type(exc).__name__) from None
    finally:
        ole.close()


def _records(stream: bytes, pos: int):
    while pos + 4 <= len(stream):
        typ, size = struct.unpack_from("<HH", stream, pos)
        yield typ, pos + 4, size
        pos += 4 + size


def is_encrypted(stream: bytes) -> bool:
    """True when the workbook globals hold a FILEPASS record: the rest of the stream is encrypted."""
    for typ, _, _ in _records(stream, 0):
        if typ == _FILEPASS:
            return True
        if typ in (_BOUNDSHEET, _EOF):
            return False
    return False


def sheets(stream: bytes) -> list[BiffSheet]:
    """Every sheet the workbook globals list (BOUNDSHEET), with its declared DIMENSIONS."""
    try:
        return _sheets(stream)
    except (struct.error, IndexError):
        raise BiffError("truncated record") from None


def _sheets(stream: bytes) -> list[BiffSheet]:
    listed = []
    biff8 = True
    for typ, at, size in _records(stream, 0):
        body = stream[at:at + size]
        if typ == _BOF and len(body) >= 2:
            biff8 = struct.unpack_from("<H", body)[0] >= 0x0600
        elif typ == _BOUNDSHEET and len(body) >= 8:
            offset, kind = struct.unpack_from("<I", body)[0], body[5]
            listed.append((offset, kind, _sheet_name(body[6:], biff8)))
        elif typ == _EOF:
            break
    out = []
    for offset, kind, name in listed:
        rows = cols = 0
        for typ, at, size in _records(stream, offset):
            if typ == _DIMENSIONS:
                rows, cols = _dimensions(stream[at:at + size])
                break
            if typ == _EOF:
                break
        out.append(BiffSheet(name, _SHEET_TYPES.get(kind, "unknown"), rows, cols))
    return out


def _sheet_name(body: bytes, biff8: bool) -> str:
    if not body:
        return ""
    n = body[0]
    if not biff8:
        return body[1:1 + n].decode("cp1252", "replace")
    wide = len(body) > 1 and body[1] & 1
    raw = body[2:2 + n * (2 if wide else 1)]
    return raw.decode("utf-16-le" if wide else "latin-1", "replace")


def _dimensions(body: bytes) -> tuple[int, int]:
    """(rows, columns) as the parser reserves room for them, its unsigned arithmetic included (a
    range whose end is before its start asks for billions)."""
    if len(body) >= 14:
        rf, rl, cf, cl = struct.unpack_from("<IIHH", body)
    elif len(body) >= 10:
        rf, rl, cf, cl = struct.unpack_from("<HHHH", body)
    else:
        raise BiffError("short DIMENSIONS record")
    if cf > 0xFF or cl < cf:
        cf = 0
    if rl < 1 or cl < 1:
        return 1, 1
    return ((rl - 1 - rf) & 0xFFFFFFFF) + 1, ((cl - 1 - cf) & 0xFFFFFFFF) + 1
