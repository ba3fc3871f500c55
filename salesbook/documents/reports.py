"""Sales reports per rep or per team: a self-contained HTML page and an .xlsx with one sheet per table.

Report context (a plain dict per report; see ``ReportContext``)::

    {
      "title": "2026年11月 销售月报",
      "period": "2026-11",                       # or "2026-W47", "2026-Q4"
      "scope": "rep" | "team",
      "name": "张伟",                            # the rep's or the team's name
      "as_of": date | "2026-11-30" | None,       # optional (default None)
      "activities_by_type": {"拜访": 12, "电话": 30, ...},
      "new_customers": 3,
      "pipeline_by_stage": {"方案": (count, amount, weighted), ...}
                                                  # or {"count":, "amount":, "weighted":} per stage
      "revenue": number, "revenue_target": number | None,
      "collections": number, "collections_target": number | None,
      "revenue_attainment": number | None,      # optional; default actual / target. A team's is over
      "collections_attainment": number | None,  # the reps that have that target (like with like)
      "overdue_follow_ups": [{"customer_id", "customer_name", "contact", "phone", "grade",
                              "days_since", "cadence"}],
      "overdue_orders": [{"order_id", "contract_id", "customer_name", "promised", "days_overdue",
                          "status"}],
      "open_complaints": [{"ticket_id", "customer_name", "contact", "phone", "email" (optional),
                           "received", "category", "handler", "days_open"}],
      "findings_count": {"error": int, "warning": int, "info": int},
      "members": [{"rep_id", "name", "revenue", "collections", "new_customers", "activities",
                   "attainment", "score", "rating"}],  # optional; shown for scope "team"
      "top_findings": [{"severity", "where", "code", "message"}],  # optional: the first few findings
      "commission": None | {"plan", "description", "base_label", "base", "target", "position",
                            "lines": [{"kind", "label", "rate", "portion", "amount"}],
                            "total", "held", "capped", "note"},
                                                  # optional (default None): the period's commission
                                                  # and the tiers it crossed (see documents.statements)
      "trend": [{"period", "score", "revenue_pct", "collections_pct", "closed"}],
                                                  # optional: the rep's last six periods, oldest first;
                                                  # score in points, attainments in percent, None = gap
    }

"pipeline_by_stage" is the open pipeline (no won or lost opportunities) when built by salesbook.

Numbers may be Decimal, int, float or text. Phone numbers and e-mails are masked in every
output: the template applies mask_phone / mask_email, and the rows are masked before rendering
and before writing the workbook, so an edited template cannot leak them either — in their own
columns and inside any free text (contact, handler, category, summary, …).
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

import jinja2
import xlsxwriter

from ..io.atomic import atomic_output
from ..io.writers import xlsx_text
from .env import check_context, checked_env, clean_data, parse_checked, render_guard
from .filters import mask_contacts_in_text, mask_email, mask_phone, to_decimal

__all__ = [
    "ReportContext",
    "ReportRenderer",
    "default_report_template",
    "normalise_report_context",
    "render_report_html",
    "write_report_xlsx",
]

OPTIONAL_KEYS: dict[str, Any] = {"as_of": None, "members": [], "commission": None, "trend": [], "top_findings": []}
MEMBER_KEYS = ("attainment", "score", "rating")  # optional in a member row; None when not given
TABLES = ("overdue_follow_ups", "overdue_orders", "open_complaints")
_PHONE_KEYS = {"phone", "mobile", "tel", "telephone", "contact_phone"}
_EMAIL_KEYS = {"email", "e_mail", "mail"}


class ReportContext(TypedDict):
    """What the report template is rendered with (see the module docstring)."""

    title: str
    period: str
    scope: Literal["rep", "team"]
    name: str
    as_of: NotRequired[Any]
    activities_by_type: dict[str, int]
    new_customers: int
    pipeline_by_stage: dict[str, Any]
    revenue: Any
    revenue_target: Any
    collections: Any
    collections_target: Any
    revenue_attainment: NotRequired[Any]
    collections_attainment: NotRequired[Any]
    overdue_follow_ups: list[dict[str, Any]]
    overdue_orders: list[dict[str, Any]]
    open_complaints: list[dict[str, Any]]
    findings_count: dict[str, int]
    members: NotRequired[list[dict[str, Any]]]
    commission: NotRequired[dict[str, Any] | None]
    trend: NotRequired[list[dict[str, Any]]]
    top_findings: NotRequired[list[dict[str, Any]]]


def default_report_template() -> Path:
    """The shipped HTML report template."""
    here = Path(__file__).resolve()
    for candidate in (
        here.parents[2] / "templates" / "report.html.j2",
        here.parents[1] / "_shipped" / "templates" / "report.html.j2",
    ):
        if candidate.exists():
            return candidate
    raise FileNotFoundError("report template report.html.j2 not found next to the salesbook package")


def own_passages() -> tuple[str, ...]:
    """salesbook's own text that finding messages quote (the format hints with their example numbers):
    never masked as if it were a customer's phone or e-mail."""
    from ..core.table import PATTERN_HINTS

    return tuple(text for hint in PATTERN_HINTS.values() for text in hint.values())


def _masked_row(row: Mapping[str, Any], keep: Sequence[str] = ()) -> dict[str, Any]:
    out = dict(row)
    for key, value in row.items():
        folded = str(key).casefold()
        if folded in _PHONE_KEYS:
            out[key] = mask_phone(value)
        elif folded in _EMAIL_KEYS:
            out[key] = mask_email(value)
        elif not (folded == "id" or folded.endswith("_id")):  # ids stay as they are, to be found again
            out[key] = mask_contacts_in_text(value, keep)
    return out


def _stage(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {"count": value["count"], "amount": value["amount"], "weighted": value["weighted"]}
    count, amount, weighted = value
    return {"count": count, "amount": amount, "weighted": weighted}


def normalise_report_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the context with optional keys filled, pipeline stages as dicts and contacts masked
    (bidi overrides and layout controls in the data dropped, as in contracts)."""
    ctx = {**{k: (list(v) if isinstance(v, list) else v) for k, v in OPTIONAL_KEYS.items()}, **clean_data(context)}
    for kpi in ("revenue", "collections"):  # a context without them (an older caller): actual / target
        if ctx.get(f"{kpi}_attainment") is None:
            ctx[f"{kpi}_attainment"] = _attainment(ctx.get(kpi), ctx.get(f"{kpi}_target"))
    if isinstance(ctx.get("pipeline_by_stage"), Mapping):
        ctx["pipeline_by_stage"] = {stage: _stage(v) for stage, v in ctx["pipeline_by_stage"].items()}
    for key in TABLES:
        if isinstance(ctx.get(key), Sequence):
            ctx[key] = [_masked_row(row) for row in ctx[key]]
    if isinstance(ctx.get("top_findings"), Sequence):  # messages may quote a cell's phone or e-mail
        ctx["top_findings"] = [_masked_row(row, own_passages()) for row in ctx["top_findings"]]
    if isinstance(ctx.get("members"), Sequence):
        ctx["members"] = [{**dict.fromkeys(MEMBER_KEYS), **_masked_row(row)} for row in ctx["members"]]
    return ctx


_compiled: weakref.WeakKeyDictionary[
    jinja2.Environment, dict[tuple[Path, float], tuple[jinja2.Template, set[str]]]
]
_compiled = weakref.WeakKeyDictionary()


def _load(template: Path, env: jinja2.Environment) -> tuple[jinja2.Template, set[str]]:
    """Compile a template once per environment and file version."""
    from jinja2 import meta

    cache = _compiled.setdefault(env, {})
    key = (template.resolve(), template.stat().st_mtime)
    if key not in cache:
        ast = parse_checked(env, template.read_text(encoding="utf-8"), template)
        compiled = render_guard(template, lambda: env.from_string(ast))  # type: ignore[arg-type]
        cache[key] = (compiled, set(meta.find_undeclared_variables(ast)) - set(env.globals))
    return cache[key]


class ReportRenderer:
    """One report template, compiled once, rendering report contexts to HTML pages."""

    def __init__(self, template: str | Path | None = None, env: jinja2.Environment | None = None) -> None:
        self.path = Path(template) if template is not None else default_report_template()
        self.env = checked_env(env)
        self._compiled, self.required = _load(self.path, self.env)

    def render(self, context: Mapping[str, Any]) -> str:
        ctx = normalise_report_context(context)
        check_context(self.required, ctx, self.path)
        return render_guard(self.path, lambda: self._compiled.render(ctx))


def report_renderer(template: str | None, env: jinja2.Environment | None) -> ReportRenderer:
    """What the render worker builds (a module-level function, so a spawned worker can be given it)."""
    return ReportRenderer(template, env)


def render_report_html(
    context: Mapping[str, Any], *, template: str | Path | None = None, env: jinja2.Environment | None = None
) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG charts, no scripts, no network).

    Raises TemplateFieldMissing (naming the field and the template) when the context lacks a
    field the template uses, TemplateSecurityError when the template tries to leave the sandbox.
    Renders here, without the worker's limits: ``documents.from_run.write_reports`` uses the worker.
    """
    return ReportRenderer(template, env).render(context)


# --------------------------------------------------------------------------- xlsx


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(to_decimal(value))


def _attainment(actual: Any, target: Any) -> float | None:
    target_value = _number(target)
    if not target_value:
        return None
    return (_number(actual) or 0.0) / target_value


_SUMMARY = [
    ("scope", "范围 Scope", "text"),
    ("name", "名称 Name", "text"),
    ("period", "周期 Period", "text"),
    ("revenue", "签约额 Revenue", "money"),
    ("revenue_target", "签约目标 Revenue target", "money"),
    ("revenue_attainment", "签约完成率 Revenue attainment", "pct"),
    ("collections", "回款额 Collections", "money"),
    ("collections_target", "回款目标 Collections target", "money"),
    ("collections_attainment", "回款完成率 Collections attainment", "pct"),
    ("new_customers", "新客户 New customers", "int"),
    ("activities", "活动 Activities", "int"),
    ("pipeline_amount", "商机金额 Pipeline amount", "money"),
    ("pipeline_weighted", "加权商机 Weighted pipeline", "money"),
    ("overdue_follow_ups", "逾期跟进 Overdue follow-ups", "int"),
    ("overdue_orders", "逾期订单 Overdue orders", "int"),
    ("open_complaints", "未结投诉 Open complaints", "int"),
    ("findings_error", "错误 Errors", "int"),
    ("findings_warning", "警告 Warnings", "int"),
    ("findings_info", "提示 Info", "int"),
    ("commission", "提成 Commission", "money"),
]

_TABLE_SHEETS = [
    (
        "逾期跟进 Follow-ups",
        "overdue_follow_ups",
        [
            ("customer_id", "客户编号 Customer ID", "text"),
            ("customer_name", "客户 Customer", "text"),
            ("contact", "联系人 Contact", "text"),
            ("phone", "电话 Phone", "text"),
            ("grade", "等级 Grade", "text"),
            ("days_since", "未跟进天数 Days since", "int"),
            ("cadence", "周期 Cadence", "int"),
        ],
    ),
    (
        "逾期订单 Orders",
        "overdue_orders",
        [
            ("order_id", "订单编号 Order ID", "text"),
            ("contract_id", "合同编号 Contract ID", "text"),
            ("customer_name", "客户 Customer", "text"),
            ("promised", "承诺交期 Promised", "date"),
            ("days_overdue", "逾期天数 Days overdue", "int"),
            ("status", "状态 Status", "text"),
        ],
    ),
    (
        "未结投诉 Complaints",
        "open_complaints",
        [
            ("ticket_id", "投诉编号 Ticket ID", "text"),
            ("customer_name", "客户 Customer", "text"),
            ("contact", "联系人 Contact", "text"),
            ("phone", "电话 Phone", "text"),
            ("email", "邮箱 E-mail", "text"),
            ("received", "受理日期 Received", "date"),
            ("category", "类别 Category", "text"),
            ("handler", "处理人 Handler", "text"),
            ("days_open", "已开天数 Days open", "int"),
        ],
    ),
]


def _summary_row(ctx: Mapping[str, Any]) -> dict[str, Any]:
    pipeline = ctx.get("pipeline_by_stage") or {}
    findings = ctx.get("findings_count") or {}
    return {
        "scope": ctx.get("scope", ""),
        "name": ctx.get("name", ""),
        "period": ctx.get("period", ""),
        "revenue": ctx.get("revenue"),
        "revenue_target": ctx.get("revenue_target"),
        "revenue_attainment": ctx.get("revenue_attainment"),
        "collections": ctx.get("collections"),
        "collections_target": ctx.get("collections_target"),
        "collections_attainment": ctx.get("collections_attainment"),
        "new_customers": ctx.get("new_customers"),
        "activities": sum(int(v) for v in (ctx.get("activities_by_type") or {}).values()),
        "pipeline_amount": sum((_number(s["amount"]) or 0.0) for s in pipeline.values()),
        "pipeline_weighted": sum((_number(s["weighted"]) or 0.0) for s in pipeline.values()),
        "overdue_follow_ups": len(ctx.get("overdue_follow_ups") or []),
        "overdue_orders": len(ctx.get("overdue_orders") or []),
        "open_complaints": len(ctx.get("open_complaints") or []),
        "findings_error": findings.get("error", 0),
        "findings_warning": findings.get("warning", 0),
        "findings_info": findings.get("info", 0),
        "commission": (ctx.get("commission") or {}).get("total"),
    }


class _Sheet:
    """One formatted sheet: bold header, typed cells, widths, frozen header, filter."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, columns: list[tuple[str, str, str]], formats):
        self.sheet = book.add_worksheet(name)
        self.columns = columns
        self.formats = formats
        self.row = 1
        self.widths = [max(10, _display_width(label.split(" ")[0]) + 2, *(len(w) + 2 for w in label.split(" ")[1:]))
                       for _, label, _ in columns]
        for col, (_, label, _) in enumerate(columns):
            zh, _, en = label.partition(" ")
            self.sheet.write_string(0, col, f"{zh}\n{en}" if en else zh, formats["header"])

    def add(self, values: Mapping[str, Any]) -> None:
        for col, (key, _, kind) in enumerate(self.columns):
            value = values.get(key)
            self._cell(col, value, kind)
        self.row += 1

    def _cell(self, col: int, value: Any, kind: str) -> None:
        sheet, row, f = self.sheet, self.row, self.formats
        if value is None or value == "":
            sheet.write_blank(row, col, None)
            return
        if kind in ("money", "pct", "int", "score"):
            try:
                number = _number(value)
            except ValueError:
                number = None
            if number is not None:
                sheet.write_number(row, col, number, f[kind])
                return
        if kind == "date":
            when = value
            if isinstance(value, str):
                try:
                    when = dt.date.fromisoformat(value[:10])
                except ValueError:
                    when = value
            if isinstance(when, dt.datetime | dt.date):
                if not isinstance(when, dt.datetime):
                    when = dt.datetime(when.year, when.month, when.day)
                sheet.write_datetime(row, col, when, f["date"])
                self.widths[col] = max(self.widths[col], 12)
                return
        text = xlsx_text(str(value))
        # write_string never turns "=..." into a formula (no formula injection from data).
        sheet.write_string(row, col, text)
        self.widths[col] = min(60, max(self.widths[col], _display_width(text) + 2))

    def finish(self) -> None:
        for col, width in enumerate(self.widths):
            self.sheet.set_column(col, col, width)
        self.sheet.set_row(0, 33)
        self.sheet.freeze_panes(1, 2 if self.columns[:2] == _LEAD else 0)
        self.sheet.autofilter(0, 0, max(self.row - 1, 0), len(self.columns) - 1)
        keys = [key for key, _, _ in self.columns]
        if self.row > 1 and "rating" in keys:  # the same rating colours as the master workbook
            col = keys.index("rating")
            for rating, fmt in self.formats["ratings"].items():
                self.sheet.conditional_format(1, col, self.row - 1, col, {"type": "cell", "criteria": "==",
                                                                          "value": f'"{rating}"', "format": fmt})
        self.sheet.set_landscape()
        self.sheet.set_paper(9)
        self.sheet.fit_to_pages(1, 0)
        self.sheet.repeat_rows(0)


_LEAD = [("scope", "范围 Scope", "text"), ("report", "名称 Name", "text")]


def _rating_colours() -> dict[str, str]:
    from ..io.presentation import palettes

    return palettes().get("rating", {})


def _display_width(text: str) -> int:
    # CJK characters take two columns.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_report_xlsx(contexts: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Write the reports into one .xlsx: a summary row per report and one sheet per table.

    Sheets: 汇总 Summary (one row per context), 活动 Activities (name, type, count), 商机 Pipeline
    (name, stage, count, amount, weighted), 团队成员 Members (scope "team"), 逾期跟进 Follow-ups,
    逾期订单 Orders, 未结投诉 Complaints — each table row led by the report's scope and name.
    Phones and e-mails are masked; text is never written as a formula.
    """
    path = Path(path)
    with atomic_output(path) as tmp:
        _write_report_book(contexts, tmp)
    return path


def _write_report_book(contexts: Sequence[Mapping[str, Any]], path: Path) -> None:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    formats = {
        "header": book.add_format(
            {"bold": True, "bg_color": "#D9E2F3", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "money": book.add_format({"num_format": "#,##0.00"}),
        "pct": book.add_format({"num_format": "0.0%"}),
        "int": book.add_format({"num_format": "0"}),
        "score": book.add_format({"num_format": "0.00"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "ratings": {k: book.add_format({"bg_color": v}) for k, v in _rating_colours().items()},
    }
    lead = _LEAD
    normalised = [normalise_report_context(c) for c in contexts]

    summary = _Sheet(book, "汇总 Summary", _SUMMARY, formats)
    activities = _Sheet(
        book,
        "活动 Activities",
        [*lead, ("type", "类型 Type", "text"), ("count", "次数 Count", "int")],
        formats,
    )
    pipeline = _Sheet(
        book,
        "商机 Pipeline",
        [
            *lead,
            ("stage", "阶段 Stage", "text"),
            ("count", "数量 Count", "int"),
            ("amount", "金额 Amount", "money"),
            ("weighted", "加权金额 Weighted", "money"),
        ],
        formats,
    )
    members = _Sheet(
        book,
        "团队成员 Members",
        [
            *lead,
            ("rep_id", "销售代表 Rep ID", "text"),
            ("name", "姓名 Name", "text"),
            ("attainment", "综合达成率 Attainment", "pct"),
            ("score", "得分 Score", "score"),
            ("rating", "评级 Rating", "text"),
            ("revenue", "签约额 Revenue", "money"),
            ("collections", "回款额 Collections", "money"),
            ("new_customers", "新客户 New customers", "int"),
            ("activities", "活动 Activities", "int"),
        ],
        formats,
    )
    tables = [(key, _Sheet(book, name, [*lead, *columns], formats)) for name, key, columns in _TABLE_SHEETS]
    top = _Sheet(book, "问题 Findings", [*lead, ("severity", "级别 Severity", "text"), ("where", "位置 Where", "text"),
                                         ("code", "代码 Code", "text"), ("message", "说明 Message", "text")], formats)

    for ctx in normalised:
        head = {"scope": ctx.get("scope", ""), "report": ctx.get("name", "")}
        summary.add(_summary_row(ctx))
        for kind, count in (ctx.get("activities_by_type") or {}).items():
            activities.add({**head, "type": kind, "count": count})
        for stage, row in (ctx.get("pipeline_by_stage") or {}).items():
            pipeline.add({**head, "stage": stage, **row})
        for row in ctx.get("members") or []:
            members.add({**head, **row})
        for key, sheet in tables:
            for row in ctx.get(key) or []:
                sheet.add({**head, **_masked_row(row)})
        for row in ctx.get("top_findings") or []:
            top.add({**head, **row})

    for sheet in (summary, activities, pipeline, members, *(s for _, s in tables), top):
        sheet.finish()
    book.close()
