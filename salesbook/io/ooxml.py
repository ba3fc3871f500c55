"""What salesbook reads of an Office Open XML package (.xlsx, .xlsm, .xlsb) before a parser does.

The workbook part is found through the package relationships, not at a fixed name (some writers
use other folders, or backslashes in member names); its sheets are listed with their kind; a
sheet's real extent is measured from its cells; and, where the parser would refuse the whole
file or copy one long shared string into every cell that refers to it, a repackaged copy is made
in memory: without the sheets of a kind it cannot read (Excel 4 macro sheets), and with shared
strings longer than salesbook keeps shortened (they are then reported as too long, not parsed).
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote

import defusedxml.ElementTree as SafeET

from ..core.findings import column_letter

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384  # XFD
MAX_PART_BYTES = 64 * 2**20  # relationships and workbook parts are small; larger is not a workbook
BIG_PART = 64 * 1024  # bytes or characters: a part we write this big is compressed at DEFLATE_LEVEL
DEFLATE_LEVEL = 1  # XML of many cells: 4× faster than zlib's default 6, for a file about a quarter bigger

_SHEET_KINDS = {"worksheet": "worksheet", "chartsheet": "chartsheet", "dialogsheet": "dialogsheet",
                "xlmacrosheet": "macrosheet", "xlintlmacrosheet": "macrosheet"}
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Za-z]*\d*)(?::([A-Za-z]*\d*))?"')
_REF = re.compile(rb"([A-Za-z]+)(\d+)")
# One cell or row tag of a worksheet (start, end or self-closing); attribute values are short.
_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.\-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_R_ATTR = re.compile(rb'\sr\s*=\s*["\']([^"\']*)["\']')
_SI_END = re.compile(rb"</(?:\w+:)?si>")
_SI_START = re.compile(rb"<(?:\w+:)?si(?=[\s>])")
_TEXT_RUN = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>([^<]*)</(?:\w+:)?t>")
_PHONETIC = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)


class PackageError(Exception):
    """The package's relationships or workbook part cannot be made sense of."""


def norm(name: str) -> str:
    """A member or part name as a path: forward slashes, no leading slash."""
    return name.replace("\\", "/").lstrip("/")


def cell_name(row: int, col: int) -> str:
    """0-based (row, column) -> A1 notation."""
    return f"{column_letter(col)}{row + 1}"


def parse_ref(ref: bytes) -> tuple[int, int] | None:
    """A1-style reference -> 0-based (row, column), read as the parser reads it (letters of either
    case, base 26); None when it is not letters then digits."""
    m = _REF.fullmatch(ref)
    if m is None:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ch - 64
    row = int(m.group(2))
    return (row - 1, col - 1) if row >= 1 else None


@dataclass(frozen=True)
class SheetPart:
    """A sheet as the workbook part lists it: its name, its member in the zip, and its kind."""

    name: str
    rid: str  # its relationship id in the workbook part
    member: str | None  # the zip member's real name; None when the relationship is missing
    kind: str  # worksheet | chartsheet | dialogsheet | macrosheet | unknown


@dataclass(frozen=True)
class Extent:
    """Where a sheet's cells with content lie (0-based, inclusive), and any reference past Excel's grid."""

    first: tuple[int, int] | None = None
    last: tuple[int, int] | None = None
    beyond: str = ""  # the first cell reference beyond XFD / row 1,048,576, as written

    @property
    def rows(self) -> int:
        return 0 if self.first is None else self.last[0] - self.first[0] + 1

    @property
    def columns(self) -> int:
        return 0 if self.first is None else self.last[1] - self.first[1] + 1

    @property
    def span(self) -> str:
        return "" if self.first is None else f"{cell_name(*self.first)}:{cell_name(*self.last)}"


class Package:
    """An OOXML zip seen as parts: names compared as OPC does (case-insensitive, either slash)."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
        self.members = {norm(i.filename).lower(): i for i in zf.infolist()}
        self._rels: dict[str, dict[str, tuple[str, str]]] = {}  # a part's relationships, parsed once

    def info(self, part: str) -> zipfile.ZipInfo | None:
        return self.members.get(norm(part).lower())

    def read(self, part: str) -> bytes | None:
        info = self.info(part)
        if info is None:
            return None
        if info.file_size > MAX_PART_BYTES:
            raise PackageError(f"{part} is {info.file_size} bytes")
        return self.zf.read(info)

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, target part) of `part` ("" for the package itself)."""
        if part not in self._rels:
            self._rels[part] = self._relationships(part)
        return dict(self._rels[part])

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        folder, name = posixpath.split(norm(part))
        data = self.read(posixpath.join(folder, "_rels", name + ".rels"))
        if data is None:
            return {}
        root = _xml(data)
        out = {}
        for el in root.iter():
            if _local(el.tag) != "Relationship" or el.get("TargetMode", "").lower() == "external":
                continue
            target = unquote(norm(el.get("Target", "")) if el.get("Target", "").startswith(("/", "\\"))
                             else posixpath.normpath(posixpath.join(folder, el.get("Target", "").replace("\\", "/"))))
            out[el.get("Id", "")] = (el.get("Type", ""), target)
        return out

    def workbook_part(self) -> str | None:
        """The main workbook part, by the package's officeDocument relationship (else the usual name)."""
        for typ, target in self.relationships("").values():
            if typ.endswith("/officeDocument") and self.info(target) is not None:
                return target
        for usual in ("xl/workbook.xml", "xl/workbook.bin"):
            if self.info(usual) is not None:
                return usual
        return None

    def sheets(self, workbook: str) -> list[SheetPart]:
        """Every sheet the workbook part lists, in order (an .xlsb's binary list included)."""
        rels = self.relationships(workbook)
        data = self.read(workbook) or b""
        listed = _binary_sheets(data) if workbook.lower().endswith(".bin") else _xml_sheets(data)
        out = []
        for name, rid in listed:
            typ, target = rels.get(rid, ("", ""))
            info = self.info(target) if target else None
            kind = _SHEET_KINDS.get(typ.rsplit("/", 1)[-1].lower(), "unknown") if info is not None else "unknown"
            out.append(SheetPart(name, rid, info.filename if info is not None else None, kind))
        return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml(data: bytes):
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except Exception as exc:  # noqa: BLE001 - malformed XML or a forbidden construct: not a usable part
        raise PackageError(type(exc).__name__) from None


def _xml_sheets(data: bytes) -> list[tuple[str, str]]:
    root = _xml(data)
    out = []
    for el in root.iter():
        if _local(el.tag) == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
            out.append((el.get("name", ""), rid))
    return out


def _binary_sheets(data: bytes) -> list[tuple[str, str]]:
    """(name, relationship id) of each sheet an .xlsb workbook part lists."""
    return [(name, rid) for _, _, name, rid in _bundle_records(data)]


def _bundle_records(data: bytes) -> list[tuple[int, int, str, str]]:
    """(start, end, name, relationship id) of each BrtBundleSh record of an .xlsb workbook part."""
    out, pos = [], 0

    def varint(p: int, most: int) -> tuple[int, int]:
        value = shift = 0
        for _ in range(most):
            if p >= len(data):
                raise PackageError("truncated record")
            b = data[p]
            p += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        return value, p

    def wide(p: int, end: int) -> tuple[str, int]:
        if p + 4 > end:
            raise PackageError("string past its record")
        (n,) = struct.unpack_from("<I", data, p)
        if n == 0xFFFFFFFF:
            return "", p + 4
        if p + 4 + 2 * n > end:
            raise PackageError("string past its record")
        return data[p + 4:p + 4 + 2 * n].decode("utf-16-le", "replace"), p + 4 + 2 * n

    while pos < len(data):
        start = pos
        typ, pos = varint(pos, 2)
        size, pos = varint(pos, 4)
        end = pos + size
        if typ == 0x9C and size >= 16:  # BrtBundleSh: state, tab id, relationship id, name
            rid, p = wide(pos + 8, end)
            name, _ = wide(p, end)
            out.append((start, end, name, rid))
        elif typ == 0x90:  # BrtEndBundleShs
            break
        pos = end
    return out


def without_binary_sheets(data: bytes, rids: set[str]) -> bytes:
    """An .xlsb workbook part without the sheet records of relationship ids `rids`."""
    parts, at = [], 0
    for start, end, _, rid in _bundle_records(data):
        if rid in rids:
            parts.append(data[at:start])
            at = end
    parts.append(data[at:])
    return b"".join(parts)


def dimension(head: bytes) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The <dimension ref> a worksheet declares (in its first bytes), as 0-based corners, if any."""
    m = _DIMENSION.search(head)
    if m is None:
        return None
    first = parse_ref(m.group(1))
    last = parse_ref(m.group(2)) if m.group(2) else first
    if first is None or last is None:
        return None
    return first, last


def measure(fh, chunk: int = 1 << 20) -> Extent:
    """The extent of a worksheet's cells that hold something, streamed from `fh` (a zip member).

    Follows the parser's rules: a cell's `r` gives its place, a cell without one follows the one
    before it; a self-closing <c/> holds nothing (Excel writes those for formatting only).
    """
    first_r = first_c = None
    last_r = last_c = -1
    row = col = 0
    beyond = ""
    carry = b""
    while True:
        more = fh.read(chunk)
        buf = carry + more
        cut = buf.rfind(b">") + 1 if more else len(buf)
        for m in _TAG.finditer(buf, 0, cut):
            closing, tag, attrs = m.group(1), m.group(2), m.group(3)
            if tag == b"row":
                if closing:
                    row, col = row + 1, 0
                    continue
                r = _R_ATTR.search(attrs)
                if r and r.group(1).isdigit():
                    row, col = int(r.group(1)) - 1, 0
                if attrs.endswith(b"/"):
                    row, col = row + 1, 0
                continue
            if closing:
                continue
            r = _R_ATTR.search(attrs)
            if r:
                pos = parse_ref(r.group(1))
                if pos is None:
                    raise PackageError(f"cell reference {r.group(1)[:20]!r}")
                cr, cc = pos
            else:
                cr, cc = row, col
            col = cc + 1
            if not beyond and (cr >= EXCEL_MAX_ROWS or cc >= EXCEL_MAX_COLUMNS):
                beyond = (r.group(1) if r else cell_name(cr, cc).encode()).decode("ascii", "replace")[:20]
            if attrs.endswith(b"/"):
                continue  # formatting only: the parser keeps no cell for it
            first_r = cr if first_r is None else min(first_r, cr)
            first_c = cc if first_c is None else min(first_c, cc)
            last_r, last_c = max(last_r, cr), max(last_c, cc)
        if not more:
            break
        carry = buf[cut:]
        if len(carry) > chunk:  # a tag longer than a megabyte is not one a workbook writes
            raise PackageError("oversized tag")
    if first_r is None:
        return Extent(beyond=beyond)
    return Extent((first_r, first_c), (last_r, last_c), beyond)


def _items(data: bytes) -> tuple[list[bytes], bytes]:
    """sharedStrings.xml cut at each item's end tag: piece i holds item i's start tag and text (the
    first also the prolog), the last piece what follows the last item; and that end tag."""
    m = _SI_END.search(data)
    end = m.group(0) if m else b"</si>"
    return data.split(end), end


def long_shared_strings(data: bytes, limit: int) -> list[int]:
    """Indexes of the shared strings (sharedStrings.xml) holding more than `limit` characters."""
    # An item of at most `limit` bytes cannot hold more characters than that: most are not decoded.
    pieces = _items(data)[0][:-1]
    if max(map(len, pieces), default=0) <= limit:  # the usual file: no item is even that many bytes
        return []
    return [i for i, piece in enumerate(pieces) if len(piece) > limit and len(shared_text(piece)) > limit]


def shared_text(item: bytes) -> str:
    """The text of one <si> item, as the parser joins it (runs concatenated, phonetic guides left out)."""
    from xml.sax.saxutils import unescape

    item = _PHONETIC.sub(b"", item)
    raw = b"".join(_TEXT_RUN.findall(item)).decode("utf-8", "replace")
    return unescape(raw, {"&quot;": '"', "&apos;": "'"})


def bound_shared_strings(data: bytes, indexes: list[int], keep: int) -> bytes:
    """sharedStrings.xml with the items at `indexes` holding only their first `keep` characters."""
    from xml.sax.saxutils import escape

    pieces, end = _items(data)
    prefix = end[2:-3]  # b"" or a namespace prefix such as b"x:"
    for i in indexes:
        piece = pieces[i]
        start = _SI_START.search(piece)
        text = escape(shared_text(piece)[:keep]).encode("utf-8")
        pieces[i] = (piece[:start.start()] + b"<" + prefix + b'si><' + prefix + b't xml:space="preserve">' + text
                     + b"</" + prefix + b"t>")
    return end.join(pieces)


def without_sheets(data: bytes, rids: set[str]) -> bytes:
    """workbook.xml with the <sheet> elements of relationship ids `rids` (or of none) taken out."""

    def drop(m: re.Match) -> bytes:
        rid = re.search(rb'\s(?:\w+:)?id\s*=\s*["\']([^"\']*)["\']', m.group(0))
        return b"" if (rid.group(1).decode("utf-8", "replace") if rid else "") in rids else m.group(0)

    return re.sub(rb"<(?:\w+:)?sheet\s[^>]*?/>", drop, data)


def repackage(zf: zipfile.ZipFile, replace: dict[str, bytes]) -> bytes:
    """A copy of the zip with the members named in `replace` (real names) given new content."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in zf.infolist():
            dst.writestr(info.filename, replace[info.filename] if info.filename in replace else zf.read(info))
    return out.getvalue()
