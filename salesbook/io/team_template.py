"""The blank team workbook reps fill in: every team sheet, header notes and Excel data validation."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from ..core.schema import ColumnSpec, team_schemas
from .atomic import atomic_output

ROWS = 5000  # validation range below the header

_TYPE_NOTES = {
    "id": "编号（文本） / ID (text)",
    "text": "文本 / Text",
    "date": "日期，如 2026-11-03 / Date, e.g. 2026-11-03",
    "money": "金额（元），如 1234.50 / Amount in CNY, e.g. 1234.50",
    "number": "数字 / Number",
    "int": "整数 / Whole number",
    "pct": "百分比，如 10% / Percentage, e.g. 10%",
    "phone": "手机 13812345678 或座机 021-12345678 / Mobile or landline",
    "email": "电子邮箱 / E-mail",
    "enum": "从下拉列表选择 / Pick from the list",
}


def _note(col: ColumnSpec) -> str:
    parts = [f"{col.zh} / {col.en}", _TYPE_NOTES[col.type]]
    if col.required:
        parts.append("必填 / Required")
    if col.unique:
        parts.append("不可重复（所有团队文件） / Unique across all team files")
    if col.ref:
        parts.append(f"须存在于 {col.ref.split('.')[0]} 表 / Must exist in the {col.ref.split('.')[0]} sheet")
    if col.roster:
        parts.append("销售代表编号，须在花名册中 / Rep id from the roster")
    if col.enum is not None:
        parts.append("可选：" + "、".join(zh for _, zh in col.enum.values))
    if col.min is not None:
        parts.append(f"≥ {col.min:g}")
    if col.min_exclusive is not None:
        parts.append(f"> {col.min_exclusive:g}")
    if col.max is not None and col.type != "pct":
        parts.append(f"≤ {col.max:g}")
    if col.not_before:
        parts.append(f"不早于 {col.not_before} / Not before {col.not_before}")
    return "\n".join(parts)


def _width(text: str) -> float:
    # CJK characters are about twice as wide as Latin ones in Excel's default font.
    return min(40, max(10, sum(2.1 if ord(ch) > 0x2E80 else 1.1 for ch in text) + 3))


def write_team_template(path: Path, rep_ids: list[str] | None = None) -> Path:
    """A blank team workbook at `path`; drop-downs for rep ids when `rep_ids` is given."""
    with atomic_output(path) as tmp:
        _write_team_template(tmp, rep_ids)
    return Path(path)


def _write_team_template(path: Path, rep_ids: list[str] | None) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": datetime(2026, 1, 1), "title": "salesbook team workbook"})
    head = wb.add_format({"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF", "border": 1})
    req = wb.add_format({"bold": True, "bg_color": "#C00000", "font_color": "#FFFFFF", "border": 1})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    money = wb.add_format({"num_format": "#,##0.00"})
    pct = wb.add_format({"num_format": "0%"})
    text = wb.add_format({"num_format": "@"})
    lists = None
    if rep_ids:
        lists = wb.add_worksheet("_lists")
        for i, rid in enumerate(rep_ids):
            lists.write_string(i, 0, rid)
        lists.hide()
        wb.define_name("RepIds", f"=_lists!$A$1:$A${len(rep_ids)}")
    for schema in team_schemas():
        ws = wb.add_worksheet(schema.zh)
        ws.freeze_panes(1, 0)
        for j, col in enumerate(schema.columns):
            ws.write_string(0, j, col.zh, req if col.required else head)
            ws.write_comment(0, j, _note(col), {"x_scale": 2, "y_scale": 2.5})
            fmt = {"date": datef, "money": money, "pct": pct, "id": text, "phone": text}.get(col.type)
            ws.set_column(j, j, _width(col.zh) if col.type != "text" else max(_width(col.zh), 16), fmt)
            rng = (1, j, ROWS, j)
            msg = {"input_title": col.zh[:32], "input_message": _TYPE_NOTES[col.type][:255]}
            if col.enum is not None:
                ws.data_validation(*rng, {"validate": "list", "source": [zh for _, zh in col.enum.values],
                                          "error_message": "请从下拉列表选择 / Pick a value from the list", **msg})
            elif col.roster and lists is not None:
                ws.data_validation(*rng, {"validate": "list", "source": "=RepIds",
                                          "error_message": "销售代表须在花名册中 / Rep id must be in the roster", **msg})
            elif col.type == "date":
                ws.data_validation(*rng, {"validate": "date", "criteria": "between",
                                          "minimum": date(2000, 1, 1), "maximum": date(2099, 12, 31),
                                          "error_message": "请输入日期，如 2026-11-03 / Enter a date", **msg})
            elif col.type in ("money", "number", "int", "pct"):
                kind = "integer" if col.type == "int" else "decimal"
                lo = col.min_exclusive if col.min_exclusive is not None else (col.min if col.min is not None else None)
                if col.type == "pct":
                    opts = {"criteria": "between", "minimum": 0, "maximum": 1}
                elif col.max is not None and lo is not None:
                    opts = {"criteria": "between", "minimum": lo, "maximum": col.max}
                elif col.min_exclusive is not None:
                    opts = {"criteria": ">", "value": col.min_exclusive}
                elif lo is not None:
                    opts = {"criteria": ">=", "value": lo}
                else:
                    continue
                ws.data_validation(*rng, {"validate": kind, **opts,
                                          "error_message": "请输入有效数字 / Enter a valid number", **msg})
    wb.close()
