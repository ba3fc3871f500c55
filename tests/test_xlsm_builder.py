"""The master workbook builder: sheets, headers, notes, buttons, xlwings.conf, determinism."""

import tomllib
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest

from salesbook.xlsm.builder import LayoutError, build_workbook, load_layout
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
    """Output sheets carry the CSV column names of SPEC §7 (findings, files, scorecards, evidence)."""
    assert (
        _headers(book["校验结果"]) == "file sheet row column cell severity code message value rep_id".split()
    )
    assert _headers(book["文件状态"]) == "file status reason sha256 rows".split()
    assert _headers(book["考核表"]) == SCORECARD_COLUMNS
    assert _headers(book["依据"]) == "rep_id kpi file sheet row value".split()
    assert _headers(book["客户分级"])[:2] == ["customer_id", "customer_name"]
    assert "weighted_amount" in _headers(book["商机评估"])


def test_every_header_has_a_note(book):
    """Every header cell of an input or output sheet has a comment saying what goes in the column."""
    layout = load_layout()
    for sheet in layout.sheets:
        for col, header in enumerate(sheet.headers, start=1):
            comment = book[sheet.name].cell(1, col).comment
            assert comment is not None and comment.text.strip(), (sheet.name, header)


def test_rows_are_prefilled(book):
    """Settings, roster, plan and targets rows given to the builder land under their headers."""
    assert [c.value for c in book["设置"][2]] == ["discount_limit", "10%", "最高折扣 / Highest discount"]
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
    """xlwings.conf holds the interpreter for Windows and Mac and keeps the workbook off PYTHONPATH."""
    rows = [tuple(c.value for c in row) for row in book["xlwings.conf"].iter_rows()]
    assert rows == [
        ("Interpreter_Win", "C:\\Python311\\pythonw.exe"),
        ("Interpreter_Mac", "C:\\Python311\\pythonw.exe"),
        ("ADD_WORKBOOK_TO_PYTHONPATH", "False"),
    ]


def test_buttons_and_codenames_in_the_package(built):
    """The start sheet's buttons call [0]!Macro; workbook and sheets carry the codenames of the document modules."""
    layout = load_layout()
    with zipfile.ZipFile(built) as z:
        vml = z.read("xl/drawings/vmlDrawing1.vml").decode("utf-8")
        workbook_xml = z.read("xl/workbook.xml").decode("utf-8")
        sheet_xml = [z.read(f"xl/worksheets/sheet{i}.xml").decode("utf-8") for i in range(1, len(SHEETS) + 1)]
        assert "xl/vbaProject.bin" in z.namelist()
    for button in layout.buttons:
        assert f"<x:FmlaMacro>[0]!{button.macro}</x:FmlaMacro>" in vml
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
    """Without settings_rows the 设置 sheet is prefilled with salesbook.core.settings.default_rows()."""
    settings = pytest.importorskip("salesbook.core.settings")
    path = build_workbook(tmp_path / "d.xlsm", interpreter="python")
    rows = [tuple(c.value for c in row) for row in openpyxl.load_workbook(path)["设置"].iter_rows(min_row=2)]
    assert rows == [tuple(v if v != "" else None for v in r) for r in settings.default_rows()]


def test_refuses_a_non_xlsm_name(tmp_path):
    """A master workbook must be .xlsm: Excel refuses macros in an .xlsx."""
    with pytest.raises(LayoutError, match=".xlsm"):
        build_workbook(tmp_path / "SalesBook.xlsx")


def test_layout_is_found_in_the_checkout():
    """shipped_path finds workbook/layout.toml and macros/ (in _shipped/ for a wheel, else the repo root)."""
    assert shipped_path("workbook/layout.toml").is_file()
    assert shipped_path("macros").is_dir()
