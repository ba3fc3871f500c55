"""What may reach payroll (SPEC §9): the guards of the HR export and of a close, and the data quality
that the export's manifest reports."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from .core.findings import ERROR, select
from .core.periods import Period, parse_period
from .core.rules import blank
from .core.settings import KPIS
from .pipeline import Consolidation, Master


class PayrollRefused(Exception):
    """The period's figures must not reach payroll as they are; the message says why and what to fix.
    Nothing was written."""


def is_week(period: Period | str) -> bool:
    label = period.label if isinstance(period, Period) else parse_period(period).label
    return "-W" in label


def refuse_week(period: str, what: str) -> None:
    """Scorecards and pay are monthly or quarterly: a week is refused before anything is read."""
    p = parse_period(period)
    if is_week(p):
        raise PayrollRefused(
            f"{p.label} is a week; {what} is monthly or quarterly (targets are set per month or quarter), so "
            f"nothing was written. For a weekly sales report use: salesbook report TEAM_DIR --master M "
            f"--weekly {p.label} --out DIR. For scorecards give a month (2026-11) or a quarter (2026-Q4).")


def _active(status: object) -> bool:
    return blank(status) or status != "Left"


def _where(r: dict) -> str:
    file = "" if blank(r.get("_file")) else f"{r['_file']} "
    return f"{file}{r['_sheet']} row {int(r['_row'])}"


def roster_problems(master: Master) -> list[str]:
    """Active roster reps HR could not pay correctly: no employee ID, an ID or rep twice, a row left out."""
    frame = master.roster_rows
    if frame is None or frame.empty:
        return []
    every = frame.to_dict("records")
    active = [r for r in every if _active(r.get("status"))]
    problems: list[str] = []
    named: set[int] = set()  # roster rows a problem already names
    for r in active:
        if blank(r.get("employee_id")):
            who = " ".join(str(v) for v in (r.get("rep_id"), r.get("name")) if not blank(v)) or "a rep"
            problems.append(f"{_where(r)} ({who}) has no 工号 / Employee ID: HR cannot pay the rep. Fill it in.")
            named.add(int(r["_row"]))
    for col, label in (("employee_id", "工号 / Employee ID"), ("rep_id", "销售代表 / Rep ID")):
        groups: dict[str, list[dict]] = {}
        for r in every:
            if not blank(r.get(col)):
                groups.setdefault(str(r[col]), []).append(r)
        for value, group in groups.items():
            if len(group) > 1 and any(_active(r.get("status")) for r in group):
                places = ", ".join(f"{_where(r)} ({r.get('rep_id')} {r.get('name')})" for r in group)
                problems.append(f"{label} {value} appears {len(group)} times in the roster: {places}. "
                                "Each active rep needs one row with an ID of their own.")
                named |= {int(r["_row"]) for r in group}
    kept = set() if master.roster is None else {int(n) for n in master.roster["_row"]}
    sheet = str(every[0]["_sheet"])
    why: dict[int, list[str]] = {}
    for f in master.findings:
        if f.severity == ERROR and f.row and f.sheet == sheet:
            why.setdefault(f.row, []).append(f.message.split(" / ", 1)[-1])
    for r in active:
        n = int(r["_row"])
        if n not in kept and n not in named:
            reason = "; ".join(why.get(n, [])) or "the row has an error"
            problems.append(f"{_where(r)} ({r.get('rep_id')} {r.get('name')}) is left out of the scorecards: "
                            f"{reason}. Fix the row so the rep is scored and paid.")
    return problems


def payroll_problems(c: Consolidation) -> list[str]:
    """Every reason the consolidation must not go to payroll (empty: it may)."""
    run = c.run
    problems = []
    if run.period is not None and is_week(run.period):
        problems.append(f"{run.period.label} is a week; the HR export is monthly or quarterly.")
    accepted = [f for f in run.files if f.status == "accepted"]
    if not accepted:
        rejected = [f"{f.label} ({f.reason})" for f in run.files if f.status == "rejected"][:10]
        problems.append("No team file was accepted, so every rep would be scored on nothing"
                        + (": " + "; ".join(rejected) if rejected else "") + ". Fix or replace the files.")
    problems += roster_problems(run.master)
    problems += leaver_problems(c)
    problems += period_problems(c)
    return problems


def leaver_problems(c: Consolidation) -> list[str]:
    """Leavers (离职) whose roster row was left out for an error (a blank 工号, say) but who have rows in the
    period: they would be scored and exported with their status if the row were right, so leaving them out
    would lose their last pay without a word."""
    m, run = c.run.master, c.run
    if m.roster_rows is None or not m.roster_errors or run.period is None:
        return []
    leavers = {r["rep_id"]: r for r in m.roster_rows.to_dict("records")
               if r.get("rep_id") in m.roster_errors and not _active(r.get("status"))}
    if not leavers:
        return []
    rows = _rows_of(c, set(leavers))
    problems = []
    for rid, r in leavers.items():
        if rid not in rows:
            continue
        shown = ", ".join(rows[rid][:3]) + (f" and {len(rows[rid]) - 3} more" if len(rows[rid]) > 3 else "")
        who = f"{_where(r)} ({rid} {'' if blank(r.get('name')) else r['name']}, 离职 left)"
        if blank(r.get("employee_id")):
            what, fix = "has no 工号 / Employee ID", "HR: fill in the rep's 工号 on that roster row"
        else:
            what, fix = f"has an error ({m.roster_errors[rid]})", "Fix that roster row"
        problems.append(f"{who} {what}, but the rep has rows in {run.period.label} ({shown}): the leaver would be "
                        f"left out of the HR export and their last pay lost. {fix}, then export again.")
    return problems


def _rows_of(c: Consolidation, reps: set[str]) -> dict[str, list[str]]:
    """Rep -> "file sheet row" of each row that would count for the rep in the period if the rep's roster row
    were right (rows whose only error is `roster-row-error`)."""
    from .core.dataset import Dataset
    from .core.scoring import collect_kpis

    run = c.run
    other: set[tuple] = set()
    restore: dict[tuple[str, str], set[int]] = {}
    for f in select(run.findings, severity=ERROR, with_row=True):
        if f.code == "roster-row-error" and (f.rep_id in reps or f.value in reps):
            restore.setdefault((f.file, f.sheet), set()).add(f.row)
        else:
            other.add((f.file, f.sheet, f.row))
    if not restore:
        return {}
    ds = run.dataset
    frames = dict(ds.frames)
    for key, wanted in restore.items():
        name, span = ds.sheet_schemas.get(key), ds.spans.get(key)
        if name is None or span is None:
            continue
        wanted = {n for n in wanted if (*key, n) not in other}
        frame = frames[name] = frames[name].copy()  # a copy: the run's own rows keep their errors
        valid = frame["_valid"].to_numpy(copy=True)
        start, stop = span
        valid[start:stop] |= frame["_row"].iloc[start:stop].isin(wanted).to_numpy()
        frame["_valid"] = valid
    shadow = Dataset(frames=frames, places=ds.places, sheet_schemas=ds.sheet_schemas, spans=ds.spans)
    found = collect_kpis(shadow, run.period)
    out: dict[str, list[str]] = {}
    for rid in reps:
        seen = dict.fromkeys((fl, sh, rw) for items in found.get(rid, {}).values() for fl, sh, rw, *_ in items)
        if seen:
            out[rid] = [f"{fl} {sh} row {rw}" for fl, sh, rw in sorted(seen)]
    return out


def period_problems(c: Consolidation) -> list[str]:
    """The period is not one anybody is rated on: no active rep has a target (a mistyped period), or nobody
    has a scorecard."""
    run = c.run
    active = _active_cards(c)
    targets = [f"{k}_target" for k in KPIS]
    if not active.empty and active[targets].isna().all(axis=None):
        known = sorted({str(p) for p in run.master.targets["period"]}) if run.master.targets is not None else []
        return [f"No active rep has a target for {run.period.label} in 目标 / Targets, so everyone would be rated "
                f"D. Is the period mistyped? Periods with targets: {', '.join(known[-12:]) or 'none'}."]
    if c.scorecards.empty:
        return [f"No rep has a scorecard for {run.period.label}: the roster has no active rep."]
    return []


STATEMENTS = "an appraisal statement (考核确认单)"


def check_statements(c: Consolidation) -> None:
    """Statements are signed as the period's appraisal: refused (PayrollRefused, nothing written) for a
    period nobody is rated on, as the HR export is."""
    problems = period_problems(c)
    if problems:
        raise PayrollRefused(f"No {c.run.period.label} statements were written:\n"
                             + "\n".join(f"  - {p}" for p in problems))


def _active_cards(c: Consolidation) -> pd.DataFrame:
    roster = c.run.master.roster
    cards = c.scorecards
    if roster is None or cards.empty:
        return cards
    left = set(roster.loc[roster["status"].map(lambda s: not _active(s)), "rep_id"])
    return cards[~cards["rep_id"].isin(left)]


def check_payroll(c: Consolidation) -> None:
    """Raise PayrollRefused naming every problem, or return when the figures may go to payroll."""
    problems = payroll_problems(c)
    if problems:
        period = c.run.period.label if c.run.period else ""
        raise PayrollRefused(f"The {period} figures cannot go to payroll; nothing was written:\n"
                             + "\n".join(f"  - {p}" for p in problems))


def data_quality(c: Consolidation, *, run_id: int | None, closed: bool) -> dict:
    """manifest.json's data_quality: what the figures rest on."""
    run = c.run
    errors = Counter(f.code for f in select(run.findings, severity=ERROR))
    cards = _active_cards(c)
    targets = [f"{k}_target" for k in KPIS]
    no_target = cards.loc[cards[targets].isna().all(axis=1), "rep_id"].tolist() if not cards.empty else []
    no_activity = cards.loc[cards["activities"].fillna(0) == 0, "rep_id"].tolist() if not cards.empty else []
    return {
        "files_accepted": [f.label for f in run.files if f.status == "accepted"],
        "files_rejected": [f.label for f in run.files if f.status == "rejected"],
        "errors": sum(errors.values()),
        "errors_by_code": dict(sorted(errors.items())),
        "reps_without_targets": no_target,
        "reps_without_activity": no_activity,
        "run_id": run_id,
        "closed": closed,
    }


__all__ = ["STATEMENTS", "PayrollRefused", "check_payroll", "check_statements", "data_quality", "is_week",
           "leaver_problems", "payroll_problems", "period_problems", "refuse_week", "roster_problems"]
