"""The master workbook builder: sheets, headers, notes, buttons, xlwings.conf, determinism, and how
the built sheets look to a manager (headers, widths, formats, frozen panes, colours, print setup)."""

import tomllib
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest

from salesbook.io.presentation import display_width, palettes, sheet_look
from salesbook.xlsm.builder import LayoutError, build_workbook, load_layout, start_cells
from salesbook.xlsm.resources import shipped_path

SHEETS = [
    "开始",
    "设置",
    "花名册",
    "提成方案",
    "目标",
    "校验结果",
    "文件状态",
    "客户分级",
    "商机评估",
    "考核表",
    "依据",
    "提成",
    "仪表板",
    "xlwings.conf",
]
SCORECARD_COLUMNS = (
    "rep_id, name, employee_id, team, period, revenue, revenue_target, revenue_attainment, volume, volume_target, "
    "volume_attainment, collections, collections_target, collections_attainment, new_customers, "
    "new_customers_target, new_customers_attainment, activities, activities_target, activities_attainment, "
    "base_score, deductions, score, rating, coefficient, violations"
).split(", ")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("book") / "SalesBook.xlsm"
    build_workbook(
        path,
        settings_rows=[("discount_limit", "10%", "最高折扣 / Highest discount")],
        roster_rows=[("R001", "张三", "E1001", "华东", "上海", "李四", "在职", "标准方案")],
        plan_rows=[("标准方案", "回款", "达成率", "0%", "100%", "2%", "累进")],
        targets_rows=[("R001", "2026-11", 100000, 10, 80000, 3, 20)],
        interpreter="C:\\Python311\\pythonw.exe",
        platform="win32",
    )
    return path


@pytest.fixture(scope="module")
def book(built):
    return openpyxl.load_workbook(built, keep_vba=True)


def _headers(ws):
    return [c.value for c in ws[1] if c.value is not None]


def test_sheets_in_spec_order(book):
    """The workbook has the SPEC §3.2 sheets, Chinese names, start sheet first and xlwings.conf last."""
    assert book.sheetnames == SHEETS


def test_input_headers_match_the_schema(book):
    """设置, 花名册, 提成方案 and 目标 headers are exactly the Chinese column names of salesbook/core/schemas.toml."""
    schemas = tomllib.loads((Path(__file__).parents[1] / "salesbook/core/schemas.toml").read_text("utf-8"))[
        "sheets"
    ]
    for key in ("settings", "roster", "commission_plans", "targets"):
        schema = schemas[key]
        assert _headers(book[schema["zh"]]) == [c["zh"] for c in schema["columns"]], key


def test_output_headers(book):
    """Output sheets show each CSV column (SPEC §7) as Chinese over English, key columns first."""
    cards = _headers(book["考核表"])
    assert cards[:5] == ["销售代表\nRep ID", "姓名\nName", "得分\nScore", "评级\nRating", "绩效系数\nCoefficient"]
    assert len(cards) == len(SCORECARD_COLUMNS)
    assert sheet_look("考核表", SCORECARD_COLUMNS).header == cards
    findings = _headers(book["校验结果"])
    assert [h.split("\n")[1] for h in findings[:5]] == ["File", "Sheet", "Cell", "Severity", "Message"]
    for name in ("校验结果", "文件状态", "客户分级", "商机评估", "考核表", "依据"):
        for header in _headers(book[name]):
            zh, en = header.split("\n")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in zh) and en.isascii() and "_" not in en, header


def test_output_sheets_are_laid_out_for_reading_and_printing(book):
    """Columns at least as wide as their header, key columns frozen, formats by column, colours by value,
    landscape print fitted to the page width with the header row repeated, an autofilter on the header."""
    layout = load_layout()
    for sheet in (s for s in layout.sheets if s.kind == "output"):
        ws = book[sheet.name]
        look = sheet_look(sheet.name, sheet.headers)
        for j, column in enumerate(look.columns, start=1):
            width = ws.column_dimensions[ws.cell(1, j).column_letter].width
            zh = column.label.split("\n")[0]
            assert width >= display_width(zh) + 1, (sheet.name, column.key, width)
        assert ws.freeze_panes == ws.cell(2, look.frozen + 1).coordinate, sheet.name
        # fitToWidth defaults to 1 when the file leaves it out (ECMA-376 CT_PageSetup)
        assert ws.page_setup.orientation == "landscape" and (ws.page_setup.fitToWidth or 1) == 1, sheet.name
        assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage, sheet.name
        assert ws.print_title_rows.replace("$", "") == "1:1", sheet.name
        assert ws.auto_filter.ref.startswith("A1:"), sheet.name
    cards = book["考核表"]
    assert cards.freeze_panes == "F2"  # rep, name, score, rating, coefficient stay in view
    formats = {cards.cell(1, j).value.split("\n")[1]: cards.column_dimensions[cards.cell(1, j).column_letter].number_format
               for j in range(1, cards.max_column + 1)}
    assert formats["Revenue"] == "#,##0.00" and formats["Revenue %"] == "0.0%" and formats["Score"] == "0.00"
    assert formats["Activities"] == "0" and formats["Violations"] == "0"  # counts as whole numbers
    rules = [(str(cf.sqref), r.formula[0]) for cf in book["校验结果"].conditional_formatting for r in cf.rules]
    assert ("A2:J10002", '$D2="error"') in rules, rules  # severity colours the whole row
    rules = [(str(cf.sqref), r.formula[0]) for cf in book["考核表"].conditional_formatting for r in cf.rules]
    assert {f'$D2="{k}"' for k in palettes()["rating"]} <= {f for _, f in rules}
    rules = [r.formula[0] for cf in book["客户分级"].conditional_formatting for r in cf.rules]
    assert 'AND($E2<>"",$E2<>$D2)' in rules  # a given grade that differs from the computed one


def test_every_header_has_a_note(book):
    """Every header cell of an input or output sheet has a comment saying what goes in the column."""
    layout = load_layout()
    for sheet in layout.sheets:
        for col, header in enumerate(sheet.headers, start=1):
            comment = book[sheet.name].cell(1, col).comment
            assert comment is not None and comment.text.strip(), (sheet.name, header)


def test_rows_are_prefilled(book):
    """Settings, roster, plan and targets rows given to the builder land under their headers; a setting's value
    is typed (10 % is the number 0.1 shown as a percentage)."""
    assert [c.value for c in book["设置"][2]] == ["discount_limit", 0.1, "最高折扣 / Highest discount"]
    assert book["设置"]["B2"].number_format == "0%"
    assert [c.value for c in book["花名册"][2]] == ["R001", "张三", "E1001", "华东", "上海", "李四", "在职", "标准方案"]
    assert [c.value for c in book["提成方案"][2]] == ["标准方案", "回款", "达成率", "0%", "100%", "2%", "累进"]
    assert [c.value for c in book["目标"][2]] == ["R001", "2026-11", 100000, 10, 80000, 3, 20]


def test_roster_status_is_a_drop_down(book):
    """花名册's 状态 column only accepts 在职 or 离职."""
    (rule,) = book["花名册"].data_validations.dataValidation
    assert rule.type == "list" and rule.formula1 == '"在职,离职"'
    assert str(rule.sqref).startswith("G2:")


def test_plan_sheet_has_drop_downs_for_base_basis_and_method(book):
    """提成方案's 基数, 档位依据 and 计算方式 columns are drop-downs of the SPEC §10 values."""
    rules = {str(r.sqref).split(":")[0]: r.formula1 for r in book["提成方案"].data_validations.dataValidation}
    assert rules == {"B2": '"回款,签约"', "C2": '"达成率,金额"', "G2": '"累进,全额"'}
    assert [c.value for c in book["提成方案"][1]] == ["方案", "基数", "档位依据", "下限", "上限", "费率", "计算方式"]


def test_xlwings_conf(book):
    """xlwings.conf is hidden, holds the interpreter of the OS that built the workbook only, and keeps the
    workbook off PYTHONPATH."""
    ws = book["xlwings.conf"]
    assert ws.sheet_state == "hidden"
    rows = [tuple(c.value for c in row) for row in ws.iter_rows()]
    assert rows == [("Interpreter_Win", "C:\\Python311\\pythonw.exe"), ("ADD_WORKBOOK_TO_PYTHONPATH", "False")]


@pytest.mark.parametrize(("platform", "keys"), [("win32", ["Interpreter_Win"]), ("darwin", ["Interpreter_Mac"]),
                                                ("linux", [])])
def test_xlwings_conf_holds_only_the_interpreter_of_the_building_os(tmp_path, platform, keys):
    """Built on Windows: Interpreter_Win only; on macOS: Interpreter_Mac only; on Linux (no Excel): none."""
    import sys

    path = build_workbook(tmp_path / "b.xlsm", platform=platform)
    ws = openpyxl.load_workbook(path)["xlwings.conf"]
    rows = {r[0]: r[1] for r in ws.iter_rows(values_only=True)}
    assert [k for k in rows if k.startswith("Interpreter")] == keys
    if keys and platform != "win32":
        assert rows[keys[0]] == sys.executable
    assert ws.sheet_state == "hidden"


def test_built_on_this_machine_the_conf_names_this_python_under_this_os_only(tmp_path):
    """Without a platform the builder writes this OS's key (none on Linux) and this Python."""
    import sys

    from salesbook.xlsm.interpreter import default_interpreter, interpreter_key

    ws = openpyxl.load_workbook(build_workbook(tmp_path / "c.xlsm"))["xlwings.conf"]
    rows = {r[0]: r[1] for r in ws.iter_rows(values_only=True)}
    key = interpreter_key()
    assert [k for k in rows if k.startswith("Interpreter")] == ([key] if key else [])
    if key:
        assert rows[key] == default_interpreter()
    assert sys.platform in ("win32", "darwin") or key is None


def test_buttons_and_codenames_in_the_package(built):
    """The start sheet's buttons call [0]!Macro; workbook and sheets carry the codenames of the document modules."""
    layout = load_layout()
    with zipfile.ZipFile(built) as z:
        vml = z.read("xl/drawings/vmlDrawing1.vml").decode("utf-8")
        workbook_xml = z.read("xl/workbook.xml").decode("utf-8")
        sheet_xml = [z.read(f"xl/worksheets/sheet{i}.xml").decode("utf-8") for i in range(1, len(SHEETS) + 1)]
        assert "xl/vbaProject.bin" in z.namelist()
    for button in layout.buttons:
        assert f"<x:FmlaMacro>[0]!SalesBook.{button.macro}</x:FmlaMacro>" in vml  # qualified with its module
        assert escape(button.caption) in vml
    assert 'codeName="ThisWorkbook"' in workbook_xml
    for sheet, xml in zip(layout.sheets, sheet_xml, strict=True):
        assert f'codeName="{sheet.codename}"' in xml


def test_two_builds_are_byte_identical(tmp_path):
    """Building twice gives the same .xlsm bytes (fixed creation date, derived VBA ids)."""
    a = build_workbook(tmp_path / "a.xlsm", interpreter="python")
    b = build_workbook(tmp_path / "b.xlsm", interpreter="python")
    assert a.read_bytes() == b.read_bytes()


def test_default_settings_come_from_salesbook_core(tmp_path):
    """Without settings_rows the 设置 sheet holds salesbook.core.settings.default_rows(), each value typed:
    numbers as numbers, percentages as fractions shown with %, dates as dates; and they read back as the defaults."""
    from datetime import datetime

    from salesbook.core.settings import DEFAULTS, default_rows, load_settings, setting_kind

    path = build_workbook(tmp_path / "d.xlsm", interpreter="python")
    ws = openpyxl.load_workbook(path)["设置"]
    rows = list(ws.iter_rows(min_row=2))
    assert [r[0].value for r in rows] == [k for k, _, _ in default_rows()]
    assert [r[2].value for r in rows] == [n for _, _, n in default_rows()]
    for key_cell, value, _ in rows:
        kind = setting_kind(key_cell.value)
        if kind in ("float", "int", "pct"):
            assert isinstance(value.value, int | float) and not isinstance(value.value, bool), key_cell.value
        if kind == "pct":
            assert value.number_format == "0%" and 0 <= value.value <= 1, key_cell.value
        if kind == "date":
            assert isinstance(value.value, datetime)
        if kind in ("text", "period", "tiers") and value.value is not None:
            assert isinstance(value.value, str)
    assert load_settings([(k.value, v.value) for k, v, _ in rows]).values == DEFAULTS.values
    width = ws.column_dimensions["A"].width
    assert width >= max(display_width(k) for k, _, _ in default_rows())  # keys readable, not cut
    validated = {str(dv.sqref) for dv in ws.data_validations.dataValidation}
    weight_row = next(r[0].row for r in rows if r[0].value == "weight.revenue")
    assert f"B{weight_row}" in validated
    lang = next(dv for dv in ws.data_validations.dataValidation
                if str(dv.sqref) == f"B{next(r[0].row for r in rows if r[0].value == 'contract_language')}")
    assert lang.type == "list" and lang.formula1 == '"zh,en"'


def test_start_sheet_says_how_to_begin_and_what_each_button_does(book, built):
    """The start sheet lists the first steps, one button per row beside what it does (captions fit), the period
    and team folder in force and a last-run block; row 1 is tall enough for its title."""
    layout = load_layout()
    ws = book[layout.buttons_sheet]
    text = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    for step in layout.steps:
        assert any(step in t for t in text), step
    for button in layout.buttons:
        assert button.help in text
    cells = start_cells(layout)
    assert ws[cells["period"]].value == "（未设置 not set）" and ws[cells["team_folder"]].value == "team"
    assert ws[cells["action"]].value == "尚未运行 Not run yet"
    assert ws.row_dimensions[1].height >= 24
    with zipfile.ZipFile(built) as z:
        vml = z.read("xl/drawings/vmlDrawing1.vml").decode("utf-8")
    import re

    widths = [float(w) for w in re.findall(r"width:([\d.]+)pt", vml)]
    assert len(widths) == len(layout.buttons)
    longest = max(display_width(b.caption) for b in layout.buttons)
    assert min(widths) >= longest * 5.25  # 7 px a character unit, 0.75 pt a pixel: the caption is not cut


def test_refuses_a_non_xlsm_name(tmp_path):
    """A master workbook must be .xlsm: Excel refuses macros in an .xlsx."""
    with pytest.raises(LayoutError, match=".xlsm"):
        build_workbook(tmp_path / "SalesBook.xlsx")


def test_layout_is_found_in_the_checkout():
    """shipped_path finds workbook/layout.toml and macros/ (in _shipped/ for a wheel, else the repo root)."""
    assert shipped_path("workbook/layout.toml").is_file()
    assert shipped_path("macros").is_dir()
