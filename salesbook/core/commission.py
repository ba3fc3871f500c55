"""Commissions (提成, SPEC §10): the master's plans, checked, and each rep's commission for a period.

A plan is the rows of one name in the 提成方案 sheet: a base (回款 collections or 签约 revenue,
the KPIs of SPEC §5), a tier basis (达成率 attainment = base / target, or 金额 the base in CNY),
tiers [From, To) and a method: 累进 progressive pays each tier's rate on the part of the base
inside it; 全额 whole pays the whole base at the rate of the tier that holds the position.
Every amount is Decimal; the commission is rounded half-up to the cent once, at the end.

A plan with any error in its rows (mixed Base/Basis/Method, overlapping or gapped tiers, a rate
outside 0–100 %, an unreadable bound) pays nothing: its reps get 0 and the findings say why.
Percentages are read plan by plan: text with % is always a percentage; plain numbers are fractions
when all of the plan's (bounds, or rates) are small enough, else all of them are percentages — so a
plan's rates 1, 2, 3 are 1 %, 2 %, 3 %, never 100 %, 2 %, 3 %. A plain rate the rule may have read
against the author's intent (0.5 next to 2 and 3, or a lone 1 = 100 %) is a `commission-rate-ambiguous` warning.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

import pandas as pd

from .dataset import records
from .findings import Finding, make_finding
from .parse import number_hint, number_text, parse_money
from .schema import load_schemas, normalize_name
from .scoring import dec
from .table import SheetTable

CENT = Decimal("0.01")
KPI_OF_BASE = {"Collections": "collections", "Revenue": "revenue"}
BASE_ZH = {"Collections": "回款", "Revenue": "签约"}
BASIS_ZH = {"Attainment": "达成率", "Amount": "金额"}
METHOD_ZH = {"Progressive": "累进", "Whole": "全额"}
KPI_ZH = {"collections": "回款额", "revenue": "销售额"}
COMMISSION_COLUMNS = ["rep_id", "name", "employee_id", "period", "plan", "base", "position", "commission",
                      "held", "capped"]
# Plain numbers of a 达成率 plan that are all at most this are fractions (Excel's 150 % is 1.5);
# otherwise they are percentages (150 means 150 %).
FRACTION_LIMIT = Decimal(10)
# The same rule for the rates of a plan: plain numbers all at most 1 are fractions (0.03 is 3 %),
# else every plain number of the plan's rates is a percentage (1, 2, 3 are 1 %, 2 %, 3 %).
RATE_FRACTION_LIMIT = Decimal(1)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def quantize(value: Decimal, places: Decimal = CENT) -> Decimal:
    """Half-up to `places`; in a wide context, so an absurd amount from a hostile file cannot raise."""
    with localcontext() as ctx:
        ctx.prec = 400
        return value.quantize(places, rounding=ROUND_HALF_UP)


def round_cent(value: Decimal) -> Decimal:
    return quantize(value, CENT)


@dataclass(frozen=True)
class Tier:
    """[lower, upper) in the plan's unit (a fraction of the target, or CNY); upper None = no limit."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal
    row: int

    def holds(self, position: Decimal) -> bool:
        return self.lower <= position and (self.upper is None or position < self.upper)


@dataclass(frozen=True)
class Plan:
    name: str
    base: str  # Collections | Revenue
    basis: str  # Attainment | Amount
    method: str  # Progressive | Whole
    tiers: tuple[Tier, ...]  # sorted by lower bound
    valid: bool
    rows: tuple[int, ...] = ()

    @property
    def kpi(self) -> str:
        return KPI_OF_BASE[self.base]

    def describe(self) -> str:
        return (f"{BASE_ZH[self.base]} {self.base} · {BASIS_ZH[self.basis]} {self.basis} · "
                f"{METHOD_ZH[self.method]} {self.method}")


@dataclass(frozen=True)
class Line:
    """One line of a commission: a tier's part, or the cap or hold adjustment. Lines sum to the total."""

    kind: str  # tier | cap | hold
    lower: Decimal | None = None  # the tier's bounds in the plan's unit
    upper: Decimal | None = None
    rate: Decimal | None = None
    portion: Decimal | None = None  # the CNY of the base this line pays on
    amount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Commission:
    rep_id: str
    plan: str = ""  # the plan name as assigned ("" = none)
    plan_valid: bool = False
    basis: str = ""
    kpi: str = ""  # collections | revenue
    base: Decimal | None = None
    target: Decimal | None = None
    position: Decimal | None = None
    raw: Decimal = Decimal(0)  # before cap, hold and rounding
    amount: Decimal = Decimal("0.00")
    held: bool = False
    capped: bool = False
    lines: tuple[Line, ...] = ()
    note: str = ""  # why there is no commission, for people


# ------------------------------------------------------------------ reading and checking the plans


def _plain_number(text: str) -> Decimal | None:
    try:
        t = number_text(unicodedata.normalize("NFKC", text))
    except ValueError:
        return None
    return Decimal(t) if _NUMBER.match(t) else None


def _is_percent_text(text: object) -> bool:
    return str(text).strip().endswith(("%", "％"))


def _rate(text: str, percents: bool) -> Decimal:
    """A rate as a fraction: "3%" is 3 %; a plain 3 is 3 % and 0.03 is 3 % — by the plan's rule (`percents`)."""
    t = unicodedata.normalize("NFKC", text).strip()
    n = _plain_number(t[:-1] if t.endswith("%") else t)
    if n is None:
        raise ValueError(text)
    return n / 100 if t.endswith("%") or percents else n


def _ambiguous_rate(typed: object, rate: Decimal, percents: bool, plain: list[Decimal]) -> dict[str, str]:
    """Message fields when a plain-number rate could mean another rate than the plan-wide rule reads, else {}.

    In a plan of percentages a plain 0 < n ≤ 1 (a 1 % typed 1, or a 3 % cell Excel stores as 0.03) is
    read as n %; in a plan of fractions a plain 1 is read as 100 %. Either may be meant the other way.
    """
    if _is_percent_text(typed):
        return {}
    n = _plain_number(str(typed))
    if n is None or n == 0 or n > 1:
        return {}
    shown = f"{(rate * 100).normalize():f}%"
    if percents:
        above = [f"{v.normalize():f}" for v in plain if v > RATE_FRACTION_LIMIT]
        zh, en = "、".join(above), ", ".join(above)
        return {"reading": shown, "suggest": f"{n.normalize():f}% / {(n * 100).normalize():f}%",
                "why_zh": f"同一方案有大于 1 的费率（{zh}），整个方案的数字费率都按百分数读",
                "why_en": f"the plan has rates above 1 ({en}), so all its plain-number rates are percentages"}
    if n == 1:
        return {"reading": shown, "suggest": "1% / 100%",
                "why_zh": "同一方案没有大于 1 的费率，整个方案的数字费率都按小数读（1 = 100%）",
                "why_en": "no rate of the plan is above 1, so all its plain-number rates are fractions (1 = 100 %)"}
    return {}


def _attainment_bound(text: str, fractions: bool) -> Decimal:
    t = text.strip().replace(" ", "").replace("％", "%")
    if t.endswith("%"):
        n = _plain_number(t[:-1])
        if n is None:
            raise ValueError(text)
        return n / 100
    n = _plain_number(t)
    if n is None:
        raise ValueError(text)
    return n if fractions else n / 100


def _amount_bound(text: str) -> Decimal:
    return dec(parse_money(text))


@dataclass
class _Rows:
    """The rows of one plan name, in sheet order."""

    name: str
    rows: list[dict] = field(default_factory=list)
    broken: bool = False  # a row with an error of the sheet checks (bad enum, missing cell, rate range)


def load_plans(table: SheetTable | None) -> tuple[dict[str, Plan], list[Finding]]:
    """Plans by normalised name, and the findings of SPEC §10's checks at their cells."""
    if table is None or not table.usable or table.frame is None:
        return {}, []
    out: list[Finding] = []
    cols = load_schemas()["commission_plans"]

    def finding(code: str, r: dict, key: str, value: object = None, **fmt) -> Finding:
        raw = r.get(key) if value is None else value
        return make_finding(code, file=table.file, sheet=table.sheet, row=int(r["_row"]), column=table.header(key),
                            cell=table.cell(key, int(r["_row"])), value=_show(raw), **fmt)

    groups: dict[str, _Rows] = {}
    for r in records(table.frame):
        name = r.get("plan")
        if name is None or str(name).strip() == "":
            continue  # required-missing already says so; the row belongs to no plan
        g = groups.setdefault(normalize_name(name), _Rows(str(name).strip()))
        g.rows.append(r)
        if int(r["_row"]) in table.error_rows:
            g.broken = True
    plans: dict[str, Plan] = {}
    for key, g in groups.items():
        first = g.rows[0]
        ok = not g.broken
        for r in g.rows[1:]:  # one plan, one Base, Tier Basis and Method
            for col in ("base", "tier_basis", "method"):
                if r.get(col) is None or first.get(col) is None or r[col] == first[col]:
                    continue
                enum = cols.column(col).enum
                out.append(finding("commission-plan-mixed", r, col, value=enum.zh(r[col]), plan=g.name,
                                   first_row=int(first["_row"]), first=enum.zh(first[col])))
                ok = False
        basis = first.get("tier_basis")
        base, method = first.get("base"), first.get("method")
        if basis is None or base is None or method is None:
            plans[key] = Plan(g.name, base or "Collections", basis or "Amount", method or "Progressive", (), False,
                              tuple(int(r["_row"]) for r in g.rows))
            continue
        fractions = True
        if basis == "Attainment":
            plain = [_plain_number(str(r[c])) for r in g.rows for c in ("tier_from", "tier_to")
                     if r.get(c) is not None and not _is_percent_text(r[c])]
            fractions = all(n is None or abs(n) <= FRACTION_LIMIT for n in plain)
        plain_rates = [_plain_number(str(r["rate"])) for r in g.rows
                       if r.get("rate") is not None and not _is_percent_text(r["rate"])]
        rate_percents = any(n is not None and n > RATE_FRACTION_LIMIT for n in plain_rates)
        plain_rates = [n for n in plain_rates if n is not None]
        tiers: list[Tier] = []
        for r in g.rows:
            bounds: dict[str, Decimal | None] = {"tier_from": None, "tier_to": None}
            bad = False
            for col in ("tier_from", "tier_to"):
                text = r.get(col)
                if text is None or str(text).strip() == "":
                    continue
                try:
                    value = (_attainment_bound(str(text), fractions) if basis == "Attainment"
                             else _amount_bound(str(text)))
                except (ValueError, InvalidOperation):
                    zh, en = (("百分比（如 80%）", "a percentage (e.g. 80%)") if basis == "Attainment"
                              else ("金额（如 100000）", "an amount (e.g. 100000)"))
                    out.append(finding("bad-type", r, col, type_zh=zh, type_en=en))
                    bad = True
                    continue
                if value < 0:
                    out.append(finding("out-of-range", r, col, limit="≥ 0"))
                    bad = True
                    continue
                bounds[col] = value
            lower, upper = bounds["tier_from"], bounds["tier_to"]
            if not bad and lower is not None and upper is not None and upper <= lower:
                out.append(finding("out-of-range", r, "tier_to", limit=f"> {_show(r.get('tier_from'))}"))
                bad = True
            rate = None
            if r.get("rate") is not None:
                try:
                    rate = _rate(str(r["rate"]), rate_percents).quantize(Decimal("1E-12")).normalize()
                except (ValueError, InvalidOperation):
                    out.append(finding("bad-type", r, "rate", type_zh="百分比（如 3%）", type_en="a percentage (e.g. 3%)",
                                       **number_hint(str(r["rate"]))))
                else:
                    if not 0 <= rate <= 1:
                        out.append(finding("out-of-range", r, "rate", limit="0%–100%"))
                        rate = None
                    else:
                        note = _ambiguous_rate(r["rate"], rate, rate_percents, plain_rates)
                        if note:
                            out.append(finding("commission-rate-ambiguous", r, "rate", plan=g.name, **note))
            if bad or lower is None or rate is None:
                ok = False
                continue
            tiers.append(Tier(lower, upper, rate, int(r["_row"])))
        tiers.sort(key=lambda t: (t.lower, t.row))
        for a, b in zip(tiers, tiers[1:], strict=False):
            rb = next(r for r in g.rows if int(r["_row"]) == b.row)
            if a.upper is None or a.upper > b.lower:
                out.append(finding("commission-tier-overlap", rb, "tier_from", plan=g.name,
                                   tier=tier_span(b.lower, b.upper, basis), other_row=a.row,
                                   other=tier_span(a.lower, a.upper, basis)))
                ok = False
            elif a.upper < b.lower:
                out.append(finding("commission-tier-gap", rb, "tier_from", plan=g.name,
                                   gap=tier_span(a.upper, b.lower, basis)))
                ok = False
        plans[key] = Plan(g.name, base, basis, method, tuple(tiers), ok, tuple(int(r["_row"]) for r in g.rows))
    return plans, out


def tier_span(lower: Decimal, upper: Decimal | None, basis: str) -> str:
    """A tier as people read it: [80%, 100%) for attainment, [100,000.00, ∞) for amount."""
    return f"[{_bound_text(lower, basis)}, {_bound_text(upper, basis) if upper is not None else '∞'})"


def _bound_text(value: Decimal, basis: str) -> str:
    if basis == "Attainment":
        return f"{(value * 100).normalize():f}%"
    return f"{value:,.2f}"


def _show(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def plan_assignments(roster: pd.DataFrame | None, roster_table: SheetTable | None, plans: dict[str, Plan],
                     default_plan: str, *, settings_table: SheetTable | None = None,
                     master_file: str = "") -> tuple[dict[str, str], list[Finding]]:
    """rep -> the plan name it is on (roster column, else commission.default_plan); unknown names as findings."""
    out: list[Finding] = []
    default = str(default_plan or "").strip()
    if default and normalize_name(default) not in plans:
        row, cell, column, sheet = 0, "", "commission.default_plan", "设置"
        if settings_table is not None and settings_table.frame is not None:
            sheet = settings_table.sheet
            for k, r in zip(settings_table.frame["key"], settings_table.frame["_row"], strict=True):
                if str(k).strip() == "commission.default_plan":
                    row, cell, column = int(r), settings_table.cell("value", int(r)), settings_table.header("value")
        out.append(make_finding("commission-plan-unknown", file=settings_table.file if settings_table else master_file,
                                sheet=sheet, row=row, column=column, cell=cell, value=default,
                                who="未填提成方案的销售代表", who_en="reps without a plan in the roster get"))
    assigned: dict[str, str] = {}
    if roster is None:
        return assigned, out
    for r in records(roster):
        own = r.get("commission_plan")
        name = str(own).strip() if own is not None and str(own).strip() else default
        if not name:
            continue
        assigned[r["rep_id"]] = name
        if own is not None and str(own).strip() and normalize_name(name) not in plans:
            file = roster_table.file if roster_table else master_file
            sheet = roster_table.sheet if roster_table else "花名册"
            out.append(make_finding(
                "commission-plan-unknown", file=file, sheet=sheet, row=int(r["_row"]),
                column=roster_table.header("commission_plan") if roster_table else "提成方案",
                cell=roster_table.cell("commission_plan", int(r["_row"])) if roster_table else "",
                value=name, rep_id=r["rep_id"], who=f"{r['rep_id']} ", who_en=f"{r['rep_id']} gets"))
    return assigned, out


# ------------------------------------------------------------------ the computation


def tier_amounts(plan: Plan, base: Decimal, scale: Decimal) -> list[tuple[Tier, Decimal, Decimal]]:
    """(tier, portion of the base in CNY, unrounded amount) of every tier that pays.

    `scale` turns the plan's bounds into CNY: the target for 达成率 plans, 1 for 金额 plans, so
    Σ rate × max(0, min(position, To) − From) × target is computed as rate × the CNY in the tier.
    """
    out = []
    if plan.method == "Progressive":
        for t in plan.tiers:
            lo = t.lower * scale
            hi = base if t.upper is None else min(base, t.upper * scale)
            portion = max(Decimal(0), hi - lo)
            if portion > 0:
                out.append((t, portion, t.rate * portion))
    else:
        for t in plan.tiers:
            # holds(base / scale), compared in CNY so no division rounds the edge
            if t.lower * scale <= base and (t.upper is None or base < t.upper * scale):
                out.append((t, base, t.rate * base))
                break
    return out


def compute_commission(rep_id: str, plan_name: str, plan: Plan | None, base: Decimal,
                       target: Decimal | None, *, held: bool = False, cap: Decimal | None = None) -> Commission:
    """One rep's commission: tier lines that sum (after rounding) to the total, then cap and hold lines."""
    if plan is None:
        return Commission(rep_id, plan_name, note="方案不存在 / no such plan")
    if not plan.valid:
        return Commission(rep_id, plan_name, basis=plan.basis, kpi=plan.kpi, base=base,
                          note="方案有误，不发放提成 / the plan has errors and pays nothing")
    if plan.basis == "Attainment":
        if target is None or target <= 0:
            return Commission(rep_id, plan_name, True, plan.basis, plan.kpi, base, None,
                              note="无目标，无法计算达成率 / no target, so no attainment")
        scale, position = target, base / target
    else:
        scale, position = Decimal(1), base
    parts = tier_amounts(plan, base, scale)
    raw = sum((a for *_, a in parts), Decimal(0))
    lines: list[Line] = []
    running, shown = Decimal(0), Decimal("0.00")
    for t, portion, amount in parts:  # cumulative rounding: the lines add up to round(raw) exactly
        running += amount
        now = round_cent(running)
        lines.append(Line("tier", t.lower, t.upper, t.rate, portion, now - shown))
        shown = now
    total = round_cent(raw)
    capped = False
    if held:
        if total:
            lines.append(Line("hold", amount=-total))
        total = Decimal("0.00")
    elif cap is not None and raw > cap:
        capped = True
        final = round_cent(cap)
        lines.append(Line("cap", amount=final - total))
        total = final
    return Commission(rep_id, plan_name, True, plan.basis, plan.kpi, base, target, position, raw, total,
                      held, capped, tuple(lines))


@dataclass
class CommissionRun:
    frame: pd.DataFrame
    results: dict[str, Commission]
    evidence: list[list]
    findings: list[Finding]


def score_commissions(cards: Iterable[dict], details: dict, plans: dict[str, Plan], assigned: dict[str, str],
                      period_label: str, settings, *, master_file: str = "",
                      roster_rows: dict[str, int] | None = None, roster_sheet: str = "花名册") -> CommissionRun:
    """Commissions of every scorecard rep for the period, with evidence rows and warnings.

    `details` maps a rep to its scoring detail (actuals, targets, the KPI rows, the deduction rows);
    `assigned` maps a rep to the name of its plan.
    """
    hold = bool(settings["commission.hold_on_violation"])
    cap_setting = settings["commission.cap"]
    cap = None if cap_setting is None else dec(cap_setting)
    rows, evidence, findings = [], [], []
    results: dict[str, Commission] = {}
    for card in cards:
        rid = card["rep_id"]
        d = details[rid]
        name = assigned.get(rid, "")
        plan = plans.get(normalize_name(name)) if name else None
        if not name:
            c = Commission(rid, "", note="未分配提成方案 / no commission plan")
        else:
            kpi = plan.kpi if plan is not None else ""
            base = d.actuals.get(kpi, Decimal(0)) if kpi else Decimal(0)
            target = d.targets.get(kpi) if kpi else None
            violations = len(d.deductions)
            c = compute_commission(rid, name, plan, base, target, held=hold and violations > 0, cap=cap)
            if plan is not None and plan.valid:
                for fl, sh, rw, v, _code in d.rows.get(kpi, []):
                    evidence.append([rid, period_label, "commission_base", fl, sh, rw, float(v), ""])
                if plan.basis == "Attainment" and c.position is None:
                    findings.append(make_finding(
                        "commission-no-target", file=master_file, sheet="目标", rep_id=rid, plan=name,
                        kpi_zh=KPI_ZH[kpi], kpi=kpi, period=period_label))
                elif c.held:
                    unheld = compute_commission(rid, name, plan, base, target, cap=cap).amount
                    findings.append(make_finding(
                        "commission-held", file=master_file, sheet=roster_sheet,
                        row=(roster_rows or {}).get(rid, 0), rep_id=rid, count=violations,
                        period=period_label, amount=f"{unheld:,.2f}"))
        results[rid] = c
        rows.append({
            "rep_id": rid, "name": card["name"], "employee_id": card["employee_id"], "period": period_label,
            "plan": c.plan, "base": None if c.base is None else float(c.base),
            "position": _position(c), "commission": float(c.amount), "held": c.held, "capped": c.capped,
        })
    frame = pd.DataFrame(rows, columns=COMMISSION_COLUMNS)
    frame["held"] = frame["held"].astype(bool)
    frame["capped"] = frame["capped"].astype(bool)
    return CommissionRun(frame, results, evidence, findings)


def _position(c: Commission) -> float | None:
    if c.position is None:
        return None
    return float(quantize(c.position, Decimal("0.0001") if c.basis == "Attainment" else CENT))


__all__ = ["COMMISSION_COLUMNS", "Commission", "CommissionRun", "Line", "Plan", "Tier", "compute_commission",
           "load_plans", "plan_assignments", "quantize", "tier_span", "round_cent", "score_commissions", "tier_amounts"]
