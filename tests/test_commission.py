"""Commissions (SPEC §10): plans checked at their cells, worked examples to the cent, properties.

Plans are read from a master workbook written here; the pipeline example consolidates a small team
folder and checks commissions.csv, the evidence, the HR export and consolidated.xlsx.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ROSTER_HEADER, TARGET_HEADER, write_workbook
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from salesbook.core.commission import Plan, Tier, compute_commission, tier_amounts
from salesbook.exports import write_consolidation, write_hr_export
from salesbook.io.presentation import sheet_look
from salesbook.pipeline import consolidate, read_master

D = date
PLAN_HEADER = ["方案", "基数", "档位依据", "下限", "上限", "费率", "计算方式"]
CUST = ["客户编号", "客户名称", "联系人", "联系电话", "负责销售", "建档日期"]
CON = ["合同编号", "客户编号", "合同金额", "折扣率", "法务审核", "财务审核", "主管授权", "签订日期", "状态", "负责销售"]
COL = ["回款编号", "合同编号", "回款日期", "回款金额"]
SET = ["键", "值", "说明"]

PROGRESSIVE = [  # collections by attainment, progressive
    ["回款累进", "回款", "达成率", "0%", "80%", "1%", "累进"],
    ["回款累进", "回款", "达成率", "80%", "100%", "2%", "累进"],
    ["回款累进", "回款", "达成率", "100%", "120%", "3%", "累进"],
    ["回款累进", "回款", "达成率", "120%", None, "4%", "累进"],
]
WHOLE = [  # signed revenue by amount, whole
    ["签约全额", "签约", "金额", 0, 100000, "1%", "全额"],
    ["签约全额", "签约", "金额", 100000, 300000, "2%", "全额"],
    ["签约全额", "签约", "金额", 300000, None, "3%", "全额"],
]


def master_book(path: Path, roster, plans, targets, settings_rows=()) -> Path:
    return write_workbook(path, {"设置": [SET, *settings_rows], "花名册": [ROSTER_HEADER + ["提成方案"], *roster],
                                 "提成方案": [PLAN_HEADER, *plans], "目标": [TARGET_HEADER, *targets]})


def rep(rid: str, plan: str | None) -> list:
    return [rid, f"代表{rid}", f"E{rid[1:]}", "一组", "华东", "李强", "在职", plan]


def blank(v):
    """NaN (a blank cell of the frame) as None."""
    return None if v is None or v != v else v


def hits(findings, *codes) -> list[tuple]:
    return sorted((f.sheet, f.row, f.column, f.cell, f.code) for f in findings if f.code in codes)


# ------------------------------------------------------------------ the hand-worked example


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """Eight reps, each on one case of SPEC §10; see test_hand_worked_commissions."""
    root = tmp_path_factory.mktemp("commission")
    roster = [rep("S001", "回款累进"), rep("S002", "签约全额"), rep("S003", "签约全额"), rep("S004", "回款累进"),
              rep("S005", "签约全额"), rep("S006", "签约全额"), rep("S007", None), rep("S008", "不存在的方案")]
    targets = [[r[0], "2026-11", 100000, None, None if r[0] == "S004" else 100000, None, None] for r in roster]
    settings_rows = [["commission.hold_on_violation", "是", ""], ["commission.cap", "20000", ""],
                     ["commission.default_plan", "签约全额", ""]]
    master = master_book(root / "master.xlsx", roster, PROGRESSIVE + WHOLE, targets, settings_rows)
    customers = [[f"C{i}", f"客户{i}有限公司", "张三", "13812345678", f"S00{i}", D(2026, 10, 1)] for i in range(1, 9)]
    signed = D(2026, 11, 10)
    contracts = [
        ["K1", "C1", 200000, 0, "通过", "通过", None, signed, "已签订", "S001"],
        ["K2", "C2", 100000, 0, "通过", "通过", None, signed, "已签订", "S002"],
        ["K3", "C3", 99999.99, 0, "通过", "通过", None, signed, "已签订", "S003"],
        ["K4", "C4", 50000, 0, "通过", "通过", None, signed, "已签订", "S004"],
        ["K5", "C5", 150000, 0, "通过", "通过", None, signed, "已签订", "S005"],
        # a signed contract with an unauthorised discount: a violation in the period (and not counted)
        ["K5B", "C5", 30000, "20%", "通过", "通过", None, signed, "已签订", "S005"],
        ["K6", "C6", 1000000, 0, "通过", "通过", None, signed, "已签订", "S006"],
        ["K7", "C7", 50000.50, 0, "通过", "通过", None, signed, "已签订", "S007"],
        ["K8", "C8", 10000, 0, "通过", "通过", None, signed, "已签订", "S008"],
    ]
    collections = [["P1", "K1", D(2026, 11, 12), 100000], ["P2", "K1", D(2026, 11, 20), 12345.67],
                   ["P3", "K4", D(2026, 11, 15), 30000], ["P4", "K1", D(2026, 10, 20), 5000]]
    write_workbook(root / "team" / "a.xlsx", {"客户": [CUST, *customers], "合同": [CON, *contracts],
                                              "回款": [COL, *collections]})
    c = consolidate(root / "team", master=master, period="2026-11")
    return root, c


def test_hand_worked_commissions(example) -> None:
    """Each rep's commission matches SPEC §10 worked by hand, to the cent.

    S001, progressive on collections by attainment, target 100,000, collections 112,345.67 (the
    October payment is out of period): [0, 80%) 80,000 × 1% = 800; [80%, 100%) 20,000 × 2% = 400;
    [100%, 120%) 12,345.67 × 3% = 370.3701 → 1,570.37. S002: revenue 100,000.00 is the edge of the
    whole plan's second tier (From is inclusive) → 2% = 2,000.00. S003: 99,999.99 is still in the
    first tier → 1% = 999.9999 → 1,000.00. S004 has no collections target → 0 (commission-no-target).
    S005: 150,000 → 2% = 3,000.00, but an unauthorised discount holds it at 0. S006: 1,000,000 → 3% =
    30,000 → capped at 20,000.00. S007 has no plan in the roster, so commission.default_plan (the
    whole plan) applies: 50,000.50 × 1% = 500.005 → 500.01 (half-up). S008 names no existing plan → 0.
    """
    _, c = example
    got = {r["rep_id"]: (r["plan"], blank(r["base"]), blank(r["position"]), r["commission"], r["held"], r["capped"])
           for r in c.commissions.to_dict("records")}
    assert got == {
        "S001": ("回款累进", 112345.67, 1.1235, 1570.37, False, False),
        "S002": ("签约全额", 100000.0, 100000.0, 2000.0, False, False),
        "S003": ("签约全额", 99999.99, 99999.99, 1000.0, False, False),
        "S004": ("回款累进", 30000.0, None, 0.0, False, False),
        "S005": ("签约全额", 150000.0, 150000.0, 0.0, True, False),
        "S006": ("签约全额", 1000000.0, 1000000.0, 20000.0, False, True),
        "S007": ("签约全额", 50000.5, 50000.5, 500.01, False, False),
        "S008": ("不存在的方案", None, None, 0.0, False, False),
    }
    assert c.commission_results["S001"].amount == Decimal("1570.37")
    lines = c.commission_results["S001"].lines
    assert [(ln.lower, ln.upper, ln.rate, ln.portion, ln.amount) for ln in lines] == [
        (Decimal("0"), Decimal("0.8"), Decimal("0.01"), Decimal("80000.0"), Decimal("800.00")),
        (Decimal("0.8"), Decimal("1"), Decimal("0.02"), Decimal("20000.0"), Decimal("400.00")),
        (Decimal("1"), Decimal("1.2"), Decimal("0.03"), Decimal("12345.67"), Decimal("370.37")),
    ]


def test_warnings_for_no_target_held_and_unknown_plan(example) -> None:
    """commission-no-target, commission-held and commission-plan-unknown name the rep and where to look."""
    _, c = example
    found = {f.code: f for f in c.run.findings if f.code.startswith("commission-")}
    assert set(found) == {"commission-no-target", "commission-held", "commission-plan-unknown"}
    assert found["commission-no-target"].rep_id == "S004" and found["commission-no-target"].severity == "warning"
    held = found["commission-held"]
    assert (held.rep_id, held.severity, held.sheet, held.row) == ("S005", "warning", "花名册", 6)
    assert "3,000.00" in held.message
    unknown = found["commission-plan-unknown"]
    assert (unknown.sheet, unknown.row, unknown.cell, unknown.rep_id, unknown.severity) == (
        "花名册", 9, "H9", "S008", "error")


def test_outputs_carry_the_commission(example, tmp_path) -> None:
    """commissions.csv, its evidence rows, the 提成 sheet and the HR export agree to the cent."""
    root, c = example
    out = tmp_path / "out"
    write_consolidation(c, out)
    with open(out / "commissions.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["rep_id", "name", "employee_id", "period", "plan", "base", "position", "commission",
                             "held", "capped"]
    paid = {r["rep_id"]: r["commission"] for r in rows}
    assert paid["S001"] == "1570.37" and paid["S005"] == "0.0" and rows[4]["held"] == "TRUE"
    with open(out / "evidence.csv", encoding="utf-8-sig", newline="") as fh:
        ev = [r for r in csv.DictReader(fh) if r["kpi"] == "commission_base"]
    s001 = sorted((r["sheet"], int(r["row"]), float(r["value"])) for r in ev if r["rep_id"] == "S001")
    assert s001 == [("回款", 2, 100000.0), ("回款", 3, 12345.67)]
    assert {r["rep_id"] for r in ev} == {"S001", "S002", "S003", "S004", "S005", "S006", "S007"}
    sheet = load_workbook(out / "consolidated.xlsx", read_only=True)["提成"]
    table = list(sheet.iter_rows(values_only=True))
    look = sheet_look("提成", list(rows[0]))  # the sheet shows the CSV's columns, Chinese over English
    assert list(table[0]) == look.header and look.keys[:3] == ["rep_id", "name", "commission"]
    rep, paid_col = look.keys.index("rep_id"), look.keys.index("commission")
    assert {r[rep]: r[paid_col] for r in table[1:]}["S006"] == 20000
    hr = tmp_path / "hr"
    write_hr_export(c, hr)
    with open(hr / "scorecards_2026-11.csv", encoding="utf-8-sig", newline="") as fh:
        exported = {r["employee_id"]: r["commission"] for r in csv.DictReader(fh)}
    assert exported == {f"E{rid[1:]}": v for rid, v in paid.items()}
    book = load_workbook(hr / "scorecards_2026-11.xlsx", read_only=True)
    head, *body = list(book.worksheets[0].iter_rows(values_only=True))
    j = head.index("提成\nCommission")
    assert [r[j] for r in body] == [float(v) for v in paid.values()]


def test_plan_rows_and_evidence_are_independent_of_the_violation_hold(example) -> None:
    """A held rep's base still lists its rows as evidence: the hold changes the pay, not the base."""
    _, c = example
    ev = c.evidence
    s005 = ev[(ev["rep_id"] == "S005") & (ev["kpi"] == "commission_base")]
    assert list(s005["value"]) == [150000.0]
    assert c.commission_results["S005"].lines[-1].kind == "hold"
    assert sum(ln.amount for ln in c.commission_results["S005"].lines) == Decimal("0.00")


# ------------------------------------------------------------------ the plan sheet's checks


def test_plan_sheet_problems_are_findings_at_their_cells_and_those_plans_pay_nothing(tmp_path) -> None:
    """Overlap, gap, mixed Base/Basis/Method, a rate above 100 %, To below From, an unreadable bound and
    unknown plan names are findings at their cells; only the clean plan pays."""
    plans = [
        ["重叠", "回款", "达成率", "0%", "100%", "1%", "累进"],          # row 2
        ["重叠", "回款", "达成率", "80%", None, "2%", "累进"],           # row 3: overlaps row 2
        ["缺口", "签约", "金额", 0, 100000, "1%", "全额"],              # row 4
        ["缺口", "签约", "金额", 200000, None, "2%", "全额"],           # row 5: gap 100,000–200,000
        ["混合", "回款", "达成率", "0%", "100%", "1%", "累进"],          # row 6
        ["混合", "签约", "达成率", "100%", None, "2%", "全额"],          # row 7: Base and Method differ
        ["超率", "签约", "金额", 0, None, "150%", "全额"],              # row 8: rate above 100 %
        ["倒置", "签约", "金额", 50000, 10000, "1%", "全额"],           # row 9: To below From
        ["坏值", "签约", "金额", "十万", None, "1%", "全额"],            # row 10: unreadable From
        ["合格", "签约", "金额", 0, None, "2%", "全额"],                # row 11
    ]
    roster = [rep("S001", "重叠"), rep("S002", "合格"), rep("S003", "没有这个")]
    targets = [[r[0], "2026-11", 100000, None, 100000, None, None] for r in roster]
    master = master_book(tmp_path / "master.xlsx", roster, plans, targets,
                         [["commission.default_plan", "也没有", ""]])
    m = read_master(master)
    assert hits(m.findings, "commission-tier-overlap", "commission-tier-gap", "commission-plan-mixed",
                "out-of-range", "bad-type", "commission-plan-unknown") == [
        ("提成方案", 3, "下限", "D3", "commission-tier-overlap"),
        ("提成方案", 5, "下限", "D5", "commission-tier-gap"),
        ("提成方案", 7, "基数", "B7", "commission-plan-mixed"),
        ("提成方案", 7, "计算方式", "G7", "commission-plan-mixed"),
        ("提成方案", 8, "费率", "F8", "out-of-range"),
        ("提成方案", 9, "上限", "E9", "out-of-range"),
        ("提成方案", 10, "下限", "D10", "bad-type"),
        ("花名册", 4, "提成方案", "H4", "commission-plan-unknown"),
        ("设置", 2, "值", "B2", "commission-plan-unknown"),
    ]
    assert {p.name: p.valid for p in m.plans.values()} == {
        "重叠": False, "缺口": False, "混合": False, "超率": False, "倒置": False, "坏值": False, "合格": True}
    gap = next(f for f in m.findings if f.code == "commission-tier-gap")
    assert "100,000.00" in gap.message and "200,000.00" in gap.message
    customers = [[f"C{i}", f"客户{i}", "张三", "13812345678", f"S00{i}", D(2026, 10, 1)] for i in (1, 2)]
    contracts = [["K1", "C1", 50000, 0, "通过", "通过", None, D(2026, 11, 3), "已签订", "S001"],
                 ["K2", "C2", 50000, 0, "通过", "通过", None, D(2026, 11, 3), "已签订", "S002"]]
    collections = [["P1", "K1", D(2026, 11, 5), 50000]]
    write_workbook(tmp_path / "team" / "a.xlsx", {"客户": [CUST, *customers], "合同": [CON, *contracts],
                                                  "回款": [COL, *collections]})
    c = consolidate(tmp_path / "team", master=master, period="2026-11")
    paid = dict(zip(c.commissions["rep_id"], c.commissions["commission"], strict=True))
    assert paid == {"S001": 0.0, "S002": 1000.0, "S003": 0.0}
    assert "errors" in c.commission_results["S001"].note


def test_percentages_written_as_fractions_or_as_numbers_read_alike(tmp_path) -> None:
    """A 达成率 plan's plain numbers are fractions when all are at most 10 (Excel's 150% is 1.5), else percents."""
    from salesbook.core.commission import load_plans
    from salesbook.core.schema import load_schemas
    from salesbook.core.table import CheckContext, build_table

    rows = [PLAN_HEADER,
            ["分数", "回款", "达成率", 0, 0.8, 0.01, "累进"], ["分数", "回款", "达成率", 0.8, 1.5, 0.02, "累进"],
            ["分数", "回款", "达成率", 1.5, None, 0.03, "累进"],
            ["百分", "回款", "达成率", 0, 80, "1%", "累进"], ["百分", "回款", "达成率", 80, 150, 2, "累进"],
            ["百分", "回款", "达成率", "150%", None, "3%", "累进"]]
    table = build_table(load_schemas()["commission_plans"], "提成方案", rows, CheckContext(file="m.xlsx"))
    plans, findings = load_plans(table)
    assert findings == []
    bounds = {p.name: [(t.lower, t.upper, t.rate) for t in p.tiers] for p in plans.values()}
    assert bounds["分数"] == bounds["百分"] == [
        (Decimal("0"), Decimal("0.8"), Decimal("0.01")), (Decimal("0.8"), Decimal("1.5"), Decimal("0.02")),
        (Decimal("1.5"), None, Decimal("0.03"))]


# ------------------------------------------------------------------ the computation, to the cent


def plan(method: str, basis: str, tiers: list[tuple], base: str = "Collections") -> Plan:
    return Plan("p", base, basis, method, tuple(Tier(Decimal(lo), None if hi is None else Decimal(hi), Decimal(r), i)
                                                for i, (lo, hi, r) in enumerate(tiers, start=2)), True)


def test_whole_plan_on_each_side_of_a_tier_edge_on_attainment() -> None:
    """A whole 达成率 plan: 99.99 % of target pays the lower rate on everything, 100 % the upper one."""
    p = plan("Whole", "Attainment", [("0", "1", "0.02"), ("1", None, "0.05")])
    below = compute_commission("R", "p", p, Decimal("99990"), Decimal("100000"))
    edge = compute_commission("R", "p", p, Decimal("100000"), Decimal("100000"))
    assert (below.amount, below.position) == (Decimal("1999.80"), Decimal("0.9999"))
    assert (edge.amount, edge.position) == (Decimal("5000.00"), Decimal("1"))


def test_amounts_round_half_up_at_the_end_and_lines_still_add_up() -> None:
    """Two tiers of 5.005 each make 10.01 (not 10.02): rounding happens once, and the lines sum to it."""
    p = plan("Progressive", "Amount", [("0", "100.1", "0.05"), ("100.1", None, "0.05")])
    c = compute_commission("R", "p", p, Decimal("200.2"), None)
    assert c.raw == Decimal("10.010") and c.amount == Decimal("10.01")
    assert [ln.amount for ln in c.lines] == [Decimal("5.01"), Decimal("5.00")]
    whole = plan("Whole", "Amount", [("0", None, "0.01")])
    assert compute_commission("R", "p", whole, Decimal("100.5"), None).amount == Decimal("1.01")  # 1.005 → 1.01
    assert compute_commission("R", "p", whole, Decimal("100.4"), None).amount == Decimal("1.00")


def test_cap_and_hold_are_lines_that_keep_the_sum() -> None:
    """A capped commission ends with a cap line, a held one with a hold line; the lines sum to the total."""
    p = plan("Progressive", "Amount", [("0", "10000", "0.1"), ("10000", None, "0.2")])
    capped = compute_commission("R", "p", p, Decimal("50000"), None, cap=Decimal("5000"))
    assert (capped.raw, capped.amount, capped.capped) == (Decimal("9000.0"), Decimal("5000.00"), True)
    assert [ln.kind for ln in capped.lines] == ["tier", "tier", "cap"]
    assert sum(ln.amount for ln in capped.lines) == capped.amount
    held = compute_commission("R", "p", p, Decimal("50000"), None, held=True, cap=Decimal("5000"))
    assert (held.amount, held.held, held.capped, held.lines[-1].amount) == (Decimal("0.00"), True, False,
                                                                            Decimal("-9000.00"))
    under = compute_commission("R", "p", p, Decimal("20000"), None, cap=Decimal("5000"))
    assert (under.amount, under.capped) == (Decimal("3000.00"), False)


def test_position_outside_every_tier_pays_nothing_on_a_whole_plan() -> None:
    """Below the first From (and at or above a last To) no tier holds the position: 0, and no line."""
    p = plan("Whole", "Attainment", [("0.8", "1.5", "0.03")])
    assert compute_commission("R", "p", p, Decimal("70000"), Decimal("100000")).amount == Decimal("0.00")
    assert compute_commission("R", "p", p, Decimal("150000"), Decimal("100000")).lines == ()
    assert compute_commission("R", "p", p, Decimal("149999"), Decimal("100000")).amount == Decimal("4499.97")


def test_zero_target_is_no_target() -> None:
    """An attainment plan with a target of 0 (or none) pays 0 and has no position."""
    p = plan("Progressive", "Attainment", [("0", None, "0.05")])
    for target in (None, Decimal(0)):
        c = compute_commission("R", "p", p, Decimal("1000"), target)
        assert (c.amount, c.position, c.lines) == (Decimal("0.00"), None, ())


# ------------------------------------------------------------------ properties

bounds_st = st.lists(st.integers(min_value=1, max_value=2000), min_size=0, max_size=5, unique=True).map(sorted)
rate_st = st.integers(min_value=0, max_value=10000).map(lambda n: Decimal(n) / 10000)
money_st = st.integers(min_value=0, max_value=10**10).map(lambda n: Decimal(n) / 100)


@st.composite
def plans(draw, method: str):
    """Contiguous tiers from 0 (attainment bounds in %, amount bounds in thousands of CNY)."""
    basis = draw(st.sampled_from(["Attainment", "Amount"]))
    cuts = draw(bounds_st)
    unit = Decimal("0.01") if basis == "Attainment" else Decimal(1000)
    edges = [Decimal(0)] + [Decimal(c) * unit for c in cuts]
    last_open = draw(st.booleans())
    uppers = edges[1:] + ([None] if last_open else [edges[-1] + unit * 50])
    rates = [draw(rate_st) for _ in edges]
    return plan(method, basis, [(lo, hi, r) for lo, hi, r in zip(edges, uppers, rates, strict=True)])


@given(plans("Progressive"), money_st, money_st, st.integers(min_value=1, max_value=10**9))
@settings(max_examples=300, deadline=None)
def test_progressive_commission_never_falls_as_the_base_grows(p, a, b, target) -> None:
    """More base never means less progressive commission (before and after rounding)."""
    lo, hi = sorted((a, b))
    t = Decimal(target)
    first = compute_commission("R", "p", p, lo, t)
    second = compute_commission("R", "p", p, hi, t)
    assert first.raw <= second.raw and first.amount <= second.amount


@given(plans("Whole"), money_st, st.integers(min_value=1, max_value=10**9))
@settings(max_examples=300, deadline=None)
def test_whole_commission_is_the_rate_of_the_tier_holding_the_position_times_the_base(p, base, target) -> None:
    """Whole plan: the rate of the one tier that holds the position, times the whole base, rounded."""
    t = Decimal(target)
    c = compute_commission("R", "p", p, base, t)
    position = base / t if p.basis == "Attainment" else base
    holding = [tier for tier in p.tiers if tier.holds(position)]
    assert len(holding) <= 1
    expected = (holding[0].rate * base).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP") if holding \
        else Decimal("0.00")
    assert c.amount == expected
    assert sum(ln.amount for ln in c.lines) == c.amount


@given(plans("Progressive"), money_st, st.integers(min_value=1, max_value=10**9))
@settings(max_examples=200, deadline=None)
def test_progressive_lines_sum_to_the_total_and_match_the_spec_formula(p, base, target) -> None:
    """Σ rate × max(0, min(position, To) − From) × target, rounded once; the lines add up to it."""
    t = Decimal(target) if p.basis == "Attainment" else Decimal(1)
    c = compute_commission("R", "p", p, base, t)
    position = base / t
    raw = sum((tier.rate * max(Decimal(0), (position if tier.upper is None else min(position, tier.upper))
                               - tier.lower) * t for tier in p.tiers), Decimal(0))
    assert abs(raw - c.raw) < Decimal("1E-12")  # base / target is inexact in the formula, exact in CNY
    assert c.amount == c.raw.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert sum(ln.amount for ln in c.lines) == c.amount
    assert sum((amount for *_, amount in tier_amounts(p, base, t)), Decimal(0)) == c.raw


cell_st = st.one_of(st.none(), st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(min_value=-10**30, max_value=10**30), st.sampled_from(
                        ["回款", "签约", "达成率", "金额", "累进", "全额", "80%", "1.2万", "150%", "-5%", "1e400"]))


@given(st.lists(st.lists(cell_st, min_size=7, max_size=7), max_size=8),
       st.integers(min_value=0, max_value=10**30), st.one_of(st.none(), st.integers(min_value=0, max_value=10**30)))
@settings(max_examples=200, deadline=None)
def test_any_plan_sheet_reads_and_pays_without_raising(rows, base, target) -> None:
    """Arbitrary cells in 提成方案 give findings, never an exception, and any plan computes a commission."""
    from salesbook.core.commission import load_plans
    from salesbook.core.schema import load_schemas
    from salesbook.core.table import CheckContext, build_table

    table = build_table(load_schemas()["commission_plans"], "提成方案", [PLAN_HEADER, *rows],
                        CheckContext(file="m.xlsx"))
    plans, findings = load_plans(table)
    for p in plans.values():
        c = compute_commission("R", p.name, p, Decimal(base), None if target is None else Decimal(target),
                               cap=Decimal("5000"))
        assert c.amount >= 0 and sum(ln.amount for ln in c.lines) == c.amount
    assert all(f.cell for f in findings)


def test_statement_pages_show_hold_cap_and_missing_plans(example, tmp_path) -> None:
    """Each case's statement adds up to its commission and says why when there is none."""
    from salesbook.documents.statements import write_statements

    _, c = example
    written = write_statements(c, c.run.master.settings, tmp_path / "st", pdf=False)
    pages = {p.name.split("_")[2]: p.read_text("utf-8") for p in written.html}
    assert "违规暂扣" in pages["S005"] and "¥0.00" in pages["S005"]
    assert "封顶至 20,000.00" in pages["S006"] and "¥20,000.00" in pages["S006"]
    assert "无目标" in pages["S004"]
    assert "方案不存在" in pages["S008"]
    assert "[100%, 120%)" in pages["S001"] and "¥370.37" in pages["S001"] and "¥1,570.37" in pages["S001"]


def test_a_plans_plain_rates_are_read_together_and_ambiguous_ones_flagged(tmp_path) -> None:
    """Rates 1, 2, 3 of one plan are 1 %, 2 %, 3 % (any rate above 1 makes the plan's plain rates percents),
    0.01, 0.02, 1 are fractions (1 = 100 %); a plain rate the rule may misread gets a warning at its cell."""
    from salesbook.core.commission import load_plans
    from salesbook.core.schema import load_schemas
    from salesbook.core.table import CheckContext, build_table

    rows = [PLAN_HEADER,
            ["整数", "签约", "达成率", 0, 0.8, 1, "累进"], ["整数", "签约", "达成率", 0.8, 1, 2, "累进"],  # rows 2-3
            ["整数", "签约", "达成率", 1, None, 3, "累进"],
            ["分数", "签约", "金额", 0, 1000, 0.01, "累进"], ["分数", "签约", "金额", 1000, None, 1, "累进"],  # rows 5-6
            ["混写", "签约", "金额", 0, 1000, 0.5, "累进"], ["混写", "签约", "金额", 1000, None, 2, "累进"],  # rows 7-8
            ["明确", "签约", "金额", 0, 1000, "1%", "累进"], ["明确", "签约", "金额", 1000, None, 2, "累进"]]  # 9-10
    table = build_table(load_schemas()["commission_plans"], "提成方案", rows, CheckContext(file="m.xlsx"))
    plans, findings = load_plans(table)
    rates = {p.name: [t.rate for t in p.tiers] for p in plans.values()}
    assert rates == {"整数": [Decimal("0.01"), Decimal("0.02"), Decimal("0.03")],
                     "分数": [Decimal("0.01"), Decimal("1")],
                     "混写": [Decimal("0.005"), Decimal("0.02")],
                     "明确": [Decimal("0.01"), Decimal("0.02")]}
    assert all(p.valid for p in plans.values())
    assert hits(findings, "commission-rate-ambiguous") == [("提成方案", 2, "费率", "F2", "commission-rate-ambiguous"),
                                                          ("提成方案", 6, "费率", "F6", "commission-rate-ambiguous"),
                                                          ("提成方案", 7, "费率", "F7", "commission-rate-ambiguous")]
    by_row = {f.row: f for f in findings}
    assert by_row[2].severity == "warning" and "整数" in by_row[2].message and "1%" in by_row[2].message
    assert "100%" in by_row[6].message and "0.5%" in by_row[7].message


def test_a_plan_of_rates_1_2_3_pays_1_2_3_percent(tmp_path) -> None:
    """The tester's plan (达成率 0–80 % 1, 80–100 % 2, 100 %+ 3) on revenue 123,456.78 of a 100,000 target
    pays 80,000 × 1 % + 20,000 × 2 % + 23,456.78 × 3 % = 800 + 400 + 703.7034 = 1,903.70."""
    plans = [["PA", "签约", "达成率", 0, 0.8, 1, "累进"], ["PA", "签约", "达成率", 0.8, 1.0, 2, "累进"],
             ["PA", "签约", "达成率", 1.0, None, 3, "累进"]]
    master = master_book(tmp_path / "master.xlsx", [rep("S001", "PA")], plans,
                         [["S001", "2026-11", 100000, None, None, None, None]])
    write_workbook(tmp_path / "team" / "a.xlsx", {
        "客户": [CUST, ["C1", "甲公司", "张三", "13812345678", "S001", D(2026, 9, 2)]],
        "合同": [CON, ["K1", "C1", 123456.78, 0, "通过", "通过", None, D(2026, 11, 2), "已签订", "S001"]]})
    c = consolidate(tmp_path / "team", master=master, period="2026-11")
    assert c.commissions["commission"].tolist() == [1903.70]
    assert [f.cell for f in c.run.findings if f.code == "commission-rate-ambiguous"] == ["F2"]
