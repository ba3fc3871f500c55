"""Shared fixtures: tiny workbooks written by the tests themselves."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

ROSTER_HEADER = ["销售代表", "姓名", "工号", "团队", "区域", "主管", "状态"]
TARGET_HEADER = ["销售代表", "周期", "销售额目标", "销售量目标", "回款目标", "新客户目标", "活动目标"]


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write `sheets` (name -> rows, first row usually the header) as an .xlsx with XlsxWriter."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": datetime(2026, 1, 1)})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, datetime):
                    ws.write_datetime(i, j, v, datef)
                elif isinstance(v, date):
                    ws.write_datetime(i, j, datetime(v.year, v.month, v.day), datef)
                elif isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                elif isinstance(v, int | float):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
    wb.close()
    return path


def write_master(path: Path, roster: list[list], targets: list[list], settings: list[list] | None = None) -> Path:
    sheets = {"花名册": [ROSTER_HEADER, *roster], "目标": [TARGET_HEADER, *targets]}
    sheets["设置"] = [["键", "值", "说明"], *(settings or [])]
    return write_workbook(path, sheets)


CUSTOMER_HEADER = ["客户编号", "客户名称", "企业规模", "年采购潜力(万元)", "合作意愿", "历史成交额(万元)",
                   "联系人", "联系电话", "电子邮箱", "负责销售", "建档日期", "最近更新", "客户等级"]
ACTIVITY_HEADER = ["日期", "销售代表", "客户编号", "活动类型", "内容摘要", "下次跟进", "时长(分钟)"]


@pytest.fixture
def master(tmp_path: Path) -> Path:
    """A master workbook with two reps (S001, S002) and November targets."""
    return write_master(
        tmp_path / "master.xlsx",
        roster=[["S001", "王芳", "E1001", "华东一组", "华东", "李强", "在职"],
                ["S002", "陈明", "E1002", "华东一组", "华东", "李强", "在职"]],
        targets=[["S001", "2026-11", 100000, 10, 80000, 2, 20], ["S002", "2026-11", 50000, 5, 40000, 1, 10]],
    )
