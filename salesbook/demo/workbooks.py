"""How demo rows become workbooks: sheet layouts, the team and master writers, the encrypted file."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import xlsxwriter

from .rules import _row
from .vocabulary import _SCHEMAS, CREATED, TEAM_SHEETS

if TYPE_CHECKING:
    from .builder import TeamBuilder


def _columns(sheet: str) -> list[dict]:
    return _SCHEMAS["sheets"][sheet]["columns"]


def _enum_zh(enum: str, value: object, lang: str) -> object:
    if lang != "zh" or not isinstance(value, str):
        return value
    for en, zh in _SCHEMAS["enums"][enum]["values"]:
        if en == value:
            return zh
    return value


@dataclass
class SheetLayout:
    """How one sheet is written: its name, headers as written, a title row, extras, a totals row."""

    sheet: str
    lang: str = "zh"
    title: str | None = None
    header_text: dict[str, str] = field(default_factory=dict)  # column key -> header as written
    extra: tuple[str, str, object] | None = None  # (after column key, header, row -> value)
    drop: tuple[str, ...] = ()
    doubled: tuple[str, str] | None = None  # (column key, second header) -> an ambiguous header
    totals: str | None = None  # column key summed on a trailing 合计 row

    @property
    def name(self) -> str:
        return _SCHEMAS["sheets"][self.sheet]["en" if self.lang == "en" else "zh"]


class _WorkbookWriter:
    """Writes rows into one workbook with XlsxWriter and resolves each row's defects to a cell."""

    def __init__(self, target: Path | io.BytesIO, file_name: str, defects: list[dict]) -> None:
        self.wb = xlsxwriter.Workbook(
            str(target) if isinstance(target, Path) else target, {"in_memory": True}
        )
        self.wb.set_properties({"created": CREATED, "author": "salesbook demo"})
        self.file = file_name
        self.defects = defects
        self.f_head = self.wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.f_title = self.wb.add_format({"bold": True, "font_size": 14, "align": "center"})
        self.f_date = self.wb.add_format({"num_format": "yyyy-mm-dd"})
        self.f_money = self.wb.add_format({"num_format": "#,##0.00"})
        self.f_pct = self.wb.add_format({"num_format": "0%"})
        self.f_total = self.wb.add_format({"bold": True, "top": 1})

    def note(self, sheet: str, row: int, column: str, code: str) -> None:
        self.defects.append({"file": self.file, "sheet": sheet, "row": row, "column": column, "code": code})

    def sheet(self, layout: SheetLayout, rows: list[dict]) -> None:
        ws = self.wb.add_worksheet(layout.name)
        cols = [c for c in _columns(layout.sheet) if c["key"] not in layout.drop]
        spec: list[tuple[str | None, str, dict | None]] = []  # (key, header, schema column)
        for c in cols:
            spec.append(
                (c["key"], layout.header_text.get(c["key"], c["en"] if layout.lang == "en" else c["zh"]), c)
            )
            if layout.extra and layout.extra[0] == c["key"]:
                spec.append((None, layout.extra[1], None))
            if layout.doubled and layout.doubled[0] == c["key"]:
                spec.append((c["key"], layout.doubled[1], c))
        head = 0
        if layout.title:
            ws.merge_range(0, 0, 0, len(spec) - 1, layout.title, self.f_title)
            head = 1
        for j, (key, text, _) in enumerate(spec):
            ws.write_string(head, j, text, self.f_head)
            ws.set_column(j, j, max(10, min(28, 2 * len(text) + 2)))
            if key is None:
                self.note(layout.name, head + 1, text, "unknown-column")
        if layout.doubled:
            self.note(layout.name, head + 1, layout.doubled[1], "ambiguous-column")
        for i, row in enumerate(rows):
            r = head + 1 + i
            for j, (key, _, col) in enumerate(spec):
                value = layout.extra[2](row) if key is None and layout.extra else row.get(key)
                if col is not None and col["type"] == "enum":
                    value = _enum_zh(col["enum"], value, layout.lang)
                self.cell(ws, r, j, value, col["type"] if col else "text")
            for key, code in row["_d"]:
                header = next(text for k, text, _ in spec if k == key)
                self.note(layout.name, r + 1, header.strip(), code)  # findings name the header trimmed
        if layout.totals:
            r = head + 1 + len(rows)
            ws.write_string(r, 0, "合计", self.f_total)
            j = next(j for j, (k, _, _) in enumerate(spec) if k == layout.totals)
            total = sum(v[layout.totals] for v in rows if isinstance(v[layout.totals], int | float))
            ws.write_number(r, j, round(total, 2), self.f_total)
            self.note(layout.name, r + 1, "", "totals-row-skipped")
        ws.freeze_panes(head + 1, 0)

    def cell(self, ws, r: int, j: int, value: object, kind: str) -> None:
        if value is None:
            return
        if isinstance(value, date):
            ws.write_datetime(r, j, datetime(value.year, value.month, value.day), self.f_date)
        elif isinstance(value, int | float):
            fmt = self.f_money if kind == "money" else self.f_pct if kind == "pct" else None
            ws.write_number(r, j, value, fmt)
        else:
            ws.write_string(r, j, str(value))

    def close(self) -> None:
        self.wb.close()


def team_layouts(file: str, period_start: date) -> dict[str, SheetLayout]:
    """The demo's workbook styles by team file: a title row (east), English headers (north), a totals
    row and an extra column (south), the template's layout otherwise."""
    layouts = {s: SheetLayout(s) for s in TEAM_SHEETS}
    if file == "team_east.xlsx":
        layouts["activities"].title = f"{period_start.year}年{period_start.month}月 销售活动记录表"
        layouts["customers"].header_text = {
            "customer_name": " 客户 名称 ",
            "annual_potential": "年采购潜力（万元）",
            "historical_revenue": "历史成交额（万元）",
        }
    elif file == "team_north.xlsx":
        for s in ("activities", "opportunities", "contracts", "contract_lines"):
            layouts[s].lang = "en"
    elif file == "team_south.xlsx":
        layouts["expenses"].totals = "amount"
        layouts["customers"].extra = ("phone", "微信号", _wechat)
    return layouts


def _wechat(row: dict) -> str | None:
    """A WeChat id for every third customer, derived from its id (no randomness needed)."""
    n = int(re.sub(r"\D", "", str(row.get("customer_id"))) or 0)
    return f"wxid_{n * 7919 % 1000003:07d}" if n % 3 == 0 else None


def write_team(
    path: Path,
    file: str,
    sheets: dict[str, list[dict]],
    layouts: dict[str, SheetLayout],
    defects: list[dict],
) -> None:
    """One team workbook of `sheets` (sheet key -> row dicts) in the given layouts, with `defects` applied."""
    w = _WorkbookWriter(path, file, defects)
    for s in TEAM_SHEETS:
        if s in sheets:
            w.sheet(layouts[s], sheets[s])
    w.close()


def write_master_xlsx(
    path: Path,
    settings_rows: list[tuple[str, str, str]],
    roster: list[dict],
    targets: list[dict],
    plans: list[dict] | None = None,
) -> None:
    """Write the master data (设置, 花名册, 提成方案, 目标) as an .xlsx; dict values use the schema keys."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": CREATED, "author": "salesbook demo"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    money = wb.add_format({"num_format": "#,##0"})
    ws = wb.add_worksheet(_SCHEMAS["sheets"]["settings"]["zh"])
    for j, text in enumerate(c["zh"] for c in _columns("settings")):
        ws.write_string(0, j, text, head)
    for i, row in enumerate(settings_rows, start=1):
        for j, v in enumerate(row):
            ws.write_string(i, j, str(v))
    ws.set_column(0, 0, 32)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 2, 70)
    sheets = [("roster", roster), ("commission_plans", plans), ("targets", targets)]
    for sheet, rows in ((k, r) for k, r in sheets if r is not None):
        ws = wb.add_worksheet(_SCHEMAS["sheets"][sheet]["zh"])
        cols = _columns(sheet)
        for j, c in enumerate(cols):
            ws.write_string(0, j, c["zh"], head)
            ws.set_column(j, j, 14)
        for i, row in enumerate(rows, start=1):
            for j, c in enumerate(cols):
                v = row.get(c["key"])
                if v is None or v == "":
                    continue
                if c["type"] == "enum":
                    ws.write_string(i, j, str(_enum_zh(c["enum"], v, "zh")))
                elif isinstance(v, int | float):
                    ws.write_number(i, j, v, money if c["type"] == "money" else None)
                else:
                    ws.write_string(i, j, str(v))
    wb.close()


def _encrypt(plain: bytes, password: str) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(plain)).encrypt(password, out)
    return out.getvalue()


def _small_workbook(b: TeamBuilder, file: str, defects: list[dict]) -> bytes:
    """A small clean workbook (a copy of a few customers) used for the encrypted file."""
    buf = io.BytesIO()
    w = _WorkbookWriter(buf, file, defects)
    rows = [
        _row(**{k: v for k, v in c.items() if not k.startswith("_")}) for c in list(b.customers.values())[:3]
    ]
    w.sheet(SheetLayout("customers"), rows)
    w.close()
    return buf.getvalue()
