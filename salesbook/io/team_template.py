"""The blank team workbook reps fill in: every team sheet, header notes and Excel data validation.

It opens on the first data sheet. A 说明 / Instructions sheet (Chinese first) says how to fill it in
and shows one example row per sheet; the helper sheet `_lists` (rep ids from the roster) is hidden.
Amounts in 万元 columns are validated as 万元 (SPEC §3.1), percentages as salesbook reads them (0–1
or 0–100), and the sheets that refer to a customer or a contract offer that workbook's ids in a
drop-down (a warning, not a refusal: the id may be filed in another team's workbook).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from ..core.schema import ColumnSpec, SheetSchema, load_schemas, team_schemas
from .atomic import atomic_output

ROWS = 5000  # validation range below the header
WAN_MAX = 100_000  # 万元: above this someone typed 元 (SPEC §3.1)

_TYPE_NOTES = {  # type -> (Chinese, English)
    "id": ("编号（文本）", "ID (text)"),
    "text": ("文本", "Text"),
    "date": ("日期，如 2026-11-03", "Date, e.g. 2026-11-03"),
    "money": ("金额（元），如 1234.50", "Amount in CNY, e.g. 1234.50"),
    "wan": ("金额（万元），如 50 表示 50 万元", "Amount in 10k CNY: 50 means 500,000 CNY"),
    "number": ("数字", "Number"),
    "int": ("整数", "Whole number"),
    "pct": ("百分比，如 10% 或 10", "Percentage, e.g. 10% or 10"),
    "phone": ("手机 13812345678 或座机 021-12345678", "Mobile 13812345678 or landline 021-12345678"),
    "email": ("电子邮箱", "E-mail"),
    "enum": ("从下拉列表选择", "Pick from the list"),
}

# One example row per sheet for the instructions (keys of schemas.toml); the ids refer to each other.
EXAMPLES: dict[str, dict[str, object]] = {
    "customers": {"customer_id": "C0001", "customer_name": "上海示例机械有限公司", "industry": "机械制造",
                  "region": "华东", "company_size": "中型", "annual_potential": 120, "willingness": "高",
                  "historical_revenue": 35, "contact": "王经理", "phone": "13812345678",
                  "email": "wang@example.com", "needs": "产线自动化改造", "purchase_intent": "有意向",
                  "owner": "S001", "created": date(2026, 11, 3), "updated": date(2026, 11, 20), "grade": "B"},
    "activities": {"date": date(2026, 11, 5), "rep_id": "S001", "customer_id": "C0001", "activity_type": "拜访",
                   "summary": "上门了解改造需求", "outcome": "客户同意看方案", "next_step": "提交方案",
                   "next_follow_up": date(2026, 11, 12), "minutes": 90},
    "opportunities": {"opportunity_id": "SJ-2026-0001", "customer_id": "C0001", "name": "产线自动化改造项目",
                      "stage": "方案", "amount": 300000, "probability": "50%", "risk": "中",
                      "expected_close": date(2026, 12, 20), "owner": "S001"},
    "contracts": {"contract_id": "HT-2026-0001", "customer_id": "C0001", "opportunity_id": "SJ-2026-0001",
                  "amount": 285000, "discount": "5%", "payment_terms": "签约付 30%，验收付 70%",
                  "legal_review": "通过", "finance_review": "通过", "manager_approval": "待审",
                  "signed": date(2026, 11, 25), "status": "已签订", "owner": "S001"},
    "contract_lines": {"contract_id": "HT-2026-0001", "product": "伺服电机", "spec": "750W", "quantity": 10,
                       "unit": "台", "unit_price": 30000},
    "orders": {"order_id": "DD-2026-0001", "contract_id": "HT-2026-0001", "ordered": date(2026, 11, 26),
               "promised": date(2026, 12, 15), "shipped": date(2026, 12, 10), "accepted": date(2026, 12, 18),
               "status": "已验收"},
    "collections": {"payment_id": "HK-2026-0001", "contract_id": "HT-2026-0001", "date": date(2026, 11, 28),
                    "amount": 85500, "method": "银行转账"},
    "complaints": {"ticket_id": "TS-2026-0001", "customer_id": "C0001", "received": date(2026, 12, 19),
                   "category": "交付", "description": "包装破损", "handler": "李工", "resolved": date(2026, 12, 21),
                   "status": "已解决"},
    "expenses": {"expense_id": "BX-2026-0001", "rep_id": "S001", "date": date(2026, 11, 5), "category": "交通费",
                 "amount": 86.5, "receipt_no": "12345678", "customer_id": "C0001", "approval": "已批准",
                 "note": "拜访客户打车"},
}

INSTRUCTIONS_ZH = [
    "每个工作表一类记录，表头第一行，从第二行起每行一条；请不要改表头、不要合并单元格。",
    "红色表头为必填项；把鼠标停在表头上可看到该列的说明。下拉列表、日期和数字规则会在输入时提示错误。",
    "编号（客户编号、合同编号等）在所有团队文件中都不能重复；引用的客户、合同须已登记（可在其他团队的文件中）。",
    "「年采购潜力(万元)」「历史成交额(万元)」按万元填写：50 或 50万 都表示 50 万元。",
    "百分比可写 10% 或 10（都表示 10%）。日期写成 2026-11-03。",
    "下面每个工作表有一行示例，仅供参考，请勿把示例行复制到数据表中。",
]
INSTRUCTIONS_EN = [
    "One kind of record per sheet: the header in row 1, one record per row below it. Keep the headers; do not merge cells.",
    "Red headers are required; hover over a header for what goes in the column. Drop-downs and date and number rules warn as you type.",
    "IDs (customer, contract, …) must be unique across all team files; a customer or contract you refer to must be filed (possibly in another team's file).",
    "Annual potential and historical revenue are in 10k CNY (万元): 50 and 50万 both mean 500,000 CNY.",
    "Percentages may be written 10% or 10 (both 10 %). Dates as 2026-11-03.",
    "Each sheet below has one example row; it is only an example: do not copy it into the data sheets.",
]


def _kind(col: ColumnSpec) -> str:
    return "wan" if col.unit == "wan" else col.type


def _note(col: ColumnSpec, sheets: dict[str, SheetSchema]) -> str:
    """The header note: the Chinese lines first (in Chinese only), then the English ones."""
    zh_type, en_type = _TYPE_NOTES[_kind(col)]
    zh, en = [col.zh, zh_type], [col.en, en_type]
    if col.required:
        zh.append("必填")
        en.append("Required")
    if col.unique:
        zh.append("不可重复（所有团队文件）")
        en.append("Unique across all team files")
    if col.ref:
        target = sheets[col.ref.split(".")[0]]
        zh.append(f"须已在「{target.zh}」表登记（可在其他团队文件中）")
        en.append(f"Must be filed in the {target.en} sheet (possibly of another team's file)")
    if col.roster:
        zh.append("销售代表编号，须在花名册中")
        en.append("A rep id from the roster")
    if col.enum is not None:
        zh.append("可选：" + "、".join(c for _, c in col.enum.values))
        en.append("One of: " + ", ".join(e for e, _ in col.enum.values))
    limits = []
    if col.min is not None:
        limits.append(f"≥ {col.min:g}")
    if col.min_exclusive is not None:
        limits.append(f"> {col.min_exclusive:g}")
    if col.max is not None and col.type != "pct":
        limits.append(f"≤ {col.max:g}")
    if limits:
        zh.append("，".join(limits))
        en.append(", ".join(limits))
    if col.not_before:
        other = next((c for s in sheets.values() for c in s.columns if c.key == col.not_before), None)
        zh.append(f"不早于「{other.zh if other else col.not_before}」")
        en.append(f"Not before {other.en if other else col.not_before}")
    return "\n".join(zh) + "\n\n" + "\n".join(en)


def _width(text: str) -> float:
    # CJK characters are about twice as wide as Latin ones in Excel's default font.
    return min(40, max(10, sum(2.1 if ord(ch) > 0x2E80 else 1.1 for ch in text) + 3))


def _ref_names(schemas: list[SheetSchema]) -> dict[str, tuple[str, str]]:
    """'customers.customer_id' -> (defined name, formula) listing that workbook's ids, growing with the sheet."""
    from xlsxwriter.utility import xl_col_to_name

    out = {}
    by_key = {s.name: s for s in schemas}
    for schema in schemas:
        for col in schema.columns:
            if not col.ref or col.ref in out:
                continue
            sheet_key, col_key = col.ref.split(".")
            target = by_key.get(sheet_key)
            if target is None:
                continue
            letter = xl_col_to_name([c.key for c in target.columns].index(col_key))
            name = "".join(part.title() for part in col_key.split("_")) + "s"  # CustomerIds, ContractIds
            sheet = target.zh
            out[col.ref] = (name, f"=OFFSET('{sheet}'!${letter}$2,0,0,MAX(1,COUNTA('{sheet}'!${letter}:${letter})-1),1)")
    return out


def write_team_template(path: Path, rep_ids: list[str] | None = None, *, mode: int | None = None) -> Path:
    """A blank team workbook at `path`; drop-downs for rep ids when `rep_ids` is given (`mode`: its permissions)."""
    with atomic_output(path, mode=mode) as tmp:
        _write_team_template(tmp, rep_ids)
    return Path(path)


def _write_team_template(path: Path, rep_ids: list[str] | None) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({"created": datetime(2026, 1, 1), "title": "salesbook team workbook"})
    head = wb.add_format({"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF", "border": 1})
    req = wb.add_format({"bold": True, "bg_color": "#C00000", "font_color": "#FFFFFF", "border": 1})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})
    money = wb.add_format({"num_format": "#,##0.00"})
    pct = wb.add_format({"num_format": "0%"})
    text = wb.add_format({"num_format": "@"})
    schemas = team_schemas()
    every = load_schemas()
    guide = wb.add_worksheet("说明")
    sheets = {s.name: wb.add_worksheet(s.zh) for s in schemas}
    lists = None
    if rep_ids:
        lists = wb.add_worksheet("_lists")
        for i, rid in enumerate(rep_ids):
            lists.write_string(i, 0, rid)
        lists.hide()
        wb.define_name("RepIds", f"=_lists!$A$1:$A${len(rep_ids)}")
    refs = _ref_names(schemas)
    for name, formula in refs.values():
        wb.define_name(name, formula)
    for schema in schemas:
        ws = sheets[schema.name]
        ws.freeze_panes(1, 0)
        for j, col in enumerate(schema.columns):
            kind = _kind(col)
            ws.write_string(0, j, col.zh, req if col.required else head)
            ws.write_comment(0, j, _note(col, every), {"x_scale": 2.2, "y_scale": 3})
            fmt = {"date": datef, "money": money, "wan": money, "pct": pct, "id": text, "phone": text}.get(kind)
            ws.set_column(j, j, _width(col.zh) if col.type != "text" else max(_width(col.zh), 16), fmt)
            rng = (1, j, ROWS, j)
            msg = {"input_title": col.zh[:32], "input_message": _TYPE_NOTES[kind][0][:255]}
            if col.enum is not None:
                ws.data_validation(*rng, {"validate": "list", "source": [zh for _, zh in col.enum.values],
                                          "error_message": "请从下拉列表选择 / Pick a value from the list", **msg})
            elif col.roster and lists is not None:
                ws.data_validation(*rng, {"validate": "list", "source": "=RepIds",
                                          "error_message": "销售代表须在花名册中 / Rep id must be in the roster", **msg})
            elif col.ref in refs:
                ws.data_validation(*rng, {"validate": "list", "source": "=" + refs[col.ref][0],
                                          "error_type": "information",
                                          "error_message": "本工作簿中没有这个编号；若已在其他团队文件中登记可继续 / "
                                                           "Not filed in this workbook; fine if another team's file has it",
                                          **msg})
            elif col.type == "date":
                ws.data_validation(*rng, {"validate": "date", "criteria": "between",
                                          "minimum": date(2000, 1, 1), "maximum": date(2099, 12, 31),
                                          "error_message": "请输入日期，如 2026-11-03 / Enter a date", **msg})
            elif col.type in ("money", "number", "int", "pct"):
                rule = _number_rule(col)
                if rule is not None:
                    ws.data_validation(*rng, {**rule, **msg})
    _write_guide(wb, guide, schemas)
    sheets[schemas[0].name].activate()
    wb.close()


def _number_rule(col: ColumnSpec) -> dict | None:
    """The Excel validation of a number column: the range salesbook checks, as the user types it."""
    kind = "integer" if col.type == "int" else "decimal"
    if col.type == "pct":  # salesbook reads 0.1, 10% and 10 alike: allow 0–100
        return {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
                "error_message": "请输入百分比，如 10% 或 10 / Enter a percentage, e.g. 10% or 10"}
    lo = col.min_exclusive if col.min_exclusive is not None else col.min
    hi = WAN_MAX if col.unit == "wan" and col.max is None else col.max
    message = ("请按万元填写，如 50 表示 50 万元 / Enter 10k CNY, e.g. 50 for 500,000 CNY" if col.unit == "wan"
               else "请输入有效数字 / Enter a valid number")
    if hi is not None and lo is not None:
        opts = {"criteria": "between", "minimum": lo, "maximum": hi}
    elif col.min_exclusive is not None:
        opts = {"criteria": ">", "value": col.min_exclusive}
    elif lo is not None:
        opts = {"criteria": ">=", "value": lo}
    else:
        return None
    return {"validate": kind, **opts, "error_message": message}


def _write_guide(wb, ws, schemas: list[SheetSchema]) -> None:
    """说明: how to fill in the workbook, Chinese first, then one example row per sheet."""
    title = wb.add_format({"bold": True, "font_size": 14})
    section = wb.add_format({"bold": True, "font_color": "#1F4E78", "font_size": 12})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    required = wb.add_format({"bold": True, "bg_color": "#F8CBAD", "border": 1})
    cell = wb.add_format({"border": 1, "font_color": "#404040"})
    datef = wb.add_format({"border": 1, "font_color": "#404040", "num_format": "yyyy-mm-dd"})
    ws.set_row(0, 22)
    ws.write_string(0, 0, "团队工作簿填写说明 How to fill in this workbook", title)
    r = 2
    for line in INSTRUCTIONS_ZH:
        ws.write_string(r, 0, line)
        r += 1
    r += 1
    for line in INSTRUCTIONS_EN:
        ws.write_string(r, 0, line)
        r += 1
    r += 1
    widths: dict[int, float] = {}
    for schema in schemas:
        ws.write_string(r, 0, f"「{schema.zh}」示例 Example: {schema.en}", section)
        r += 1
        example = EXAMPLES.get(schema.name, {})
        for j, col in enumerate(schema.columns):
            ws.write_string(r, j, col.zh, required if col.required else head)
            widths[j] = max(widths.get(j, 10), _width(col.zh))
            value = example.get(col.key)
            if isinstance(value, date):
                ws.write_datetime(r + 1, j, datetime(value.year, value.month, value.day), datef)
            elif isinstance(value, int | float):
                ws.write_number(r + 1, j, value, cell)
            elif value is not None:
                ws.write_string(r + 1, j, str(value), cell)
                widths[j] = max(widths[j], _width(str(value)))
            else:
                ws.write_blank(r + 1, j, None, cell)
        r += 3
    for j, w in widths.items():
        ws.set_column(j, j, w)
