"""The vbaProject.bin writer: olevba reads back every module as written; output is deterministic."""

import io
import struct

import olefile
import pytest
from oletools.olevba import VBA_Parser

from salesbook.xlsm.builder import load_layout, vba_modules, xlwings_vba_files
from salesbook.xlsm.cfb import build_compound_file, sort_key
from salesbook.xlsm.ovba import decompress
from salesbook.xlsm.vbaproject import (
    CLASS_BASE,
    WORKBOOK_BASE,
    WORKSHEET_BASE,
    VbaSourceError,
    build_vba_project,
    decrypt,
    document_module,
    encrypt,
    module_from_export,
    standard_module,
)


def _crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


@pytest.fixture(scope="module")
def master_modules():
    return vba_modules(load_layout())


@pytest.fixture(scope="module")
def master_bin(master_modules):
    return build_vba_project(master_modules)


def _olevba_modules(data):
    parser = VBA_Parser("vbaProject.bin", data=data)
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_olevba_reads_every_module_exactly(master_modules, master_bin):
    """olevba finds each module we stored, with exactly the source we wrote (Attribute header included)."""
    found = _olevba_modules(master_bin)
    assert set(found) == {m.name for m in master_modules}
    for module in master_modules:
        assert _crlf(found[module.name]) == module.source, module.name


def test_master_project_holds_document_macro_and_xlwings_modules(master_modules):
    """ThisWorkbook and every sheet codename are document modules; SalesBook, xlwings, Dictionary follow."""
    layout = load_layout()
    kinds = {m.name: m.kind for m in master_modules}
    assert kinds["ThisWorkbook"] == "document"
    assert all(kinds[s.codename] == "document" for s in layout.sheets)
    assert (kinds["SalesBook"], kinds["xlwings"], kinds["Dictionary"]) == ("standard", "standard", "class")


def test_xlwings_sources_are_taken_from_the_installed_package(master_modules):
    """xlwings.bas is stored as shipped; Dictionary.cls loses its VERSION/BEGIN preamble and gains VB_Base."""
    bas, cls = xlwings_vba_files()
    by_name = {m.name: m for m in master_modules}
    assert by_name["xlwings"].source == _crlf(bas.read_text())
    dictionary = by_name["Dictionary"].source
    assert "VERSION 1.0 CLASS" not in dictionary and "MultiUse" not in dictionary.split("Option Explicit")[0]
    header = [line for line in dictionary.split("\r\n")[:9]]
    assert header[:8] == [
        'Attribute VB_Name = "Dictionary"',
        f'Attribute VB_Base = "{CLASS_BASE}"',
        "Attribute VB_GlobalNameSpace = False",
        "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = False",
        "Attribute VB_Exposed = True",
        "Attribute VB_TemplateDerived = False",
        "Attribute VB_Customizable = False",
    ]
    body = _crlf(cls.read_text()).split("Attribute VB_Description = ", 1)[1].split("\r\n", 1)[1]
    assert dictionary.endswith(body)


def test_document_modules_carry_the_excel_base_classes():
    """ThisWorkbook is based on Excel's Workbook class, sheets on the Worksheet class."""
    assert f'Attribute VB_Base = "{WORKBOOK_BASE}"' in document_module("ThisWorkbook", WORKBOOK_BASE).source
    assert WORKBOOK_BASE == "0{00020819-0000-0000-C000-000000000046}"
    assert WORKSHEET_BASE == "0{00020820-0000-0000-C000-000000000046}"


def test_two_builds_are_byte_identical(master_modules, master_bin):
    """The same modules always give the same vbaProject.bin bytes."""
    assert build_vba_project(vba_modules(load_layout())) == master_bin


def test_streams_and_records(master_modules, master_bin):
    """_VBA_PROJECT declares no cache; dir starts with the §2.3.4.2 records and ends with 0x0010; PROJECT lists modules."""
    ole = olefile.OleFileIO(io.BytesIO(master_bin))
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000000")
    dir_stream = decompress(ole.openstream("VBA/dir").read())
    ids = []
    at = 0
    while at < len(dir_stream):
        record_id, size = struct.unpack_from("<HI", dir_stream, at)
        ids.append(record_id)
        at += 6 + (6 if record_id == 0x0009 else size)  # PROJECTVERSION's "size" is a reserved 4
    assert ids[:16] == [
        0x01,
        0x02,
        0x14,
        0x03,
        0x04,
        0x05,
        0x40,
        0x06,
        0x3D,
        0x07,
        0x08,
        0x09,
        0x0C,
        0x3C,
        0x16,
        0x3E,
    ]
    assert ids[-1] == 0x0010 and ids.count(0x002B) == len(master_modules)
    assert b"{00020430-0000-0000-C000-000000000046}" in dir_stream
    assert b"{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}" in dir_stream
    project = ole.openstream("PROJECT").read().decode("cp1252").split("\r\n")
    assert "Document=ThisWorkbook/&H00000000" in project
    assert "Module=SalesBook" in project and "Module=xlwings" in project and "Class=Dictionary" in project
    assert "[Host Extender Info]" in project
    project_id = project[0].split('"')[1]
    values = dict(line.split("=", 1) for line in project if line.startswith(("CMG=", "DPB=", "GC=")))
    assert decrypt(values["CMG"].strip('"'), project_id) == bytes(4)
    assert decrypt(values["DPB"].strip('"'), project_id) == b"\x00"
    assert decrypt(values["GC"].strip('"'), project_id) == b"\xff"
    wm = ole.openstream("PROJECTwm").read()
    assert wm.endswith(b"\x00\x00") and b"SalesBook\x00S\x00a\x00l\x00" in wm


def test_encryption_round_trip_for_every_seed():
    """§2.4.3 data encryption decrypts back for every seed (and so every count of filler bytes)."""
    for seed in range(256):
        filler = bytes(range((seed & 6) // 2))
        assert decrypt(encrypt(b"\x01\x02\x03\x04", "{ABC}", seed, filler), "{ABC}") == b"\x01\x02\x03\x04"


def _check_red_black(entries, sid, path=()):
    """Black height of the subtree at sid; asserts BST order and the red-black rules."""
    if sid == 0xFFFFFFFF:
        return 1
    name, color, left, right = entries[sid]
    if color == 0:  # red: children must be black
        for child in (left, right):
            assert child == 0xFFFFFFFF or entries[child][1] == 1
    if left != 0xFFFFFFFF:
        assert sort_key(entries[left][0]) < sort_key(name)
    if right != 0xFFFFFFFF:
        assert sort_key(entries[right][0]) > sort_key(name)
    lh, rh = _check_red_black(entries, left), _check_red_black(entries, right)
    assert lh == rh
    return lh + color


@pytest.mark.parametrize("count", [1, 2, 3, 5, 7, 8, 12, 20, 33])
def test_directory_siblings_form_a_valid_red_black_tree(count):
    """Sibling entries are a binary search tree in §2.6.4 order with equal black heights, root black."""
    names = [f"M{'x' * (i % 5)}{i}" for i in range(count)]
    data = build_compound_file({f"VBA/{n}": b"x" * (i * 700) for i, n in enumerate(names)})
    (dir_start,) = struct.unpack_from("<I", data, 48)
    ole = olefile.OleFileIO(io.BytesIO(data))
    raw = b""
    sector = dir_start
    while sector < 0xFFFFFFFA:
        raw += data[512 * (sector + 1) : 512 * (sector + 2)]
        sector = ole.fat[sector]
    entries = {}
    for sid in range(len(raw) // 128):
        e = raw[sid * 128 : (sid + 1) * 128]
        name_len = struct.unpack_from("<H", e, 64)[0]
        left, right, child = struct.unpack_from("<III", e, 68)
        entries[sid] = (e[: max(name_len - 2, 0)].decode("utf-16-le"), e[67], left, right, child)
    tree = {sid: (n, c, lft, rgt) for sid, (n, c, lft, rgt, _) in entries.items()}
    vba_sid = next(sid for sid, e in entries.items() if e[0] == "VBA")
    root = entries[vba_sid][4]
    assert tree[root][1] == 1
    _check_red_black(tree, root)
    for n in names:
        assert ole.exists(f"VBA/{n}")


def test_sources_must_be_ascii():
    """A non-ASCII character in a module is refused with the module and line named."""
    with pytest.raises(VbaSourceError, match="Module1, line 3"):
        standard_module("Module1", 'Sub A()\n  MsgBox "\u6821\u9a8c"\nEnd Sub\n')


def test_exported_standard_module_is_stored_as_is():
    """A .bas export keeps its Attribute VB_Name line and body; line ends become CRLF."""
    module = module_from_export('Attribute VB_Name = "Foo"\nSub A()\nEnd Sub\n')
    assert (module.name, module.kind) == ("Foo", "standard")
    assert module.source == 'Attribute VB_Name = "Foo"\r\nSub A()\r\nEnd Sub\r\n'


def test_project_stream_has_the_workspace_section_as_excel_writes_it(master_modules, master_bin):
    """The PROJECT stream ends with [Workspace] and one closed code window per module (§2.3.1.18)."""
    ole = olefile.OleFileIO(io.BytesIO(master_bin))
    text = ole.openstream("PROJECT").read().decode("cp1252")
    assert text.endswith("\r\n")
    lines = text.split("\r\n")
    assert lines.index("[Workspace]") > lines.index("[Host Extender Info]")
    at = lines.index("[Workspace]")
    assert lines[at + 1 : at + 1 + len(master_modules)] == [f"{m.name}=0, 0, 0, 0, C" for m in master_modules]


def test_module_sources_reads_back_what_was_written_and_what_olevba_reads(master_modules, master_bin):
    """module_sources (used by `salesbook attach` to find the embedded xlwings) returns every module's stored
    source, the same text olevba extracts."""
    from salesbook.xlsm.vbaproject import module_sources

    sources = module_sources(master_bin)
    assert sources == {m.name: m.source for m in master_modules}
    parser = VBA_Parser("p.bin", data=master_bin)
    theirs = {stream.split("/")[-1]: code for _, stream, _, code in parser.extract_macros()}
    for name, source in sources.items():
        assert theirs[name].replace("\r\n", "\n").strip() == source.replace("\r\n", "\n").strip(), name


def test_module_sources_skips_a_compiled_cache_before_the_source():
    """A module stream that Excel saved with a performance cache in front is read from its MODULEOFFSET."""
    from salesbook.xlsm.vbaproject import _dir_stream, module_sources

    module = standard_module("Module1", "Sub A()\r\nEnd Sub\r\n")
    raw = bytearray(_dir_stream("VBAProject", [module], version=(1, 0)))
    at = raw.index(struct.pack("<HI", 0x0031, 4))
    raw[at + 6 : at + 10] = struct.pack("<I", 37)  # 37 bytes of "compiled code" in front of the source
    from salesbook.xlsm.ovba import compress

    streams = {"PROJECT": b"", "VBA/_VBA_PROJECT": bytes(7), "VBA/dir": compress(bytes(raw)),
               "VBA/Module1": bytes(range(37)) + compress(module.source.encode("cp1252"))}
    assert module_sources(build_compound_file(streams)) == {"Module1": module.source}
