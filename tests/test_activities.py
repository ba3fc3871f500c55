"""Effective activities (SPEC §11): repeats, the daily limit, short and reused summaries don't count.

Each test writes a team workbook, consolidates November 2026 and checks the `activity-not-counted`
findings (row, cell, reason), the activities KPI and the evidence rows.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import ACTIVITY_HEADER, write_master, write_workbook

from salesbook.core.settings import SettingsError, default_rows, load_settings
from salesbook.pipeline import consolidate, validate

CUST = ["客户编号", "客户名称", "联系人", "联系电话", "负责销售", "建档日期"]
ROSTER = [["S001", "王芳", "E1001", "一组", "华东", "李强", "在职"], ["S002", "陈明", "E1002", "一组", "华东", "李强", "在职"]]
TARGETS = [["S001", "2026-11", None, None, None, None, 10], ["S002", "2026-11", None, None, None, None, 10]]


def d(day: int, month: int = 11) -> date:
    return date(2026, month, day)


def act(day: date, rep="S001", cid="C1", kind="拜访", summary="上门拜访，介绍新产品") -> list:
    return [day, rep, cid, kind, summary, None, 30]


def run(tmp_path: Path, files: dict[str, list[list]], settings: list[list] | None = None):
    master = write_master(tmp_path / "master.xlsx", ROSTER, TARGETS, settings)
    customers = [[f"C{i}", f"客户{i}有限公司", "张三", "13812345678", "S001", d(1, 1)] for i in (1, 2, 3)]
    write_workbook(tmp_path / "team" / "0_customers.xlsx", {"客户": [CUST, *customers]})
    for name, rows in files.items():
        write_workbook(tmp_path / "team" / name, {"活动": [ACTIVITY_HEADER, *rows]})
    return consolidate(tmp_path / "team", master=master, period="2026-11")


def not_counted(c) -> list[tuple]:
    return [(f.file, f.row, f.cell, f.severity, f.rep_id) for f in c.run.findings if f.code == "activity-not-counted"]


def kpi(c, rep="S001") -> float:
    return float(c.scorecards.set_index("rep_id").loc[rep, "activities"])


def test_a_repeat_of_the_same_rep_customer_date_and_type_counts_once(tmp_path) -> None:
    """The second visit to C1 on 3 Nov is not counted and names the first row; a call the same day counts."""
    c = run(tmp_path, {"a.xlsx": [act(d(3)), act(d(3), summary="又去了一次"), act(d(3), kind="电话"),
                                  act(d(3), cid="C2"), act(d(4))]})
    assert not_counted(c) == [("a.xlsx", 3, "A3", "info", "S001")]
    f = next(f for f in c.run.findings if f.code == "activity-not-counted")
    assert "a.xlsx [活动] A2" in f.message and "repeats" in f.message
    assert kpi(c) == 4.0
    ev = c.evidence[(c.evidence["rep_id"] == "S001") & (c.evidence["kpi"] == "activities")]
    assert sorted(zip(ev["row"], ev["value"], ev["code"], strict=True)) == [
        (2, 1.0, ""), (3, 0.0, "activity-not-counted"), (4, 1.0, ""), (5, 1.0, ""), (6, 1.0, "")]


def test_repeats_across_files_keep_the_first_in_file_order(tmp_path) -> None:
    """The same visit in b.xlsx and a.xlsx: a.xlsx comes first, so b.xlsx's row is the repeat."""
    c = run(tmp_path, {"b.xlsx": [act(d(5))], "a.xlsx": [act(d(6)), act(d(5))]})
    assert not_counted(c) == [("b.xlsx", 2, "A2", "info", "S001")]
    assert kpi(c) == 2.0


def test_no_more_than_twelve_counted_per_rep_and_day(tmp_path) -> None:
    """Fourteen different activities on one day: the 13th and 14th do not count; another rep is unaffected."""
    rows = [act(d(9), cid=f"C{1 + i % 3}", kind=k) for i, k in enumerate(
        ["拜访", "电话", "邮件", "演示", "谈判", "回访", "其他", "方案提交"] * 2)][:14]
    unique = {(r[2], r[3]) for r in rows}
    assert len(unique) == 14  # no repeats among them
    rows.append(act(d(9), rep="S002"))
    c = run(tmp_path, {"a.xlsx": rows})
    assert not_counted(c) == [("a.xlsx", 14, "A14", "info", "S001"), ("a.xlsx", 15, "A15", "info", "S001")]
    assert all("more than 12" in f.message for f in c.run.findings if f.code == "activity-not-counted")
    assert kpi(c) == 12.0 and kpi(c, "S002") == 1.0


def test_a_repeat_does_not_use_up_the_daily_limit(tmp_path) -> None:
    """With activity.max_per_day 2: a repeat is not counted, so two other activities still count that day."""
    rows = [act(d(9)), act(d(9)), act(d(9), kind="电话"), act(d(9), kind="邮件")]
    c = run(tmp_path, {"a.xlsx": rows}, [["activity.max_per_day", "2", ""]])
    assert [r[1] for r in not_counted(c)] == [3, 5]
    reasons = [f.message for f in c.run.findings if f.code == "activity-not-counted"]
    assert "repeats" in reasons[0] and "more than 2" in reasons[1]
    assert kpi(c) == 2.0


def test_short_summaries_are_not_counted_when_a_minimum_is_set(tmp_path) -> None:
    """activity.min_summary_chars 4: "拜访" (2 characters) does not count; "上门拜访" (4) does."""
    rows = [act(d(3), summary="拜访"), act(d(4), summary="上门拜访"), act(d(5), summary="  ok  ")]
    c = run(tmp_path, {"a.xlsx": rows}, [["activity.min_summary_chars", "4", ""]])
    assert [(r[1], r[2]) for r in not_counted(c)] == [(2, "E2"), (4, "E4")]
    assert all("shorter than 4" in f.message for f in c.run.findings if f.code == "activity-not-counted")
    assert kpi(c) == 1.0
    default = run(tmp_path / "default", {"a.xlsx": rows})
    assert not_counted(default) == [] and kpi(default) == 3.0


def test_a_summary_reused_too_often_in_a_month_stops_counting(tmp_path) -> None:
    """activity.max_same_summary 2: the third "电话沟通" (spacing and case aside) of November is not counted."""
    rows = [act(d(2), summary="电话沟通"), act(d(3), summary="电话 沟通"), act(d(4), summary="电话沟通"),
            act(d(5), summary="电话沟通", rep="S002"), act(d(28, 10), summary="电话沟通")]
    c = run(tmp_path, {"a.xlsx": rows}, [["activity.max_same_summary", "2", ""]])
    assert [(r[1], r[2]) for r in not_counted(c)] == [(4, "E4")]
    assert "counted 2 times this month" in next(f.message for f in c.run.findings if f.code == "activity-not-counted")
    assert kpi(c) == 2.0 and kpi(c, "S002") == 1.0


def test_validate_reports_the_same_activities_as_consolidate(tmp_path) -> None:
    """The Validate button shows the activities that will not count, without a period too."""
    c = run(tmp_path, {"a.xlsx": [act(d(3)), act(d(3))]})
    v = validate([tmp_path / "team"], master=tmp_path / "master.xlsx")
    assert [(f.file, f.row) for f in v.findings if f.code == "activity-not-counted"] == [("a.xlsx", 3)]
    assert not_counted(c)[0][:2] == ("a.xlsx", 3)


def test_rows_with_errors_take_no_part(tmp_path) -> None:
    """An activity with an error (1500 minutes) is left out, so the valid copy after it still counts."""
    broken = [d(3), "S001", "C1", "拜访", "上门拜访", None, 1500]
    c = run(tmp_path, {"a.xlsx": [broken, act(d(3)), act(d(4))]})
    assert not_counted(c) == []
    assert kpi(c) == 2.0


def test_activity_settings_have_the_spec_defaults_and_are_checked() -> None:
    """max_per_day 12, min_summary_chars 0, max_same_summary blank — in code and in the Settings rows."""
    rows = {k: v for k, v, _ in default_rows()}
    assert (rows["activity.max_per_day"], rows["activity.min_summary_chars"], rows["activity.max_same_summary"]) == (
        "12", "0", "")
    st = load_settings()
    assert (st["activity.max_per_day"], st["activity.min_summary_chars"], st["activity.max_same_summary"]) == (
        12, 0, None)
    with pytest.raises(SettingsError, match="activity.max_per_day"):
        load_settings([("activity.max_per_day", "0")])
    with pytest.raises(SettingsError, match="activity.max_same_summary"):
        load_settings([("activity.max_same_summary", "两次")])
