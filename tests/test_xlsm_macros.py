"""The button macros: ASCII sources, and buttons, Subs and Python targets that agree."""

import importlib
from pathlib import Path

import pytest

from salesbook.xlsm.builder import load_layout, macro_subs
from salesbook.xlsm.resources import shipped_path

BAS_FILES = sorted(shipped_path("macros").glob("*.bas"))
PREFIX = "import salesbook.excel as x; x."


def _runpython_targets():
    """(file, Sub, python function) for every RunPython call in macros/*.bas."""
    targets = []
    for path in BAS_FILES:
        for sub, call in macro_subs(path.read_text("ascii")).items():
            if call is not None:
                assert call.startswith(PREFIX) and call.endswith("()"), (path.name, sub, call)
                targets.append((path.name, sub, call[len(PREFIX) : -2]))
    return targets


def test_there_are_macro_files():
    """macros/ holds at least SalesBook.bas."""
    assert [p.name for p in BAS_FILES] == ["SalesBook.bas"]


@pytest.mark.parametrize("path", BAS_FILES, ids=lambda p: Path(p).name)
def test_bas_files_are_ascii(path):
    """VBA sources are ASCII only (the project is stored with code page 1252)."""
    assert path.read_bytes().isascii()


def test_every_runpython_target_is_a_layout_function():
    """Each RunPython call names a Python function listed for a button in workbook/layout.toml."""
    functions = {b.python for b in load_layout().buttons}
    targets = _runpython_targets()
    assert targets
    for file, sub, function in targets:
        assert function in functions, (file, sub, function)


def test_every_button_names_a_sub_calling_its_function():
    """Each button's macro is a Sub in macros/*.bas whose RunPython calls the button's Python function."""
    subs = {sub: function for _, sub, function in _runpython_targets()}
    buttons = load_layout().buttons
    assert [b.macro for b in buttons] == ["Validate", "ConsolidateScore", "Contracts", "Reports", "ExportHR",
                                                 "Statements", "ClosePeriod"]
    for button in buttons:
        assert subs.get(button.macro) == button.python, button


def test_runpython_targets_exist_in_salesbook_excel():
    """Each RunPython target is a callable in salesbook.excel (once that module exists)."""
    excel = pytest.importorskip("salesbook.excel")
    for file, sub, function in _runpython_targets():
        assert callable(getattr(excel, function, None)), (file, sub, function)


def test_no_xlwings_pro_in_salesbook_xlsm():
    """The builder never imports xlwings.pro (open-source xlwings only)."""
    package = Path(importlib.import_module("salesbook.xlsm.builder").__file__).parent
    for source in package.glob("*.py"):
        assert "xlwings.pro" not in source.read_text("utf-8"), source.name


def test_builder_refuses_a_button_without_its_sub(tmp_path):
    """A layout button naming a Sub that macros/*.bas lacks stops the build with the button named."""
    from salesbook.xlsm.builder import LayoutError, master_vba_project

    text = (
        shipped_path("workbook/layout.toml")
        .read_text("utf-8")
        .replace('macro = "Reports"', 'macro = "Report"')
    )
    (tmp_path / "layout.toml").write_text(text, "utf-8")
    with pytest.raises(LayoutError, match="no Sub Report"):
        master_vba_project(load_layout(tmp_path / "layout.toml"))


def test_code_names_stay_short(tmp_path):
    """Every code name of the layout is at most 22 characters, and a longer one stops the build."""
    from salesbook.xlsm.builder import LayoutError

    layout = load_layout()
    assert all(len(s.codename) <= 22 for s in layout.sheets) and len(layout.workbook_codename) <= 22
    text = shipped_path("workbook/layout.toml").read_text("utf-8").replace(
        'codename = "shEvidence"', 'codename = "shEvidenceOfEveryFigure"')
    (tmp_path / "layout.toml").write_text(text, "utf-8")
    with pytest.raises(LayoutError, match="at most 22 characters"):
        load_layout(tmp_path / "layout.toml")


def test_buttons_run_their_module_qualified_macro():
    """Each button runs Module.Macro of the macros/*.bas module that holds its Sub."""
    for button in load_layout().buttons:
        assert button.qualified == f"SalesBook.{button.macro}"
