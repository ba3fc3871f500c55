"""KPIs, scores, ratings and pay coefficients of each rep for a period (SPEC §5), with evidence.

Money is summed as Decimal from each cell's shortest decimal form, so totals are exact to the cent;
the score is rounded half-up to 2 decimals only at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter

import numpy as np
import pandas as pd

from .activities import not_counted_rows
from .counted import CODE as COLLECTION_NOT_COUNTED
from .counted import uncounted_contracts
from .dataset import Dataset, records
from .findings import Finding, make_finding, select
from .periods import Period
from .rules import blank, contract_owners
from .settings import KPIS, Settings

SCORECARD_COLUMNS = [
    "rep_id", "name", "employee_id", "team", "period",
    "revenue", "revenue_target", "revenue_attainment",
    "volume", "volume_target", "volume_attainment",
    "collections", "collections_target", "collections_attainment",
    "new_customers", "new_customers_target", "new_customers_attainment",
    "activities", "activities_target", "activities_attainment",
    "base_score", "deductions", "score", "rating", "coefficient", "violations",
]
EVIDENCE_COLUMNS = ["rep_id", "period", "kpi", "file", "sheet", "row", "value", "code"]
KPI_ZH = {"revenue": "销售额", "volume": "销售量", "collections": "回款额", "new_customers": "新客户数",
          "activities": "有效活动数"}
CENT = Decimal("0.01")
NOT_COUNTED = "activity-not-counted"
_VALUE = itemgetter(3)  # an evidence item's value


def dec(value: object) -> Decimal:
    """A cell's number as Decimal via its shortest repr (1234.5 → Decimal('1234.5'))."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def round_half_up(value: Decimal, places: Decimal = CENT) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


def collect_kpis(ds: Dataset, period: Period, not_counted: set[tuple] | frozenset = frozenset()
                 ) -> dict[str, dict[str, list[tuple]]]:
    """rep -> kpi -> [(file, sheet, row, value, code)] of every contributing row (valid rows only).

    Activities in `not_counted` (file, sheet, row) are listed with value 0 and the code
    `activity-not-counted`, so the evidence shows the rows that did not count too (SPEC §11); so are
    collections on a contract that does not count (`collection-not-counted`, see core.counted).
    """
    ev: dict[str, dict[str, list[tuple]]] = {}

    def add(rep: str, kpi: str, r: dict, value: object) -> None:
        ev.setdefault(rep, {}).setdefault(kpi, []).append((r["_file"], r["_sheet"], int(r["_row"]), value, ""))

    def rows(frame: pd.DataFrame, mask, *keys: str):
        sub = frame[mask]
        return zip(*(sub[k].tolist() for k in ("_file", "_sheet", "_row", *keys)), strict=True)

    counted: dict[str, str] = {}
    c = ds.valid("contracts")
    signed = ((c["status"] == "Signed") & (c["legal_review"] == "Approved") & (c["finance_review"] == "Approved")
              ).to_numpy() & in_period(c["signed"], period)
    for fl, sh, rw, cid, rep, amount in rows(c, signed, "contract_id", "owner", "amount"):
        counted[cid] = rep
        ev.setdefault(rep, {}).setdefault("revenue", []).append((fl, sh, int(rw), dec(amount), ""))
    lines = ds.valid("contract_lines")
    for fl, sh, rw, cid, quantity in rows(lines, lines["contract_id"].isin(list(counted)).to_numpy(),
                                          "contract_id", "quantity"):
        ev.setdefault(counted[cid], {}).setdefault("volume", []).append((fl, sh, int(rw), dec(quantity), ""))
    owner = contract_owners(ds)
    uncounted = uncounted_contracts(ds)
    paid = ds.valid("collections")
    mask = paid["contract_id"].isin(list(owner)).to_numpy() & in_period(paid["date"], period)
    for fl, sh, rw, cid, amount in rows(paid, mask, "contract_id", "amount"):
        if cid in uncounted:  # money under a contract that does not count: shown as 0
            ev.setdefault(owner[cid], {}).setdefault("collections", []).append(
                (fl, sh, int(rw), Decimal(0), COLLECTION_NOT_COUNTED))
        else:
            ev.setdefault(owner[cid], {}).setdefault("collections", []).append((fl, sh, int(rw), dec(amount), ""))
    for name, date_col, rep_col, kpi in (("customers", "created", "owner", "new_customers"),
                                          ("activities", "date", "rep_id", "activities")):
        f = ds.frame(name)
        at = np.flatnonzero(f["_valid"].to_numpy() & in_period(f[date_col], period))  # the big sheets: no copy
        _count_rows(ev, kpi, f, at, rep_col, not_counted if kpi == "activities" else frozenset())
    return ev


def _count_rows(ev: dict, kpi: str, f: pd.DataFrame, at: np.ndarray, rep_col: str, skip: set | frozenset) -> None:
    """Each row at positions `at` of `f` as an item of 1 (0 and NOT_COUNTED when in `skip`) under its rep's
    `kpi`, in row order, the reps taken in order of their first row."""
    if not len(at):
        return
    one, zero = Decimal(1), Decimal(0)
    reps = f[rep_col].to_numpy(dtype=object)[at]
    fl, sh = (f[c].to_numpy(dtype=object)[at].tolist() for c in ("_file", "_sheet"))
    rw = f["_row"].to_numpy()[at].tolist()
    if pd.isna(reps).any():  # a blank rep is a key of its own (None, or this NaN): row by row, as it comes
        for rep, item in zip(reps.tolist(), _items(fl, sh, rw, skip, one, zero), strict=True):
            ev.setdefault(rep, {}).setdefault(kpi, []).append(item)
        return
    number, distinct = pd.factorize(reps)  # in order of first row
    order = np.argsort(number, kind="stable")  # each rep's rows together, in row order
    items = _items(fl, sh, rw, skip, one, zero)
    items = [items[k] for k in order.tolist()]
    ends = (np.flatnonzero(np.diff(number[order])) + 1).tolist() + [len(order)]
    start = 0
    for rep, end in zip(distinct.tolist(), ends, strict=True):
        ev.setdefault(rep, {}).setdefault(kpi, []).extend(items[start:end])
        start = end


def _items(fl: list, sh: list, rw: list, skip: set | frozenset, one: Decimal, zero: Decimal) -> list[tuple]:
    if not skip:
        return list(zip(fl, sh, rw, [one] * len(rw), [""] * len(rw), strict=True))
    return [(a, b, c, zero, NOT_COUNTED) if (a, b, c) in skip else (a, b, c, one, "")
            for a, b, c in zip(fl, sh, rw, strict=True)]


def in_period(dates: pd.Series, period: Period) -> np.ndarray:
    """Mask of the cells of a date column inside `period` (decided once per distinct date)."""
    number, distinct = pd.factorize(dates.to_numpy(dtype=object))  # a blank is -1: never inside
    inside = np.array([period.contains(d) is True for d in distinct.tolist()] + [False], dtype=bool)
    return inside[number]


DATE_OF_VIOLATION = {"contracts": "signed", "expenses": "date"}  # the column that dates a violation


def violation_points(ds: Dataset, findings: list[Finding], period: Period, st: Settings, *,
                     deductible: list | None = None) -> dict[str, list[tuple]]:
    """rep -> [(file, sheet, row, points, code)]: 10 per unreviewed contract, 5 per unauthorised
    discount, 3 per expense row with a violation.

    A violation counts in the period of its row's date (signed date, expense date) only. One on a
    row without a date (a Signed contract without 签订日期, itself `signed-without-date`) counts in
    no period: `undated_violations` says so. An unauthorised discount on a contract that is not
    Signed or Terminated is no breach until it is signed: it stays an error finding (the contract
    cannot be printed final) but is no deduction, and so does not hold the commission either."""
    out: dict[str, list[tuple]] = {}
    for f, d, points in _deductible(ds, findings, st) if deductible is None else deductible:
        if not blank(d) and period.contains(d):
            out.setdefault(f.rep_id, []).append((f.file, f.sheet, f.row, points, f.code))
    return out


def undated_violations(ds: Dataset, findings: list[Finding], st: Settings, *,
                       deductible: list | None = None) -> list[Finding]:
    """`violation-undated` at the date cell of every row whose violations are deducted in no period
    (`deductible`: `_deductible`'s list when the caller has it already)."""
    rows: dict[tuple[str, str, str, int], list[tuple[str, Decimal]]] = {}
    for f, d, points in _deductible(ds, findings, st) if deductible is None else deductible:
        if blank(d):
            rows.setdefault((f.rep_id, f.file, f.sheet, f.row), []).append((f.code, points))
    out = []
    for (rep, fl, sh, rw), items in rows.items():
        kind = ds.sheet_schemas.get((fl, sh), "")
        out.append(ds.finding("violation-undated", {"_file": fl, "_sheet": sh, "_row": rw},
                              DATE_OF_VIOLATION.get(kind, "signed"), value="", rep_id=rep,
                              codes=", ".join(code for code, _ in items),
                              points=f"{sum(p for _, p in items).normalize():f}"))
    return out


def _deductible(ds: Dataset, findings: list[Finding], st: Settings):
    """(finding, its row's date, points) of every violation that is a deduction once dated."""
    dates: dict[tuple[str, str, int], object] = {}
    for name, col in DATE_OF_VIOLATION.items():
        f = ds.frame(name)
        dates.update(zip(zip(f["_file"].tolist(), f["_sheet"].tolist(), f["_row"].tolist(), strict=True),
                         f[col].tolist(), strict=True))
    k = ds.frame("contracts")
    status = dict(zip(zip(k["_file"].tolist(), k["_sheet"].tolist(), k["_row"].tolist(), strict=True),
                      k["status"].tolist(), strict=True))
    pts = {
        "contract-unreviewed": float(st["deduction.contract_unreviewed"]),
        "discount-unauthorized": float(st["deduction.discount_unauthorized"]),
    }
    expense_pts = float(st["deduction.expense_violation"])
    expense_rows: set[tuple] = set()
    for f in select(findings, codes=[*pts, "expense-over-limit", "expense-duplicate-receipt"]):
        place = (f.file, f.sheet, f.row)
        if not f.rep_id or (f.code == "discount-unauthorized" and status.get(place) not in ("Signed", "Terminated")):
            continue
        if f.code in pts:
            yield f, dates.get(place), Decimal(repr(pts[f.code]))
        else:
            key = (f.rep_id, *place)
            if key in expense_rows:
                continue  # one deduction per expense row, however many violations it has
            expense_rows.add(key)
            yield f, dates.get(place), Decimal(repr(expense_pts))


def rescaled_weights(weights: dict[str, float], present: list[str]) -> dict[str, Decimal]:
    """The weights of the KPIs that have a target, rescaled to sum to 1 (empty when none has)."""
    total = sum(dec(weights[k]) for k in present)
    if total == 0:
        return {}
    return {k: dec(weights[k]) / total for k in present}


def rating_for(score: Decimal, st: Settings) -> str:
    for r in ("S", "A", "B", "C"):
        if score >= dec(st[f"rating.{r}"]):
            return r
    return "D"


@dataclass(frozen=True)
class ScoreResult:
    attainment: dict[str, Decimal]  # only the KPIs with a target
    weights: dict[str, Decimal]  # rescaled over those KPIs
    base: Decimal
    deductions: Decimal
    score: Decimal
    rating: str
    coefficient: Decimal


@dataclass(frozen=True)
class RepScore:
    """What a rep's scorecard was computed from, in Decimal: for commissions and statements."""

    rep_id: str
    actuals: dict[str, Decimal]
    targets: dict[str, Decimal | None]
    result: ScoreResult
    rows: dict[str, list[tuple]]  # kpi -> [(file, sheet, row, value, code)]
    deductions: list[tuple]  # [(file, sheet, row, points, code)]


@dataclass
class Scoring:
    scorecards: pd.DataFrame
    evidence: pd.DataFrame
    findings: list[Finding]
    details: dict[str, RepScore] = field(default_factory=dict)


def compute_score(actuals: dict[str, Decimal], targets: dict[str, Decimal | None], deductions: list[Decimal],
                  st: Settings, *, consts: dict | None = None) -> ScoreResult:
    """SPEC §5: capped attainment, weights rescaled over KPIs with a target, base, capped deductions,
    score rounded half-up to 2 decimals, rating and pay coefficient (`consts`: `score_constants(st)`,
    when scoring many reps with the same settings)."""
    c = consts if consts is not None else score_constants(st)
    cap = c["cap"]
    attain = {}
    for k in KPIS:
        target = targets.get(k)
        if target is not None and target != 0:
            attain[k] = min(dec(actuals.get(k, 0)) / target, cap)
    w = rescaled_weights(c["weights"], list(attain))
    base = Decimal(100) * sum((w[k] * attain[k] for k in attain), Decimal(0))
    ded = min(c["deduction_cap"], sum(deductions, Decimal(0)))
    score = round_half_up(max(Decimal(0), base - ded))
    rating = next((r for r, lowest in c["ratings"] if score >= lowest), "D")  # rating_for's bands
    coefficient = c["coefficient"].get(rating)
    if coefficient is None:
        coefficient = c["coefficient"][rating] = dec(st[f"coefficient.{rating}"])
    return ScoreResult(attain, w, base, ded, score, rating, coefficient)


def score_constants(st: Settings) -> dict:
    """The settings compute_score reads, as Decimal, converted once."""
    return {"cap": dec(st["attainment_cap"]), "weights": {k: dec(v) for k, v in st.weights().items()},
            "deduction_cap": dec(st["deduction_cap"]),
            "ratings": [(r, dec(st[f"rating.{r}"])) for r in ("S", "A", "B", "C")], "coefficient": {}}


def quarter_months(period: Period) -> list[str] | None:
    """The three month labels of a quarter (2026-Q4 -> 2026-10, 2026-11, 2026-12); None otherwise."""
    if not period.label[5:6] == "Q":
        return None
    return [f"{period.start.year:04d}-{period.start.month + i:02d}" for i in range(3)]


def period_targets(targets: pd.DataFrame | None, period: Period, *, master_file: str = ""
                   ) -> tuple[dict[str, dict[str, Decimal | None]], list[Finding]]:
    """rep -> kpi -> target for `period` (None: no target), and the findings about how it was found.

    SPEC §5: the Targets row of the period itself; for a quarter without a row of its own, the sum
    of its three months' targets KPI by KPI, when all three months have that KPI's target (an
    `info` finding says so); otherwise the KPI has no target. A month's target of 0 is no target.
    """
    from .periods import PeriodError, parse_period

    rows: dict[tuple[str, str], dict] = {}
    for r in records(targets) if targets is not None else []:
        try:
            label = parse_period(r["period"]).label
        except PeriodError:
            continue
        rows.setdefault((r["rep_id"], label), r)  # the first row of a rep and period counts

    def values(r: dict) -> dict[str, Decimal | None]:
        return {k: None if blank(r.get(f"{k}_target")) else dec(r[f"{k}_target"]) for k in KPIS}

    out: dict[str, dict[str, Decimal | None]] = {}
    findings: list[Finding] = []
    months = quarter_months(period)
    for rep in dict.fromkeys(rep for rep, _ in rows):
        own = rows.get((rep, period.label))
        if own is not None:
            out[rep] = values(own)
            continue
        if months is None:
            continue
        monthly = [values(rows[(rep, m)]) for m in months if (rep, m) in rows]
        if len(monthly) < 3:
            continue
        # a month target of 0 is no target (SPEC §5): 0 + 20 + 22 gives the quarter none for that KPI
        summed = {k: sum((m[k] for m in monthly), Decimal(0)) if all(m[k] for m in monthly) else None
                  for k in KPIS}
        kpis = [k for k in KPIS if summed[k] is not None]
        if not kpis:
            continue
        out[rep] = summed
        findings.append(make_finding(
            "targets-from-months", file=master_file, sheet="目标", rep_id=rep, value="", period=period.label,
            months=", ".join(months), kpis=", ".join(kpis), kpis_zh="、".join(KPI_ZH[k] for k in kpis)))
    return out, findings


def counting_period(period: Period, as_of: date | None) -> Period:
    """The part of `period` up to the as-of date: a row dated after it has not happened yet, so it
    counts toward no KPI, commission or deduction yet; it is no finding (a later run counts it)."""
    if as_of is None or as_of >= period.end:
        return period
    return Period(period.label, period.start, as_of)  # as_of before the start: nothing counts


def score_reps(ds: Dataset, findings: list[Finding], period: Period, st: Settings,
               roster: pd.DataFrame, targets: pd.DataFrame | None, *, master_file: str = "",
               as_of: date | None = None) -> Scoring:
    """Scorecards for every rep in scope: active roster reps, and reps who left but have rows.

    Rows count from the period's start up to the as-of date (the period's end when None)."""
    not_counted = not_counted_rows(findings)
    counting = counting_period(period, as_of)
    ev = collect_kpis(ds, counting, not_counted)
    deductible = list(_deductible(ds, findings, st))  # one pass over the violations for both
    vio = violation_points(ds, findings, counting, st, deductible=deductible)
    target_of, target_notes = period_targets(targets, period, master_file=master_file)
    out_findings: list[Finding] = undated_violations(ds, findings, st, deductible=deductible)
    rows = []
    consts = score_constants(st)
    details: dict[str, RepScore] = {}
    evidence = {c: [] for c in EVIDENCE_COLUMNS}  # built a column at a time: a busy month has 150k rows

    def show(rid: str, kpi: str, items: list[tuple]) -> None:
        if not items:
            return
        n = len(items)
        fl, sh, rw, v, code = zip(*items, strict=True)
        for col, values in (("rep_id", [rid] * n), ("period", [period.label] * n), ("kpi", [kpi] * n),
                            ("file", fl), ("sheet", sh), ("row", rw), ("value", map(float, v)), ("code", code)):
            evidence[col].extend(values)

    for rep in records(roster):
        rid = rep["rep_id"]
        active = rep.get("status") in (None, "Active") or blank(rep.get("status"))
        if not active and rid not in ev and rid not in vio:
            continue
        t = target_of.get(rid, {})
        card: dict[str, object] = {"rep_id": rid, "name": rep["name"], "employee_id": rep["employee_id"],
                                   "team": "" if blank(rep.get("team")) else rep["team"], "period": period.label}
        actuals, targets_k = {}, {}
        for k in KPIS:
            items = ev.get(rid, {}).get(k, [])
            actuals[k] = sum(map(_VALUE, items), Decimal(0))
            targets_k[k] = t.get(k)
            show(rid, k, items)
        points = vio.get(rid, [])
        show(rid, "deductions", points)
        result = compute_score(actuals, targets_k, [p for *_, p, _c in points], st, consts=consts)
        for k in KPIS:
            card[k] = float(actuals[k])
            card[f"{k}_target"] = None if targets_k[k] is None else float(targets_k[k])
            a = result.attainment.get(k)
            card[f"{k}_attainment"] = None if a is None else float(round_half_up(a, Decimal("0.0001")))
            if a is None:
                out_findings.append(make_finding(
                    "missing-target", file=master_file, sheet="目标", rep_id=rid, value="",
                    kpi_zh=KPI_ZH[k], kpi=k, period=period.label))
        card.update({
            "base_score": float(round_half_up(result.base)), "deductions": float(result.deductions),
            "score": float(result.score), "rating": result.rating, "coefficient": float(result.coefficient),
            "violations": len(points),
        })
        rows.append(card)
        details[rid] = RepScore(rid, actuals, targets_k, result, ev.get(rid, {}), points)
    scored = {r["rep_id"] for r in rows}
    out_findings = [f for f in target_notes if f.rep_id in scored] + out_findings
    cards = pd.DataFrame(rows, columns=SCORECARD_COLUMNS)
    ev_frame = pd.DataFrame(evidence if evidence["rep_id"] else [], columns=EVIDENCE_COLUMNS)
    return Scoring(cards, ev_frame, out_findings, details)
