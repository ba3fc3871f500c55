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
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from salesbook.io.atomic import atomic_output
from salesbook.io.presentation import HEADER_FILL, HEADER_FONT
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
OUTPUT_ROWS = 10_001  # conditional formats of an output sheet reach the row cap of the actions, plus one note
SHEET_KINDS = ("start", "input", "output", "dashboard", "config")
# Excel's own sheet code names stay short; 22 characters keep every one a valid VBA name in every host.
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,21}$")
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
    module: str = ""  # the VBA module holding the Sub (filled in from macros/*.bas)

    @property
    def qualified(self) -> str:
        """What the button runs: Module.Macro, so a Sub of the same name elsewhere cannot take over."""
        return f"{self.module}.{self.macro}" if self.module else self.macro


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
    steps: tuple[str, ...] = ()

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
            steps=tuple(s["text"] for s in raw.get("steps", ())),
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
    return _with_modules(layout)


def _with_modules(layout: Layout) -> Layout:
    """Each button's macro qualified with the module of macros/*.bas that defines its Sub."""
    import dataclasses

    try:
        texts = macro_texts(layout)
    except (OSError, LayoutError):
        return layout
    owner = {}
    for text in texts.values():
        match = re.search(r'^Attribute VB_Name = "(\w+)"', text, re.MULTILINE)
        for sub in macro_subs(text):
            owner.setdefault(sub, match.group(1) if match else "")
    buttons = tuple(dataclasses.replace(b, module=owner.get(b.macro, "")) for b in layout.buttons)
    return dataclasses.replace(layout, buttons=buttons)


def _check_layout(layout: Layout, path: Path) -> None:
    if not isinstance(layout.created, datetime):
        raise LayoutError(f"{path}: [workbook].created must be a date and time, e.g. 2026-01-01T00:00:00")
    names = [s.name for s in layout.sheets]
    if len(set(names)) != len(names):
        raise LayoutError(f"{path}: sheet names repeat: {names}")
    codenames = [layout.workbook_codename] + [s.codename for s in layout.sheets]
    for codename in codenames:
        if not _IDENTIFIER.match(codename):
            raise LayoutError(
                f"{path}: codename {codename!r} must be a VBA identifier (ASCII letter first) of at most 22 characters"
            )
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
    from salesbook.io.presentation import LookError, sheet_look

    for sheet in layout.sheets:
        if sheet.kind == "output":
            try:
                sheet_look(sheet.name, sheet.headers)
            except LookError as exc:
                raise LayoutError(f"{path}: sheet {sheet.name}: {exc}") from None


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
    platform: str | None = None,
    mode: int | None = None,
) -> Path:
    """Write the master workbook to `out_path` (.xlsm) and return its path.

    settings_rows: (key, value, note) rows for 设置; None means salesbook's defaults. Values are
    stored typed (numbers, percentages, dates) as the Settings sheet shows them.
    roster_rows, targets_rows, plan_rows: rows for 花名册, 目标 and 提成方案, in the order of their headers.
    interpreter: the Python that the buttons run, written to the hidden xlwings.conf sheet for the
    OS that builds the workbook only (`platform`, default this one); default: this Python.
    mode: the file's permission bits (default: as a new file; a replaced workbook keeps its own).
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

    with atomic_output(out_path, mode=mode) as tmp:  # never written through a link planted at out_path
        _write_master(tmp, layout, vba, rows_for, interpreter, platform)
    return out_path


def _write_master(out_path: Path, layout: Layout, vba: bytes, rows_for: dict, interpreter: str | None,
                  platform: str | None) -> None:
    from salesbook.xlsm.interpreter import conf_entries

    workbook = xlsxwriter.Workbook(str(out_path), {"strings_to_numbers": False, "strings_to_formulas": False})
    workbook.set_properties({"title": layout.title, "author": "salesbook", "created": layout.created})
    workbook.add_vba_project(io.BytesIO(vba), is_stream=True)
    workbook.set_vba_name(layout.workbook_codename)
    styles = _Styles(workbook)
    settings = {str(r[0]): r[1] for r in rows_for["Settings"] if len(r) > 1}
    for sheet in layout.sheets:
        worksheet = workbook.add_worksheet(sheet.name)
        worksheet.set_vba_name(sheet.codename)
        if sheet.kind == "start":
            _write_start(worksheet, layout, styles, settings)
        elif sheet.kind == "input" and sheet.en == "Settings":
            _write_settings(worksheet, sheet, rows_for["Settings"], styles)
        elif sheet.kind == "input":
            _write_table(worksheet, sheet, rows_for.get(sheet.en, []), styles)
        elif sheet.kind == "output":
            _write_output(worksheet, sheet, styles)
        elif sheet.kind == "dashboard":
            worksheet.set_row(0, 24)
            worksheet.write_string(0, 0, f"{sheet.name} {sheet.en}", styles.title)
            worksheet.write_string(1, 0, sheet.note, styles.muted)
            worksheet.set_column(0, 0, 22)
        elif sheet.kind == "config":
            _write_xlwings_conf(worksheet, conf_entries(interpreter, platform))
            worksheet.hide()
        if sheet.name == layout.buttons_sheet and sheet.kind != "start":
            _write_buttons(worksheet, layout, first_row=3 if sheet.kind == "dashboard" else 0)
    workbook.worksheets()[0].activate()
    workbook.close()


class _Styles:
    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.title = workbook.add_format({"bold": True, "font_size": 16, "valign": "vcenter"})
        self.section = workbook.add_format({"bold": True, "font_size": 12, "font_color": HEADER_FILL})
        self.muted = workbook.add_format({"font_color": "#595959"})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "vcenter"})
        self.label = workbook.add_format({"bold": True, "valign": "vcenter"})
        self.header = workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
        )
        self.out_header = workbook.add_format(
            {"bold": True, "bg_color": HEADER_FILL, "font_color": HEADER_FONT, "text_wrap": True, "valign": "vcenter"}
        )
        self.text = workbook.add_format({"num_format": "@"})
        self.formats: dict[str, Any] = {}
        self.fills: dict[str, Any] = {}
        self._workbook = workbook

    def number(self, fmt: str, **extra: Any):
        key = fmt + repr(sorted(extra.items()))
        if key not in self.formats:
            self.formats[key] = self._workbook.add_format({"num_format": fmt, **extra})
        return self.formats[key]

    def fill(self, colour: str):
        if colour not in self.fills:
            self.fills[colour] = self._workbook.add_format({"bg_color": colour})
        return self.fills[colour]


# --------------------------------------------------------------------------- the start sheet


def _start_rows(layout: Layout) -> dict[str, int]:
    """0-based rows of the start sheet's parts (the buttons take one row each, beside their help)."""
    steps = 4
    buttons = steps + len(layout.steps) + 2
    in_force = buttons + 1 + len(layout.buttons) + 1
    last_run = in_force + 4
    return {"steps": steps, "buttons": buttons, "in_force": in_force, "last_run": last_run}


LAST_RUN = (("action", "操作 Action"), ("time", "时间 Time"), ("files", "文件 Files"),
            ("findings", "问题 Findings"), ("result", "输出 Output"))


def start_cells(layout: Layout) -> dict[str, str]:
    """Where the actions write what is in force and what the last run did (A1 references)."""
    rows = _start_rows(layout)
    cells = {"sheet": layout.buttons_sheet, "period": f"B{rows['in_force'] + 2}",
             "team_folder": f"B{rows['in_force'] + 3}"}
    for k, (key, _) in enumerate(LAST_RUN):
        cells[key] = f"B{rows['last_run'] + 2 + k}"
    return cells


def _write_start(worksheet: Any, layout: Layout, styles: _Styles, settings: dict[str, Any]) -> None:
    rows = _start_rows(layout)
    worksheet.set_row(0, 30)
    worksheet.write_string(0, 0, layout.title, styles.title)
    worksheet.write_string(1, 0, "每个按钮运行一项操作（需要装有 salesbook 与 xlwings 的 Python；换电脑后运行 "
                                 "salesbook attach）", styles.muted)
    worksheet.write_string(2, 0, "Each button runs one action (needs a Python with salesbook and xlwings; on another "
                                 "PC run salesbook attach)", styles.muted)
    worksheet.write_string(rows["steps"] - 1, 0, "第一次使用 Getting started", styles.section)
    for k, step in enumerate(layout.steps):
        worksheet.write_string(rows["steps"] + k, 0, f"{k + 1}. {step}")
    top = rows["buttons"]
    worksheet.write_string(top, 0, "按钮 Button", styles.header)
    worksheet.write_string(top, 1, "作用 What it does", styles.header)
    width = _button_width(layout)
    for i, button in enumerate(layout.buttons, start=1):
        worksheet.set_row(top + i, 36)
        worksheet.insert_button(top + i, 0, {"macro": button.qualified, "caption": button.caption, "width": width,
                                             "height": 42, "x_offset": 2, "y_offset": 3})
        worksheet.write_string(top + i, 1, button.help, styles.wrap)
    worksheet.set_column(0, 0, width / 7 + 1)
    worksheet.set_column(1, 1, 80)
    worksheet.write_string(rows["in_force"], 0, "当前设置 In force", styles.section)
    folder = settings.get("team_folder") or "team"
    for k, (label, value) in enumerate((("考核周期 Period", settings.get("period") or "（未设置 not set）"),
                                        ("团队文件夹 Team folder", str(folder))), start=1):
        worksheet.write_string(rows["in_force"] + k, 0, label, styles.label)
        worksheet.write_string(rows["in_force"] + k, 1, str(value))
    worksheet.write_string(rows["last_run"], 0, "上次运行 Last run", styles.section)
    for k, (key, label) in enumerate(LAST_RUN, start=1):
        worksheet.write_string(rows["last_run"] + k, 0, label, styles.label)
        if key == "action":
            worksheet.write_string(rows["last_run"] + k, 1, "尚未运行 Not run yet")
    worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    worksheet.hide_gridlines(2)


def _button_width(layout: Layout) -> int:
    """Pixels that fit the longest caption (CJK characters are twice as wide) with a margin."""
    from salesbook.io.presentation import display_width

    # 10 px a character unit: the caption fits on one line whether Calibri or a stand-in (LibreOffice's
    # Carlito, drawn larger in print) draws it.
    return max(180, max((10 * display_width(b.caption) + 40 for b in layout.buttons), default=180))


def _write_buttons(worksheet: Any, layout: Layout, first_row: int) -> None:
    """A row of buttons, each bound to its macro (for a buttons sheet other than the start sheet)."""
    width = _button_width(layout)
    worksheet.set_row(first_row, 34)
    for k, button in enumerate(layout.buttons):
        worksheet.insert_button(first_row, 0, {"macro": button.qualified, "caption": button.caption, "width": width,
                                               "height": 38, "x_offset": 4 + k * (width + 8)})


# --------------------------------------------------------------------------- input and output sheets


def _write_table(worksheet: Any, sheet: SheetLayout, rows: list[Sequence[Any]], styles: _Styles) -> None:
    from salesbook.io.presentation import display_width

    for col, (header, note) in enumerate(sheet.columns):
        worksheet.write_string(0, col, header, styles.header)
        if note:
            worksheet.write_comment(0, col, note, {"author": "salesbook", "x_scale": 2, "y_scale": 1.5})
        # Text columns: Excel would turn a typed 2026-11 into a date or 0012 into 12.
        fmt = styles.text if header in TEXT_HEADERS else None
        content = max((display_width(str(r[col])) for r in rows if col < len(r) and r[col] is not None), default=0)
        worksheet.set_column(col, col, max(12, min(40, max(display_width(header), content) + 4)), fmt)
    worksheet.freeze_panes(1, 0)
    worksheet.set_row(0, 20)
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
    worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    worksheet.repeat_rows(0)


def _write_settings(worksheet: Any, sheet: SheetLayout, rows: list[Sequence[Any]], styles: _Styles) -> None:
    """设置: key, typed value (numbers as numbers, 10 % as a percentage), note; each value validated."""
    from salesbook.core.settings import setting_choices, setting_kind, typed_value
    from salesbook.io.presentation import display_width, row_height, wrapped_lines

    for col, (header, note) in enumerate(sheet.columns):
        worksheet.write_string(0, col, header, styles.header)
        if note:
            worksheet.write_comment(0, col, note, {"author": "salesbook", "x_scale": 2, "y_scale": 1.5})
    worksheet.set_row(0, 20)
    keys = [str(r[0]) for r in rows if r and r[0] is not None]
    worksheet.set_column(0, 0, max(16, max((display_width(k) for k in keys), default=0) + 3), styles.text)
    worksheet.set_column(1, 1, 24)
    worksheet.set_column(2, 2, 80, styles.wrap)
    worksheet.freeze_panes(1, 1)
    rules = {
        "float": ({"validate": "decimal", "criteria": ">=", "value": 0}, "请输入不小于 0 的数字 / Enter a number ≥ 0"),
        "int": ({"validate": "integer", "criteria": ">=", "value": 0}, "请输入不小于 0 的整数 / Enter a whole number ≥ 0"),
        "pct": ({"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1},
                "请输入 0% 到 100% 之间的百分比，如 10% / Enter a percentage from 0% to 100%, e.g. 10%"),
        "date": ({"validate": "date", "criteria": ">=", "value": datetime(1990, 1, 1)},
                 "请输入日期，如 2000-01-01 / Enter a date, e.g. 2000-01-01"),
    }
    for r, row in enumerate(rows, start=1):
        key = str(row[0]) if row and row[0] is not None else ""
        value = typed_value(key, row[1]) if len(row) > 1 else None
        note = row[2] if len(row) > 2 else ""
        worksheet.write_string(r, 0, key)
        kind = setting_kind(key)
        if isinstance(value, bool) or value is None or value == "":
            pass
        elif isinstance(value, int | float):
            fmt = {"pct": "0%", "int": "0"}.get(kind or "", "General")
            worksheet.write_number(r, 1, value, styles.number(fmt, align="left"))
        elif hasattr(value, "year"):
            worksheet.write_datetime(r, 1, datetime(value.year, value.month, value.day),
                                     styles.number("yyyy-mm-dd", align="left"))
        else:
            worksheet.write_string(r, 1, str(value), styles.text)
        if note:
            worksheet.write_string(r, 2, str(note), styles.wrap)
            lines = wrapped_lines(str(note), 80)
            if lines > 1:  # wrapped text is not measured on open by every program: give the row its height
                worksheet.set_row(r, row_height(lines))
        choices = setting_choices(key)
        if choices:
            worksheet.data_validation(r, 1, r, 1, {"validate": "list", "source": list(choices),
                                                   "error_message": " / ".join(choices)})
        elif kind in rules:
            rule, message = rules[kind]
            worksheet.data_validation(r, 1, r, 1, {**rule, "error_title": key[:32], "error_message": message})
    worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    worksheet.repeat_rows(0)


def _write_output(worksheet: Any, sheet: SheetLayout, styles: _Styles) -> None:
    """An output sheet before any action ran: its look (headers, widths, formats, colours, print setup)."""
    from salesbook.io.presentation import sheet_look
    from salesbook.io.writers import colours_and_print

    look = sheet_look(sheet.name, sheet.headers)
    last = OUTPUT_ROWS
    widths = look.widths([])
    formats = look.number_formats()
    for col, column in enumerate(look.columns):
        worksheet.write_string(0, col, column.label, styles.out_header)
        if column.note:
            worksheet.write_comment(0, col, column.note, {"author": "salesbook", "x_scale": 2, "y_scale": 1.5})
        extra = {"text_wrap": True, "valign": "top"} if column.wrap else {"valign": "top"}
        worksheet.set_column(col, col, widths[col], styles.number(formats.get(col, "General"), **extra))
    worksheet.set_row(0, 15 * look.header_lines(widths) + 3)
    worksheet.freeze_panes(1, look.frozen)
    worksheet.autofilter(0, 0, 0, max(len(look.columns) - 1, 0))
    colours_and_print(worksheet, look, last, len(look.columns), styles.fill)


def _write_xlwings_conf(worksheet: Any, entries: list[tuple[str, str]]) -> None:
    """xlwings reads its settings from this sheet: two columns, key and value, no header."""
    for row, (key, value) in enumerate(entries):
        worksheet.write_string(row, 0, key)
        worksheet.write_string(row, 1, value)
    worksheet.set_column(0, 0, 32)
    worksheet.set_column(1, 1, 60)
