"""LibreOffice opens the built workbooks: it sees our VBA modules, code names and button bindings,
and runs a plain VBA macro from a project written by our vbaProject.bin writer.

LibreOffice cannot compile xlwings.bas (it relies on Windows/Mac APIs), so running code is shown
on a separate tiny workbook built with the same writer.
"""

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import xlsxwriter

from salesbook.xlsm.builder import build_workbook, load_layout, vba_modules
from salesbook.xlsm.vbaproject import (
    WORKBOOK_BASE,
    WORKSHEET_BASE,
    build_vba_project,
    document_module,
    standard_module,
)

pytestmark = pytest.mark.libreoffice

SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("uno_probe.py")
SCRIPT = "vnd.sun.star.script:VBAProject.{module}.{macro}?language=Basic&location=document"
TINY_MODULE = """Option Explicit

Sub WriteAnswer()
    ThisWorkbook.Worksheets(1).Range("A1").Value = 42
End Sub

Function Answer() As Long
    Answer = 6 * 7
End Function
"""
# What LibreOffice puts in front of an imported VBA module's source.
LO_PREAMBLE = re.compile(r"^(Rem Attribute VBA_ModuleType=\w+|Option VBASupport 1|Option ClassModule)$")


def _uno_available():
    if shutil.which("soffice") is None:
        return "LibreOffice (soffice) is not installed"
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found (LibreOffice's Python UNO bridge runs under the system Python)"
    check = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=30)
    if check.returncode != 0:
        return f"{SYSTEM_PYTHON} cannot import uno (install python3-uno)"
    return None


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """Build the master workbook and a tiny macro workbook, open both in one soffice, return its report."""
    reason = _uno_available()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("lo")
    master = build_workbook(folder / "SalesBook.xlsm", interpreter="python")
    tiny = folder / "tiny.xlsm"
    modules = [
        document_module("ThisWorkbook", WORKBOOK_BASE),
        document_module("Sheet1", WORKSHEET_BASE),
        standard_module("Module1", TINY_MODULE),
    ]
    workbook = xlsxwriter.Workbook(str(tiny))
    workbook.add_vba_project(io.BytesIO(build_vba_project(modules)), is_stream=True)
    workbook.set_vba_name("ThisWorkbook")
    sheet = workbook.add_worksheet("Sheet1")
    sheet.set_vba_name("Sheet1")
    sheet.insert_button(2, 1, {"macro": "WriteAnswer", "caption": "Write 42"})
    workbook.close()
    # The same workbook after a headless action has rewritten its output sheets with openpyxl.
    from click.testing import CliRunner

    from salesbook.cli import main

    ws = folder / "ws"
    assert CliRunner().invoke(main, ["demo", str(ws)]).exit_code == 0
    after = ws / "SalesBook.xlsm"
    command = [SYSTEM_PYTHON, str(PROBE), "--inspect", str(master), "--inspect", str(tiny), "--inspect", str(after)]
    for macro in ("Answer", "WriteAnswer"):
        command += ["--run", f"{tiny}::" + SCRIPT.format(module="Module1", macro=macro)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    files = json.loads(done.stdout)["files"]
    return {"master": files[str(master)], "tiny": files[str(tiny)], "after": files[str(after)]}


def _lo_code(source):
    """LibreOffice's module text without its VBA preamble lines."""
    lines = source.split("\n")
    while lines and LO_PREAMBLE.match(lines[0]):
        lines.pop(0)
    return "\n".join(lines).rstrip("\n")


def _our_code(source):
    """Our stored module text as LibreOffice shows it: Attribute lines dropped, LF line ends."""
    lines = [line for line in source.split("\r\n") if not line.startswith("Attribute ")]
    return "\n".join(lines).rstrip("\n")


def test_master_modules_and_sources(probe):
    """LibreOffice imports every module of the master project, with its type and our exact code."""
    expected = {m.name: m for m in vba_modules(load_layout())}
    seen = probe["master"]["modules"]
    assert set(seen) == set(expected)
    kinds = {"standard": "normal", "class": "class", "document": "document"}
    for name, module in expected.items():
        assert seen[name]["type"] == kinds[module.kind], name
        assert _lo_code(seen[name]["source"]) == _our_code(module.source), name


def test_master_codenames(probe):
    """Each sheet has the code name of its document module, in layout order."""
    layout = load_layout()
    assert probe["master"]["sheets"] == [{"name": s.name, "codename": s.codename} for s in layout.sheets]


def test_master_buttons_are_bound_to_their_macros(probe):
    """Each button on the start sheet has its caption and runs VBAProject.SalesBook.<macro> when clicked."""
    layout = load_layout()
    buttons = [c for c in probe["master"]["controls"] if c["sheet"] == layout.buttons_sheet]
    assert [b["label"] for b in buttons] == [b.caption for b in layout.buttons]
    for control, button in zip(buttons, layout.buttons, strict=True):
        actions = [e["code"] for e in control["events"] if e["method"] == "actionPerformed"]
        assert actions == [SCRIPT.format(module="SalesBook", macro=button.macro)], button.macro


def test_tiny_workbook_macro_runs(probe):
    """A VBA function returns 42, and a VBA Sub writes 42 into Sheet1!A1, when LibreOffice runs them."""
    answer, write = probe["tiny"]["runs"]
    assert "error" not in answer and answer["returned"] == 42
    assert "error" not in write and write["a1_value"] == 42.0
    (button,) = probe["tiny"]["controls"]
    assert button["events"][0]["code"] == SCRIPT.format(module="Module1", macro="WriteAnswer")


def test_workbook_saved_by_the_actions_keeps_its_project_codenames_and_buttons(probe):
    """After `salesbook demo` ran every action on SalesBook.xlsm (openpyxl, keep_vba), LibreOffice still
    sees every module with our code, the code names and the six buttons bound to their macros."""
    layout = load_layout()
    expected = {m.name: m for m in vba_modules(load_layout())}
    seen = probe["after"]["modules"]
    assert set(seen) == set(expected)
    for name, module in expected.items():
        assert _lo_code(seen[name]["source"]) == _our_code(module.source), name
    assert probe["after"]["sheets"] == [{"name": s.name, "codename": s.codename} for s in layout.sheets]
    buttons = [c for c in probe["after"]["controls"] if c["sheet"] == layout.buttons_sheet]
    assert [b["label"] for b in buttons] == [b.caption for b in layout.buttons]
    for control, button in zip(buttons, layout.buttons, strict=True):
        actions = [e["code"] for e in control["events"] if e["method"] == "actionPerformed"]
        assert actions == [SCRIPT.format(module="SalesBook", macro=button.macro)], button.macro
