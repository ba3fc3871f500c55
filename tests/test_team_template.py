"""The blank team workbook: opens on the first data sheet, instructions with an example row per sheet,
万元 and percentage columns validated as salesbook reads them, customer-id drop-downs, Chinese-only
Chinese notes."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from salesbook.core.schema import team_schemas
from salesbook.io.team_template import EXAMPLES, write_team_template


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return write_team_template(tmp_path_factory.mktemp("t") / "team.xlsx", ["S001", "S002"])


def test_opens_on_the_first_data_sheet_with_the_helper_sheet_hidden(template):
    """The active sheet is 客户; _lists is hidden; 说明 comes first."""
    wb = openpyxl.load_workbook(template)
    assert wb.active.title == "客户" and wb["_lists"].sheet_state == "hidden"
    assert wb.sheetnames[0] == "说明" and wb["说明"].sheet_state == "visible"


def test_instructions_come_in_chinese_first_with_one_example_row_per_sheet(template):
    """说明 starts in Chinese, then English, and shows each sheet's headers over one filled example row."""
    ws = openpyxl.load_workbook(template)["说明"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    text = [r[0] for r in rows if isinstance(r[0], str)]
    first_zh = next(i for i, t in enumerate(text[1:], 1) if re.search(r"[\u4e00-\u9fff]", t))
    first_en = next(i for i, t in enumerate(text[1:], 1) if not re.search(r"[\u4e00-\u9fff]", t))
    assert first_zh < first_en
    for schema in team_schemas():
        at = next(i for i, r in enumerate(rows) if isinstance(r[0], str) and r[0].startswith(f"「{schema.zh}」"))
        assert rows[at + 1][: len(schema.columns)] == [c.zh for c in schema.columns]
        example = rows[at + 2][: len(schema.columns)]
        assert sum(v is not None for v in example) >= len(schema.required), schema.zh


def test_the_examples_are_valid_data(tmp_path):
    """Typed into a workbook, the example rows give no error: the instructions show what salesbook accepts."""
    from click.testing import CliRunner
    from conftest import write_workbook

    from salesbook.cli import main

    sheets = {s.zh: [[c.zh for c in s.columns], [EXAMPLES[s.name].get(c.key) for c in s.columns]]
              for s in team_schemas()}
    path = write_workbook(tmp_path / "examples.xlsx", sheets)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output and "0 warnings" in result.output


def test_wan_and_percentage_columns_validate_as_salesbook_reads_them(template):
    """年采购潜力(万元) says 万元 and allows 0–100,000; percentages allow 0–100 (10 % typed as 10 or 10 %)."""
    wb = openpyxl.load_workbook(template)
    ws = wb["客户"]
    header = [c.value for c in ws[1]]
    col = header.index("年采购潜力(万元)") + 1
    note = ws.cell(1, col).comment.text
    assert "万元" in note.split("\n\n")[0] and "元）" not in note.split("\n\n")[0].replace("万元", "")
    letter = ws.cell(1, col).column_letter
    dv = next(d for d in ws.data_validations.dataValidation if str(d.sqref).startswith(letter + "2"))
    assert (dv.type, dv.formula1, dv.formula2) == ("decimal", "0", "100000")
    opp = wb["商机"]
    pcol = [c.value for c in opp[1]].index("成功概率") + 1
    dv = next(d for d in opp.data_validations.dataValidation
              if str(d.sqref).startswith(opp.cell(1, pcol).column_letter + "2"))
    assert (dv.type, dv.formula1, dv.formula2) == ("decimal", "0", "100")


def test_sheets_that_refer_to_customers_offer_the_workbooks_customer_ids(template):
    """活动, 商机, 合同, 投诉 and 费用 get a drop-down of the 客户 sheet's ids that only warns (the id may be filed
    in another team's workbook)."""
    wb = openpyxl.load_workbook(template)
    assert "CustomerIds" in wb.defined_names and "'客户'!$A$2" in wb.defined_names["CustomerIds"].attr_text
    for sheet in ("活动", "商机", "合同", "投诉", "费用"):
        ws = wb[sheet]
        letter = ws.cell(1, [c.value for c in ws[1]].index("客户编号") + 1).column_letter
        dv = next(d for d in ws.data_validations.dataValidation if str(d.sqref).startswith(letter + "2"))
        assert dv.type == "list" and dv.formula1 == "CustomerIds" and dv.errorStyle == "information", sheet


def test_chinese_notes_are_chinese_only(template):
    """The Chinese half of every header note has no English words; the English half follows after a blank line."""
    wb = openpyxl.load_workbook(template)
    for schema in team_schemas():
        ws = wb[schema.zh]
        for cell in ws[1]:
            zh, en = cell.comment.text.split("\n\n")
            assert not re.search(r"[A-Za-z]{2,}", zh), (schema.zh, cell.value, zh)
            assert re.search(r"[A-Za-z]{2,}", en) and not re.search(r"[\u4e00-\u9fff]", en), (schema.zh, en)
