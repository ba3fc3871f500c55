"""How output sheets look (salesbook.io.presentation, declared in workbook/layout.toml), and that the file
backend writes that look: headers, widths, formats, frozen key columns, colours, links, print setup."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from salesbook.actions import frame_sheet
from salesbook.io.book import FileBook, SheetData
from salesbook.io.presentation import (
    ColourRule,
    display_width,
    file_link,
    palettes,
    rule_fills,
    sheet_look,
)
from salesbook.io.writers import write_xlsx
from salesbook.xlsm.builder import build_workbook


def test_cjk_characters_count_double():
    """A Chinese character takes two of Excel's character units, a Latin one one."""
    assert display_width("得分") == 4 and display_width("Score") == 5 and display_width("得分 Score") == 10
    assert display_width("（全角）") == 8


def test_scorecards_put_rep_name_score_rating_and_coefficient_first():
    """The scorecard's key columns come first and are the frozen ones; the rest follow the layout."""
    from salesbook.core.scoring import SCORECARD_COLUMNS

    look = sheet_look("考核表", SCORECARD_COLUMNS)
    assert look.keys[:5] == ["rep_id", "name", "score", "rating", "coefficient"] and look.frozen == 5
    assert sorted(look.keys) == sorted(SCORECARD_COLUMNS)
    assert look.columns[2].label == "得分\nScore" and look.columns[2].number_format == "0.00"


def test_a_sheet_added_later_gets_a_look_for_free():
    """A sheet the layout does not know (a bonus sheet, say) gets the known columns' headers and formats,
    and a format guessed from the values for the columns nobody declared."""
    frame = pd.DataFrame({"rep_id": ["S001"], "name": ["王芳"], "plan_tier": ["A"], "bonus_amount": [12345.5],
                          "paid_out": [True], "count_x": [3]})
    look = sheet_look("奖金", list(frame.columns), sample=lambda k: frame[k].tolist())
    assert look.header[:2] == ["销售代表\nRep ID", "姓名\nName"]
    by_key = {c.key: c for c in look.columns}
    assert by_key["bonus_amount"].label == "bonus_amount" and by_key["bonus_amount"].number_format == "#,##0.00"
    assert by_key["paid_out"].format == "flag" and by_key["count_x"].number_format == "0"
    assert look.display_rows([list(frame.iloc[0])])[0][4] == "是"


def test_columns_shown_a_column_at_a_time_match_the_rows_shown_one_by_one():
    """display_columns gives what display_rows gives: blanks (None, NaN, NA, NaT) shown empty, numbers
    whole where they are, flags and enums in words, and plain columns of text, ints and dates as they are."""
    import datetime as dt

    import numpy as np

    from salesbook.core.scoring import SCORECARD_COLUMNS

    frame = pd.DataFrame({c: [None, float("nan"), 3.0, 2.5, "x", True, 0, np.int64(4), pd.NA, pd.NaT,
                              dt.date(2026, 11, 3), "S001"] for c in SCORECARD_COLUMNS}, dtype=object)
    frame["rep_id"] = ["S001", "S002", None, "S004", "", "S006", "S007", "S008", "S009", "S010", "S011", "S012"]
    frame["name"] = ["王芳"] * 6 + [dt.date(2026, 1, 1)] * 3 + [7] * 3  # text, dates and ints only: kept as they are
    look = sheet_look("考核表", list(frame.columns))
    columns = [frame[k].tolist() for k in look.keys]
    rows = look.display_rows([list(r) for r in zip(*columns, strict=True)])
    shown = look.display_columns(columns)
    assert [list(r) for r in zip(*shown, strict=True)] == rows
    assert shown[look.keys.index("name")] is columns[look.keys.index("name")]  # a plain column is not copied
    assert any(v is None for v in shown[look.keys.index("score")][:2]) and rows[1][look.keys.index("score")] is None


def test_widths_fit_the_content_within_bounds_and_long_text_wraps():
    """A column is as wide as its widest value (CJK double) and its Chinese header, but no wider than its
    maximum; longer text wraps onto more lines and the row grows."""
    look = sheet_look("校验结果", ["file", "message", "severity"])
    long = "文件无法读取：压缩包已损坏 / File cannot be read: damaged or truncated zip container " * 3
    rows = look.display_rows([["a.xlsx", "severity", "短"], ["团队北区.xlsx", "error", long]])
    widths = look.widths(rows)
    assert widths[0] >= display_width("团队北区.xlsx")
    message = look.keys.index("message")
    assert widths[message] == look.columns[message].max_width and message in look.wrap_columns()
    heights = look.row_heights(rows, widths)
    assert set(heights) == {1} and heights[1] >= 45


def test_colour_rules_colour_cells_rows_and_mismatches():
    """A value rule colours its cell, a row rule the whole row, a differs rule a given value unlike another."""
    rules = [ColourRule(0, "row", "#111111", "error"), ColourRule(2, "value", "#222222", "S"),
             ColourRule(1, "differs", "#333333", other=2)]
    fills = rule_fills(rules, [["error", "A", "A"], ["info", "B", "S"], ["info", None, "C"]], 3)
    assert fills == {0: {0: "#111111", 1: "#111111", 2: "#111111"}, 1: {2: "#222222", 1: "#333333"}}


def test_a_finding_links_to_its_cell_relative_to_the_workbook(tmp_path):
    """The link from the master to a finding's cell is relative (team/…#'sheet'!D17), quotes the sheet name
    and escapes what would break a link; a CSV file gets no sheet part."""
    team = tmp_path / "team" / "北区 一组#2.xlsx"
    team.parent.mkdir()
    team.write_bytes(b"")
    assert file_link(team, tmp_path, "客户's", "D17") == "team/北区%20一组%232.xlsx#'客户''s'!D17"
    assert file_link(tmp_path / "team" / "x.csv", tmp_path / "out", "x", "B2") == "../team/x.csv"


def test_file_book_writes_the_look_and_keeps_text_as_text(tmp_path):
    """FileBook writes headers, widths, formats, frozen key columns, conditional formats, links, print setup;
    a text starting with '=' stays a string cell."""
    from salesbook.outputs import findings_frame

    book = build_workbook(tmp_path / "SalesBook.xlsm", interpreter="python")
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "a.xlsx").write_bytes(b"")
    from salesbook.core.findings import make_finding

    findings = [make_finding("required-missing", file="a.xlsx", sheet="客户", row=5, column="联系人", cell="I5",
                             value="=HYPERLINK(\"x\")"),
                make_finding("file-unreadable", file="a.xlsx", reason="damaged", value="")]
    data = frame_sheet("校验结果", findings_frame(findings), sources={"a.xlsx": str(tmp_path / "team" / "a.xlsx")},
                       base=tmp_path)
    fb = FileBook(book)
    fb.write(data)
    fb.save()
    ws = openpyxl.load_workbook(book)["校验结果"]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["文件\nFile", "工作表\nSheet", "单元格\nCell", "级别\nSeverity", "问题说明\nMessage"]
    assert ws.freeze_panes == "F2" and ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows.replace("$", "") == "1:1" and ws.auto_filter.ref == "A1:J3"
    col = {h.split("\n")[1]: j for j, h in enumerate(header, start=1)}
    assert ws.cell(2, col["Cell"]).hyperlink.target == "team/a.xlsx"
    assert ws.cell(2, col["Cell"]).hyperlink.location == "'客户'!I5"
    assert ws.cell(3, col["File"]).hyperlink.target == "team/a.xlsx" and ws.cell(3, col["Row"]).value is None
    value = ws.cell(2, col["Value"])
    assert value.value == '=HYPERLINK("x")' and value.data_type == "s"
    rules = {r.formula[0]: str(cf.sqref) for cf in ws.conditional_formatting for r in cf.rules}
    assert rules == {'$D2="error"': "A2:J3", '$D2="warning"': "A2:J3"}
    message = ws.column_dimensions[ws.cell(1, col["Message"]).column_letter].width
    assert message >= 40 and ws.cell(2, col["Message"]).alignment.wrap_text


@pytest.mark.parametrize("name", ["校验结果", "考核表"])
def test_xlsx_outputs_share_the_master_look(tmp_path, name):
    """consolidated.xlsx's sheets have the master's headers, frozen columns, number formats and colour rules."""
    from salesbook.core.scoring import SCORECARD_COLUMNS
    from salesbook.outputs import FINDING_COLUMNS

    cols = SCORECARD_COLUMNS if name == "考核表" else FINDING_COLUMNS
    frame = pd.DataFrame([[None] * len(cols)], columns=cols)
    frame.iloc[0, cols.index("rep_id" if name == "考核表" else "file")] = "S001"
    path = write_xlsx(tmp_path / "c.xlsx", [(name, frame)])
    ws = openpyxl.load_workbook(path)[name]
    look = sheet_look(name, cols)
    assert [c.value for c in ws[1]] == look.header
    assert ws.freeze_panes == ws.cell(2, look.frozen + 1).coordinate
    formulas = {r.formula[0] for cf in ws.conditional_formatting for r in cf.rules}
    palette = "rating" if name == "考核表" else "severity"
    assert len(formulas) == len(palettes()[palette])


def test_sheet_data_without_header_writes_tables_of_its_own(tmp_path):
    """A sheet of small tables (the dashboard) has styled table headers, no autofilter and no frozen panes."""
    book = build_workbook(tmp_path / "SalesBook.xlsm", interpreter="python")
    fb = FileBook(book)
    fb.write(SheetData(name="仪表板", header=[], rows=[["标题 Title"], [], ["评级 Rating", "人数 Reps"], ["S", 1]],
                       title_rows={0}, header_rows={2}, freeze=False, autofilter=False, widths={0: 14.0}))
    fb.save()
    ws = openpyxl.load_workbook(book)["仪表板"]
    assert ws["A1"].font.b and ws["A3"].font.b and ws["A3"].fill.fgColor.rgb.endswith("DDEBF7")
    assert not ws.auto_filter.ref and ws.freeze_panes is None and ws.column_dimensions["A"].width == 14.0


def test_display_width_counts_each_wide_character_twice_whatever_the_text():
    """The width counts every East Asian wide or full-width character twice (looked up a character at a time
    now): mixed scripts, full-width forms, emoji, combining marks and ASCII alike."""
    import unicodedata

    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60) | st.sampled_from(["得分 Score", "ＡＢＣ１", "😀x", "e\u0301"]))
    def check(text: str) -> None:
        wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))
        assert display_width(text) == len(text) + wide

    check()
