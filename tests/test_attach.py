"""Buttons that work on the manager's PC: `salesbook attach` on a workbook built elsewhere, the xlwings
version check, the macOS AppleScript, %LOCALAPPDATA%-style interpreters and the pinned xlwings.

Excel itself is not here: what RunPython will read (the hidden xlwings.conf sheet, the embedded
xlwings.bas version, the AppleScript's place) is checked in the files; the macOS install is tested
on its path logic with a stand-in home folder.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from salesbook.cli import main
from salesbook.xlsm import interpreter as it
from salesbook.xlsm.builder import build_workbook, load_layout

ROOT = Path(__file__).resolve().parents[1]
ELSEWHERE = "C:\\Users\\colleague\\AppData\\Local\\Programs\\Python\\Python312\\pythonw.exe"


def _conf(path: Path) -> tuple[dict[str, str], str]:
    ws = openpyxl.load_workbook(path)["xlwings.conf"]
    return {r[0]: r[1] for r in ws.iter_rows(values_only=True)}, ws.sheet_state


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def built_elsewhere(tmp_path) -> Path:
    """A master workbook built on a colleague's Windows PC: another interpreter path in xlwings.conf."""
    path = build_workbook(tmp_path / "SalesBook.xlsm", interpreter=ELSEWHERE, platform="win32")
    assert _conf(path)[0]["Interpreter_Win"] == ELSEWHERE
    return path


def test_attach_on_a_mac_rewrites_the_conf_for_this_python_and_installs_the_applescript(built_elsewhere, tmp_path):
    """On a Mac, attach replaces the colleague's Windows interpreter with this Python under Interpreter_Mac only,
    keeps the sheet hidden, keeps the VBA and buttons, and puts xlwings' AppleScript where Excel finds it."""
    home = tmp_path / "home"
    done = it.attach(built_elsewhere, platform="darwin", home=home)
    rows, state = _conf(built_elsewhere)
    assert rows == {"Interpreter_Mac": sys.executable, "ADD_WORKBOOK_TO_PYTHONPATH": "False"}
    assert state == "hidden" and done.key == "Interpreter_Mac"
    script = home / "Library" / "Application Scripts" / "com.microsoft.Excel" / f"xlwings-{version('xlwings')}.applescript"
    assert done.applescript == script and script.is_file()
    assert script.read_bytes() == it.applescript_source(version("xlwings")).read_bytes()
    with zipfile.ZipFile(built_elsewhere) as z:
        assert "xl/vbaProject.bin" in z.namelist()
        vml = b"".join(z.read(n) for n in z.namelist() if n.endswith(".vml"))
    assert vml.count(b'ObjectType="Button"') == len(load_layout().buttons)
    assert openpyxl.load_workbook(built_elsewhere, keep_vba=True)["xlwings.conf"].sheet_properties.codeName == \
        "shXlwingsConf"


def test_attach_on_windows_accepts_a_localappdata_style_interpreter(built_elsewhere):
    """On Windows a %LOCALAPPDATA%-style value is checked by expanding it and stored as written, for xlwings
    to expand when a button runs."""
    folder = str(Path(sys.executable).parent)
    value = "%SB_TEST_PYDIR%/" + Path(sys.executable).name
    done = it.attach(built_elsewhere, interpreter=value, platform="win32", environ={"SB_TEST_PYDIR": folder})
    assert done.interpreter == value
    assert _conf(built_elsewhere)[0] == {"Interpreter_Win": value, "ADD_WORKBOOK_TO_PYTHONPATH": "False"}
    assert it.expand("%LOCALAPPDATA%\\Programs\\x.exe", "win32", {"LOCALAPPDATA": "C:\\U\\a"}) == \
        "C:\\U\\a\\Programs\\x.exe"
    assert it.expand("$HOME/py/bin/python", "darwin", {"HOME": "/Users/a"}) == "/Users/a/py/bin/python"


def test_attach_refuses_an_interpreter_that_is_not_there_and_writes_nothing(built_elsewhere):
    """A path that does not exist here is refused with what to do; the workbook is untouched."""
    before = _sha(built_elsewhere)
    with pytest.raises(it.AttachError, match="was not found.*--interpreter"):
        it.attach(built_elsewhere, interpreter="/no/such/python", platform="darwin")
    assert _sha(built_elsewhere) == before


def test_attach_refuses_a_workbook_whose_xlwings_differs_from_the_installed_one(built_elsewhere, monkeypatch,
                                                                                tmp_path):
    """When the workbook's xlwings.bas is another version than the installed xlwings, attach says which versions
    and what to run, and writes nothing (RunPython would fail)."""
    monkeypatch.setattr(it, "embedded_xlwings_version", lambda path: "0.30.1")
    before = _sha(built_elsewhere)
    with pytest.raises(it.AttachError) as caught:
        it.attach(built_elsewhere, platform="darwin", home=tmp_path)
    message = str(caught.value)
    assert "0.30.1" in message and version("xlwings") in message and "pip install xlwings==0.30.1" in message
    assert "build-workbook" in message
    assert _sha(built_elsewhere) == before and not (tmp_path / "Library").exists()


def test_attach_from_the_command_line_on_this_machine(built_elsewhere):
    """`salesbook attach` on this machine: the colleague's interpreter is gone; on Linux (no Excel) the note says
    to attach where the workbook is used; on Windows or macOS this Python is named."""
    result = CliRunner().invoke(main, ["attach", str(built_elsewhere)])
    assert result.exit_code == 0, result.output
    rows, state = _conf(built_elsewhere)
    assert ELSEWHERE not in rows.values() and state == "hidden"
    key = it.interpreter_key()
    assert [k for k in rows if k.startswith("Interpreter")] == ([key] if key else [])
    assert f"xlwings {version('xlwings')} in the workbook" in result.output
    if key is None:
        assert "no Excel" in result.output
    bad = CliRunner().invoke(main, ["attach", str(built_elsewhere.with_suffix(".xlsx"))])
    assert bad.exit_code == 2 and "not a .xlsm" in bad.output


def test_the_embedded_xlwings_version_is_read_from_the_vba_project(built_elsewhere):
    """The xlwings version inside a built workbook (and after salesbook saved it) is the installed one."""
    assert it.embedded_xlwings_version(built_elsewhere) == version("xlwings")
    from salesbook.io.book import FileBook

    book = FileBook(built_elsewhere)
    book.save()
    assert it.embedded_xlwings_version(built_elsewhere) == version("xlwings")


def test_pyproject_pins_the_xlwings_whose_vba_is_embedded():
    """pyproject pins xlwings to one version, the installed one, whose xlwings.bas the builder embeds."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = [d for d in deps if d.lower().startswith("xlwings")]
    assert pins == [f"xlwings=={version('xlwings')}"]
    from salesbook.xlsm.builder import xlwings_vba_files

    bas = xlwings_vba_files()[0].read_text(encoding="ascii")
    assert f'XLWINGS_VERSION As String = "{version("xlwings")}"' in bas


def test_applescript_path_logic(tmp_path):
    """The AppleScript goes to ~/Library/Application Scripts/com.microsoft.Excel/xlwings-<version>.applescript;
    a version the installed xlwings does not ship is refused with the pip command."""
    target = it.install_applescript(version("xlwings"), home=tmp_path)
    assert target == tmp_path / "Library/Application Scripts/com.microsoft.Excel" / f"xlwings-{version('xlwings')}.applescript"
    assert target.stat().st_size > 0
    with pytest.raises(it.AttachError, match="pip install xlwings==0.1.0"):
        it.install_applescript("0.1.0", home=tmp_path)


def test_default_interpreter_prefers_pythonw_on_windows(tmp_path):
    """On Windows the buttons run pythonw.exe beside python.exe when there is one (no console window)."""
    (tmp_path / "python.exe").write_bytes(b"")
    assert it.default_interpreter("win32", str(tmp_path / "python.exe")) == str(tmp_path / "python.exe")
    (tmp_path / "pythonw.exe").write_bytes(b"")
    assert it.default_interpreter("win32", str(tmp_path / "python.exe")) == str(tmp_path / "pythonw.exe")
    assert it.default_interpreter("darwin", "/usr/bin/python3") == "/usr/bin/python3"
    assert os.path.basename(it.default_interpreter()) == os.path.basename(sys.executable) or sys.platform == "win32"
