"""Builds the manager's master workbook SalesBook.xlsm: its sheets, buttons and VBA project.

The layout (sheets, headers and their notes, buttons) is data in `workbook/layout.toml`; the
button macros are `macros/*.bas`; `xlwings.bas` and its `Dictionary` class come from the
installed xlwings package at build time, so the VBA always matches the Python side. The VBA
project is written by `salesbook.xlsm.vbaproject` as source only; Excel compiles it on open.
Two builds with the same inputs are byte-identical.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import re
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from salesbook.io.atomic import atomic_output
from salesbook.xlsm.resources import shipped_path
from salesbook.xlsm.vbaproject import (
    WORKBOOK_BASE,
    WORKSHEET_BASE,
    VbaModule,
    build_vba_project,
    document_module,
    module_from_export,
)

TEXT_HEADERS = {"键", "值", "销售代表", "工号", "周期"}
SHEET_KINDS = ("start", "input", "output", "dashboard", "config")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")
_SUB = re.compile(r"^\s*(?:Public\s+|Private\s+)?Sub\s+(\w+)\s*\(", re.IGNORECASE | re.MULTILINE)
_RUNPYTHON = re.compile(r'^\s*RunPython\s+"([^"]*)"', re.IGNORECASE | re.MULTILINE)
_PYTHON_CALL = re.compile(r"^import salesbook\.excel as x; x\.(\w+)\(\)$")


class LayoutError(ValueError):
    """workbook/layout.toml or macros/*.bas is inconsistent; the message names the entry to fix."""


class XlwingsVbaMissing(FileNotFoundError):
    """xlwings' VBA files (xlwings.bas, addin/Dictionary.cls) were not found: install xlwings (pip install xlwings)."""


@dataclass(frozen=True)
class Button:
    """A button on the start sheet: the macro it runs, its caption and the Python function behind it."""

    macro: str
    caption: str
    python: str
    help: str = ""


@dataclass(frozen=True)
class SheetLayout:
    """One sheet of the master workbook."""

    name: str
    codename: str
    kind: str
    en: str = ""
    columns: tuple[tuple[str, str], ...] = ()  # (header, note)
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)  # header -> drop-down values
    note: str = ""

    @property
    def headers(self) -> list[str]:
        return [header for header, _ in self.columns]


@dataclass(frozen=True)
class Layout:
    """The master workbook as declared in workbook/layout.toml."""

    title: str
    buttons_sheet: str
    workbook_codename: str
    created: datetime
    project_name: str
    macros: tuple[str, ...]
    buttons: tuple[Button, ...]
    sheets: tuple[SheetLayout, ...]

    def sheet(self, name: str) -> SheetLayout:
        for sheet in self.sheets:
            if name in (sheet.name, sheet.en):
                return sheet
        raise KeyError(name)


def load_layout(path: Path | None = None) -> Layout:
    """Read and check the workbook layout (default: the shipped workbook/layout.toml)."""
    path = path or shipped_path("workbook/layout.toml")
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    try:
        book, vba = raw["workbook"], raw["vba"]
        layout = Layout(
            title=book["title"],
            buttons_sheet=book["buttons_sheet"],
            workbook_codename=book["workbook_codename"],
            created=book["created"],
            project_name=vba["project_name"],
            macros=tuple(vba["macros"]),
            buttons=tuple(Button(**b) for b in raw["buttons"]),
            sheets=tuple(
                SheetLayout(
                    name=s["name"],
                    codename=s["codename"],
                    kind=s["kind"],
                    en=s.get("en", ""),
                    columns=tuple((h, n) for h, n in s.get("columns", ())),
                    lists={k: tuple(v) for k, v in s.get("lists", {}).items()},
                    note=s.get("note", ""),
                )
                for s in raw["sheets"]
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LayoutError(
            f"{path}: missing or malformed entry ({exc}); compare with the shipped layout.toml"
        ) from exc
    _check_layout(layout, path)
    return layout


def _check_layout(layout: Layout, path: Path) -> None:
    if not isinstance(layout.created, datetime):
        raise LayoutError(f"{path}: [workbook].created must be a date and time, e.g. 2026-01-01T00:00:00")
    names = [s.name for s in layout.sheets]
    if len(set(names)) != len(names):
        raise LayoutError(f"{path}: sheet names repeat: {names}")
    codenames = [layout.workbook_codename] + [s.codename for s in layout.sheets]
    for codename in codenames:
        if not _IDENTIFIER.match(codename):
            raise LayoutError(f"{path}: codename {codename!r} must be a VBA identifier (ASCII letter first)")
    if len({c.upper() for c in codenames}) != len(codenames):
        raise LayoutError(f"{path}: codenames repeat: {codenames}")
    for sheet in layout.sheets:
        if sheet.kind not in SHEET_KINDS:
            raise LayoutError(f"{path}: sheet {sheet.name}: kind must be one of {SHEET_KINDS}")
        for header in sheet.lists:
            if header not in sheet.headers:
                raise LayoutError(f"{path}: sheet {sheet.name}: drop-down list for unknown column {header!r}")
    if layout.buttons_sheet not in names:
        raise LayoutError(f"{path}: buttons_sheet {layout.buttons_sheet!r} is not one of the sheets")
    if [s.kind for s in layout.sheets].count("config") != 1:
        raise LayoutError(f"{path}: exactly one sheet of kind 'config' (xlwings.conf) is needed")
    macros = [b.macro for b in layout.buttons]
    if len(set(macros)) != len(macros):
        raise LayoutError(f"{path}: button macros repeat: {macros}")


# ------------------------------------------------------------------------------- VBA


def macro_texts(layout: Layout) -> dict[str, str]:
    """The text of each of our macro files (file name -> text), read from the shipped macros/."""
    folder = shipped_path("macros")
    texts = {}
    for name in layout.macros:
        data = (folder / name).read_bytes()
        if not data.isascii():
            raise LayoutError(f"macros/{name} must be ASCII only (the VBA project uses code page 1252)")
        texts[name] = data.decode("ascii")
    return texts


def macro_subs(text: str) -> dict[str, str | None]:
    """Each Sub in a .bas text -> the Python command of the RunPython call in its body (None if none)."""
    subs: dict[str, str | None] = {}
    starts = list(_SUB.finditer(text))
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[match.end() : end]
        body = body[: body.lower().find("end sub")] if "end sub" in body.lower() else body
        call = _RUNPYTHON.search(body)
        subs[match.group(1)] = call.group(1) if call else None
    return subs


def check_buttons(layout: Layout, texts: dict[str, str]) -> None:
    """Every button runs a Sub of our macros, and that Sub calls the button's Python function."""
    subs: dict[str, str | None] = {}
    for text in texts.values():
        subs.update(macro_subs(text))
    for button in layout.buttons:
        if button.macro not in subs:
            raise LayoutError(f"button {button.caption!r}: no Sub {button.macro} in macros/{'/'.join(texts)}")
        expected = f"import salesbook.excel as x; x.{button.python}()"
        if subs[button.macro] != expected:
            raise LayoutError(
                f"Sub {button.macro} must call RunPython {expected!r}, found {subs[button.macro]!r}"
            )


def xlwings_vba_files() -> tuple[Path, Path]:
    """Paths of xlwings.bas and addin/Dictionary.cls in the installed xlwings package."""
    spec = importlib.util.find_spec("xlwings")  # locate only: importing xlwings is not needed
    locations = list(spec.submodule_search_locations or ()) if spec else []
    for location in locations:
        bas, cls = Path(location) / "xlwings.bas", Path(location) / "addin" / "Dictionary.cls"
        if bas.is_file() and cls.is_file():
            return bas, cls
    raise XlwingsVbaMissing(XlwingsVbaMissing.__doc__)


def vba_modules(layout: Layout) -> list[VbaModule]:
    """The modules of the master workbook's VBA project: document modules, our macros, xlwings."""
    modules = [document_module(layout.workbook_codename, WORKBOOK_BASE)]
    modules += [document_module(s.codename, WORKSHEET_BASE) for s in layout.sheets]
    texts = macro_texts(layout)
    check_buttons(layout, texts)
    modules += [module_from_export(text) for text in texts.values()]
    bas, cls = xlwings_vba_files()
    modules.append(module_from_export(bas.read_text(encoding="ascii")))
    modules.append(module_from_export(cls.read_text(encoding="ascii")))
    return modules


def master_vba_project(layout: Layout | None = None) -> bytes:
    """The vbaProject.bin bytes of the master workbook."""
    layout = layout or load_layout()
    return build_vba_project(vba_modules(layout), project_name=layout.project_name)


# ------------------------------------------------------------------------------- workbook


def _default_settings_rows() -> list[tuple[str, str, str]]:
    try:
        settings = importlib.import_module("salesbook.core.settings")
    except ImportError:
        return []
    default_rows = getattr(settings, "default_rows", None)
    return list(default_rows()) if callable(default_rows) else []


def build_workbook(
    out_path: str | Path,
    *,
    settings_rows: Iterable[Sequence[Any]] | None = None,
    roster_rows: Iterable[Sequence[Any]] = (),
    targets_rows: Iterable[Sequence[Any]] = (),
    plan_rows: Iterable[Sequence[Any]] = (),
    interpreter: str | None = None,
    layout: Layout | None = None,
) -> Path:
    """Write the master workbook to `out_path` (.xlsm) and return its path.

    settings_rows: (key, value, note) rows for 设置; None means salesbook's defaults.
    roster_rows, targets_rows, plan_rows: rows for 花名册, 目标 and 提成方案, in the order of their headers.
    interpreter: the Python that the buttons run (xlwings.conf); default: this Python.
    """
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".xlsm":
        raise LayoutError(f"{out_path.name}: the master workbook must be saved as .xlsm (it holds macros)")
    layout = layout or load_layout()
    vba = master_vba_project(layout)
    rows_for = {
        "Settings": list(_default_settings_rows() if settings_rows is None else settings_rows),
        "Roster": list(roster_rows),
        "Targets": list(targets_rows),
        "Commission Plan": list(plan_rows),
    }

    with atomic_output(out_path) as tmp:  # never written through a link planted at out_path
        _write_master(tmp, layout, vba, rows_for, interpreter)
    return out_path


def _write_master(out_path: Path, layout: Layout, vba: bytes, rows_for: dict, interpreter: str | None) -> None:
    workbook = xlsxwriter.Workbook(str(out_path), {"strings_to_numbers": False, "strings_to_formulas": False})
    workbook.set_properties({"title": layout.title, "author": "salesbook", "created": layout.created})
    workbook.add_vba_project(io.BytesIO(vba), is_stream=True)
    workbook.set_vba_name(layout.workbook_codename)
    styles = _Styles(workbook)
    for sheet in layout.sheets:
        worksheet = workbook.add_worksheet(sheet.name)
        worksheet.set_vba_name(sheet.codename)
        if sheet.kind == "start":
            _write_start(worksheet, layout, styles)
        elif sheet.kind in ("input", "output"):
            _write_table(worksheet, sheet, rows_for.get(sheet.en, []), styles)
        elif sheet.kind == "dashboard":
            worksheet.write_string(0, 0, f"{sheet.name} {sheet.en}", styles.title)
            worksheet.write_string(1, 0, sheet.note, styles.muted)
        elif sheet.kind == "config":
            _write_xlwings_conf(worksheet, interpreter or sys.executable)
        if sheet.name == layout.buttons_sheet and sheet.kind != "start":
            _write_buttons(worksheet, layout, first_row=3 if sheet.kind == "dashboard" else 0)
    workbook.worksheets()[0].activate()
    workbook.close()


class _Styles:
    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.title = workbook.add_format({"bold": True, "font_size": 16})
        self.muted = workbook.add_format({"font_color": "#595959"})
        self.header = workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
        )
        self.text = workbook.add_format({"num_format": "@"})


def _write_start(worksheet: Any, layout: Layout, styles: _Styles) -> None:
    worksheet.write_string(0, 0, layout.title, styles.title)
    worksheet.write_string(
        1,
        0,
        "点击按钮运行相应操作（需要装有 salesbook 与 xlwings 的 Python） / "
        "Click a button to run an action (needs a Python with salesbook and xlwings)",
        styles.muted,
    )
    _write_buttons(worksheet, layout, first_row=3)
    top = 6
    worksheet.write_string(top, 0, "按钮 Button", styles.header)
    worksheet.write_string(top, 1, "作用 What it does", styles.header)
    for i, button in enumerate(layout.buttons, start=1):
        worksheet.write_string(top + i, 0, button.caption)
        worksheet.write_string(top + i, 1, button.help)


def _write_buttons(worksheet: Any, layout: Layout, first_row: int) -> None:
    """The button row: one button per column, each bound to its macro."""
    worksheet.set_row(first_row, 36)
    for col, button in enumerate(layout.buttons):
        worksheet.set_column(col, col, 30)
        worksheet.insert_button(
            first_row,
            col,
            {"macro": button.macro, "caption": button.caption, "width": 200, "height": 40, "x_offset": 4},
        )


def _write_table(worksheet: Any, sheet: SheetLayout, rows: list[Sequence[Any]], styles: _Styles) -> None:
    for col, (header, note) in enumerate(sheet.columns):
        worksheet.write_string(0, col, header, styles.header)
        if note:
            worksheet.write_comment(0, col, note, {"author": "salesbook", "x_scale": 2, "y_scale": 1.5})
        # Text columns: Excel would turn a typed 2026-11 into a date or 0012 into 12.
        fmt = styles.text if header in TEXT_HEADERS else None
        worksheet.set_column(col, col, max(12, min(40, 2 * len(header) + 4)), fmt)
    worksheet.freeze_panes(1, 0)
    width = len(sheet.columns)
    for r, row in enumerate(rows, start=1):
        values = list(row)
        if len(values) > width:
            raise LayoutError(f"sheet {sheet.name}: row {r} has {len(values)} values for {width} columns")
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                worksheet.write_string(r, col, value)
            else:
                worksheet.write(r, col, value)
    for header, choices in sheet.lists.items():
        col = sheet.headers.index(header)
        worksheet.data_validation(
            1,
            col,
            10_000,
            col,
            {
                "validate": "list",
                "source": list(choices),
                "error_title": header,
                "error_message": " / ".join(choices),
            },
        )


def _write_xlwings_conf(worksheet: Any, interpreter: str) -> None:
    """xlwings reads its settings from this sheet: two columns, key and value, no header."""
    entries = [
        ("Interpreter_Win", interpreter),
        ("Interpreter_Mac", interpreter),
        ("ADD_WORKBOOK_TO_PYTHONPATH", "False"),
    ]
    for row, (key, value) in enumerate(entries):
        worksheet.write_string(row, 0, key)
        worksheet.write_string(row, 1, value)
    worksheet.set_column(0, 0, 32)
    worksheet.set_column(1, 1, 60)
