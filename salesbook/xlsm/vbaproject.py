"""A source-only VBA project (vbaProject.bin) written from [MS-OVBA], which Excel compiles on open.

The project holds module sources only: the `_VBA_PROJECT` stream declares no performance cache
(§2.3.4.1), so the host rebuilds it from the compressed sources. Everything is deterministic —
the project id and the obfuscation bytes of CMG/DPB/GC are derived from the sources — so the
same modules always give the same bytes.

Module sources are stored as the VBA editor keeps them: CRLF line ends, a header of
`Attribute VB_*` lines (for class and document modules the full set, including `VB_Base`).
"""

from __future__ import annotations

import hashlib
import re
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from salesbook.xlsm.cfb import build_compound_file
from salesbook.xlsm.ovba import compress

ModuleKind = Literal["standard", "class", "document"]

CODE_PAGE = 1252
LCID = 0x0409
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"  # Excel's Workbook object
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"  # Excel's Worksheet object
CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"  # a plain VBA class module

# (name, libid) of the two references every Excel project carries (§2.3.4.2.2).
REFERENCES: tuple[tuple[str, str], ...] = (
    (
        "stdole",
        r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation",
    ),
    (
        "Office",
        r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files"
        r"\Microsoft Shared\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library",
    ),
)

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")
_ATTRIBUTE = re.compile(r"^Attribute\s+(VB_\w+)\s*=\s*(.*?)\s*$")
# Order in which the editor stores the header of class and document modules.
_HEADER_ORDER = (
    "VB_Name",
    "VB_Base",
    "VB_GlobalNameSpace",
    "VB_Creatable",
    "VB_PredeclaredId",
    "VB_Exposed",
    "VB_TemplateDerived",
    "VB_Customizable",
)


class VbaSourceError(ValueError):
    """A VBA module cannot be stored: its name or source breaks a rule (the message says which)."""


@dataclass(frozen=True)
class VbaModule:
    """One module of a VBA project: its name, kind and the exact source text stored for it."""

    name: str
    kind: ModuleKind
    source: str  # CRLF line ends, Attribute header included

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise VbaSourceError(f"VBA module name {self.name!r} must be a letter then letters, digits or _")
        for number, line in enumerate(self.source.split("\r\n"), start=1):
            if not line.isascii():
                raise VbaSourceError(
                    f"module {self.name}, line {number}: VBA sources must be ASCII: {line!r}"
                )
        if "\n" in self.source.replace("\r\n", "") or "\r" in self.source.replace("\r\n", ""):
            raise VbaSourceError(f"module {self.name}: line ends must be CRLF")


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _header(attributes: dict[str, str]) -> str:
    return "".join(f"Attribute {key} = {value}\r\n" for key, value in attributes.items())


def standard_module(name: str, code: str) -> VbaModule:
    """A standard (procedural) module `name` holding `code` (without an Attribute header)."""
    return VbaModule(name, "standard", _header({"VB_Name": f'"{name}"'}) + _crlf(code))


def document_module(name: str, base: str, code: str = "") -> VbaModule:
    """The code-behind module of a host document object (`base`: WORKBOOK_BASE or WORKSHEET_BASE)."""
    attributes = {
        "VB_Name": f'"{name}"',
        "VB_Base": f'"{base}"',
        "VB_GlobalNameSpace": "False",
        "VB_Creatable": "False",
        "VB_PredeclaredId": "True",
        "VB_Exposed": "True",
        "VB_TemplateDerived": "False",
        "VB_Customizable": "True",
    }
    return VbaModule(name, "document", _header(attributes) + _crlf(code))


def module_from_export(text: str) -> VbaModule:
    """A module from the text of a file exported by the VBA editor (.bas standard module or .cls class).

    A .cls file's `VERSION 1.0 CLASS` / `BEGIN ... END` preamble is dropped and its Attribute header
    completed to what the editor stores (`VB_Base` and the rest); a .bas file is stored as it is.
    """
    lines = _crlf(text).split("\r\n")
    is_class = bool(lines) and lines[0].strip().upper().startswith("VERSION") and "CLASS" in lines[0].upper()
    at = 0
    if is_class:
        at = 1
        if at < len(lines) and lines[at].strip().upper() == "BEGIN":
            while at < len(lines) and lines[at].strip().upper() != "END":
                at += 1
            if at == len(lines):
                raise VbaSourceError("class module: BEGIN without END")
            at += 1
    attributes: dict[str, str] = {}
    while at < len(lines) and (match := _ATTRIBUTE.match(lines[at])):
        attributes[match.group(1)] = match.group(2)
        at += 1
    name_value = attributes.get("VB_Name", "")
    if not (name_value.startswith('"') and name_value.endswith('"') and len(name_value) > 2):
        raise VbaSourceError('an exported module must start with Attribute VB_Name = "Name"')
    name = name_value[1:-1]
    body = "\r\n".join(lines[at:])
    if not is_class:
        return VbaModule(name, "standard", _header(attributes) + body)
    defaults = {
        "VB_Name": name_value,
        "VB_Base": f'"{CLASS_BASE}"',
        "VB_GlobalNameSpace": "False",
        "VB_Creatable": "False",
        "VB_PredeclaredId": "False",
        "VB_Exposed": "False",
        "VB_TemplateDerived": "False",
        "VB_Customizable": "False",
    }
    ordered = {key: attributes.get(key, defaults[key]) for key in _HEADER_ORDER}
    ordered.update((k, v) for k, v in attributes.items() if k not in ordered)
    return VbaModule(name, "class", _header(ordered) + body)


# ------------------------------------------------------------------------------- streams


def _record(record_id: int, data: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(data)) + data


def _mbcs(text: str) -> bytes:
    return text.encode("cp1252")


def _dir_stream(project_name: str, modules: Sequence[VbaModule], version: tuple[int, int]) -> bytes:
    """The decompressed `dir` stream (§2.3.4.2)."""
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", 0x00000001))  # PROJECTSYSKIND: 32-bit Windows
    out += _record(0x0002, struct.pack("<I", LCID))  # PROJECTLCID
    out += _record(0x0014, struct.pack("<I", LCID))  # PROJECTLCIDINVOKE
    out += _record(0x0003, struct.pack("<H", CODE_PAGE))  # PROJECTCODEPAGE
    out += _record(0x0004, _mbcs(project_name))  # PROJECTNAME
    out += _record(0x0005, b"") + _record(0x0040, b"")  # PROJECTDOCSTRING + unicode
    out += _record(0x0006, b"") + _record(0x003D, b"")  # PROJECTHELPFILEPATH 1 and 2
    out += _record(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _record(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    # PROJECTVERSION: its "size" field is a reserved 4 followed by 4 + 2 bytes of version.
    out += struct.pack("<HIIH", 0x0009, 4, version[0], version[1])
    out += _record(0x000C, b"") + _record(0x003C, b"")  # PROJECTCONSTANTS + unicode
    for name, libid in REFERENCES:
        out += _record(0x0016, _mbcs(name)) + _record(0x003E, name.encode("utf-16-le"))  # REFERENCENAME
        libid_bytes = _mbcs(libid)
        registered = struct.pack("<I", len(libid_bytes)) + libid_bytes + struct.pack("<IH", 0, 0)
        out += _record(0x000D, registered)  # REFERENCEREGISTERED
    out += _record(0x000F, struct.pack("<H", len(modules)))  # PROJECTMODULES
    out += _record(0x0013, struct.pack("<H", 0xFFFF))  # PROJECTCOOKIE
    for module in modules:
        out += _record(0x0019, _mbcs(module.name))  # MODULENAME
        out += _record(0x0047, module.name.encode("utf-16-le"))  # MODULENAMEUNICODE
        out += _record(0x001A, _mbcs(module.name)) + _record(0x0032, module.name.encode("utf-16-le"))
        out += _record(0x001C, b"") + _record(0x0048, b"")  # MODULEDOCSTRING + unicode
        out += _record(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: no performance cache
        out += _record(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += _record(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
        # MODULETYPE: 0x0021 procedural, 0x0022 document, class or designer; its "size" is reserved 0.
        out += struct.pack("<HI", 0x0021 if module.kind == "standard" else 0x0022, 0)
        out += struct.pack("<HI", 0x002B, 0)  # module terminator
    out += struct.pack("<HI", 0x0010, 0)  # dir terminator
    return bytes(out)


def encrypt(data: bytes, project_id: str, seed: int, ignored: bytes) -> str:
    """Data Encryption of §2.4.3.2, as upper-case hex; `ignored` gives the filler bytes (length (seed & 6) / 2)."""
    version = 2
    project_key = sum(_mbcs(project_id)) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ project_key])
    unencrypted1, encrypted1, encrypted2 = project_key, out[2], out[1]
    ignored_length = (seed & 6) // 2
    if len(ignored) != ignored_length:
        raise ValueError(f"seed {seed:#04x} needs {ignored_length} ignored bytes, got {len(ignored)}")
    for byte in ignored + struct.pack("<I", len(data)) + data:
        encrypted = byte ^ ((encrypted2 + unencrypted1) & 0xFF)
        out.append(encrypted)
        encrypted2, encrypted1, unencrypted1 = encrypted1, encrypted, byte
    return out.hex().upper()


def decrypt(hex_text: str, project_id: str | None = None) -> bytes:
    """Undo `encrypt` (§2.4.3.3); checks the project key when `project_id` is given."""
    raw = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = raw[0], raw[1], raw[2]
    if seed ^ version_enc != 2:
        raise ValueError("encrypted data: version is not 2")
    project_key = seed ^ key_enc
    if project_id is not None and project_key != sum(_mbcs(project_id)) & 0xFF:
        raise ValueError("encrypted data: project key does not match the project id")
    unencrypted1, encrypted1, encrypted2 = project_key, key_enc, version_enc
    plain = bytearray()
    for byte in raw[3:]:
        value = byte ^ ((encrypted2 + unencrypted1) & 0xFF)
        plain.append(value)
        encrypted2, encrypted1, unencrypted1 = encrypted1, byte, value
    ignored_length = (seed & 6) // 2
    (length,) = struct.unpack_from("<I", plain, ignored_length)
    return bytes(plain[ignored_length + 4 : ignored_length + 4 + length])


def _derived_encrypt(data: bytes, project_id: str, label: str) -> str:
    """Encrypt with a seed and filler derived from the project id, so output is reproducible."""
    digest = hashlib.sha256(f"{project_id}/{label}".encode("ascii")).digest()
    seed = digest[0]
    return encrypt(data, project_id, seed, digest[1 : 1 + (seed & 6) // 2])


def _project_stream(project_id: str, project_name: str, modules: Sequence[VbaModule]) -> bytes:
    """The PROJECT stream (§2.3.1): module list, name, protection records, host extenders."""
    protection = _derived_encrypt(struct.pack("<I", 0), project_id, "CMG")  # not protected
    password = _derived_encrypt(bytes([0x00]), project_id, "DPB")  # no password
    visibility = _derived_encrypt(bytes([0xFF]), project_id, "GC")  # visible
    lines = [f'ID="{project_id}"']
    for module in modules:
        if module.kind == "document":
            lines.append(f"Document={module.name}/&H00000000")
        elif module.kind == "class":
            lines.append(f"Class={module.name}")
        else:
            lines.append(f"Module={module.name}")
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{protection}"',
        f'DPB="{password}"',
        f'GC="{visibility}"',
        "",
        "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
        # ProjectWorkspace (§2.3.1.18), as Excel writes it: every code window closed.
        "[Workspace]",
        *(f"{module.name}=0, 0, 0, 0, C" for module in modules),
        "",
    ]
    return _mbcs("\r\n".join(lines))


def _projectwm_stream(modules: Sequence[VbaModule]) -> bytes:
    """PROJECTwm (§2.3.3): each module name in MBCS and in UTF-16, then a 0x0000 terminator."""
    out = bytearray()
    for module in modules:
        out += _mbcs(module.name) + b"\x00" + module.name.encode("utf-16-le") + b"\x00\x00"
    return bytes(out + b"\x00\x00")


def project_id_for(modules: Sequence[VbaModule], project_name: str = "VBAProject") -> str:
    """A GUID derived from the project's content: stable across builds, distinct across projects."""
    digest = hashlib.sha256(project_name.encode("ascii"))
    for module in modules:
        digest.update(f"\0{module.kind}\0{module.name}\0{module.source}".encode("ascii"))
    return "{" + str(uuid.UUID(bytes=digest.digest()[:16], version=4)).upper() + "}"


def build_vba_project(modules: Sequence[VbaModule], *, project_name: str = "VBAProject") -> bytes:
    """The bytes of a vbaProject.bin holding `modules` as source only (document modules first is usual)."""
    if not _NAME.match(project_name):
        raise VbaSourceError(f"VBA project name {project_name!r} must be a letter then letters, digits or _")
    names = [m.name.upper() for m in modules]
    if len(set(names)) != len(names):
        raise VbaSourceError(f"duplicate module names in {[m.name for m in modules]}")
    project_id = project_id_for(modules, project_name)
    streams = {
        "PROJECT": _project_stream(project_id, project_name, modules),
        "PROJECTwm": _projectwm_stream(modules),
        "VBA/_VBA_PROJECT": bytes([0xCC, 0x61, 0xFF, 0xFF, 0x00, 0x00, 0x00]),
        "VBA/dir": compress(_dir_stream(project_name, modules, version=(1, 0))),
    }
    for module in modules:
        streams[f"VBA/{module.name}"] = compress(_mbcs(module.source))
    return build_compound_file(streams)


# ------------------------------------------------------------------------------- reading


def module_sources(vba_project: bytes) -> dict[str, str]:
    """Module name -> source text of a vbaProject.bin (ours or one Excel saved), from its `dir` stream.

    Excel keeps a compiled cache in front of each module's compressed source; MODULEOFFSET says
    where the source starts (§2.3.4.2.3.2.5)."""
    import io

    import olefile

    from salesbook.xlsm.ovba import decompress

    ole = olefile.OleFileIO(io.BytesIO(vba_project))
    try:
        root = next((p[0] for p in ole.listdir() if len(p) == 2 and p[1].lower() == "dir"), "VBA")
        raw = decompress(ole.openstream([root, "dir"]).read())
        codepage, modules = _read_dir(raw)
        out = {}
        for name, stream, offset in modules:
            data = ole.openstream([root, stream]).read()
            out[name] = decompress(data[offset:]).decode(f"cp{codepage}", errors="replace")
        return out
    finally:
        ole.close()


def _read_dir(raw: bytes) -> tuple[int, list[tuple[str, str, int]]]:
    """(code page, [(module name, stream name, source offset)]) from a decompressed `dir` stream."""
    at, codepage = 0, CODE_PAGE
    modules: list[tuple[str, str, int]] = []
    name = stream = ""
    offset = 0
    while at + 6 <= len(raw):
        record_id, size = struct.unpack_from("<HI", raw, at)
        if record_id == 0x0009:  # PROJECTVERSION: its "size" is a reserved 4 before 6 bytes of version
            at += 12
            continue
        data = raw[at + 6 : at + 6 + size]
        at += 6 + size
        if record_id == 0x0003:
            (codepage,) = struct.unpack("<H", data[:2])
        elif record_id == 0x0019:
            name, stream, offset = data.decode(f"cp{codepage}", errors="replace"), "", 0
        elif record_id == 0x001A:
            stream = data.decode(f"cp{codepage}", errors="replace")
        elif record_id == 0x0031:
            (offset,) = struct.unpack("<I", data[:4])
        elif record_id == 0x002B:
            modules.append((name, stream or name, offset))
        elif record_id == 0x0010:
            break
    return codepage, modules
