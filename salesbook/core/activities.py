"""Effective activities (有效活动, SPEC §11): which logged activities count toward the activities KPI.

Rows are taken in file then row order (the order of the consolidation). An activity does not count
when it repeats an earlier one of the same rep, customer, date and type (the first counts); when
its summary is shorter than `activity.min_summary_chars`; when the rep has already had the same
summary counted `activity.max_same_summary` times that month; or when the rep already has
`activity.max_per_day` activities counted that day. Each gets an `activity-not-counted` info
finding naming the reason; scoring then counts it as 0 (and the evidence shows it).
"""

from __future__ import annotations

from .dataset import Dataset, records
from .findings import Finding
from .schema import normalize_name
from .settings import Settings

KEY = ["rep_id", "customer_id", "date", "activity_type"]


def effective_activities(ds: Dataset, st: Settings) -> list[Finding]:
    """`activity-not-counted` for every valid activity row that does not count, with its reason."""
    f = ds.valid("activities")
    if f.empty:
        return []
    f = f[f["date"].notna() & f["rep_id"].notna()]
    max_day = int(st["activity.max_per_day"])
    min_chars = int(st["activity.min_summary_chars"])
    max_same = st["activity.max_same_summary"]
    reasons: dict[int, tuple[str, dict]] = {}  # frame index -> (reason, fields)

    repeat = f.duplicated(subset=KEY, keep="first")
    if repeat.any():
        firsts = f[~repeat & f.set_index(KEY).index.isin(f[repeat].set_index(KEY).index)]
        first_at = {tuple(r[k] for k in KEY): r for r in records(firsts, [*KEY, "_file", "_sheet", "_row"])}
        for i, r in zip(f.index[repeat.to_numpy()], records(f[repeat], KEY), strict=True):
            first = first_at[tuple(r[k] for k in KEY)]
            place = ds.place(first["_file"], first["_sheet"], "date")
            where = f"{first['_file']} [{first['_sheet']}] {place.letter if place else ''}{first['_row']}"
            reasons[i] = ("repeat", {"first": where})
    left = f[~repeat]
    if min_chars > 0:
        length = left["summary"].map(_each_distinct(left["summary"], lambda s: len(str(s).strip())))
        short = left.index[(length.fillna(0) < min_chars).to_numpy()]
        reasons.update({i: ("short", {"n": min_chars}) for i in short})
        left = left.drop(short)
    if max_same is not None and not left.empty:
        month = left["date"].map(_each_distinct(left["date"], lambda d: d.year * 100 + d.month))
        text = left["summary"].map(_each_distinct(left["summary"], normalize_name))
        nth = left.assign(_m=month, _t=text).groupby(["rep_id", "_m", "_t"], sort=False).cumcount()
        over = left.index[(nth >= int(max_same)).to_numpy()]
        reasons.update({i: ("same", {"n": int(max_same)}) for i in over})
        left = left.drop(over)
    if not left.empty:
        nth = left.groupby(["rep_id", "date"], sort=False).cumcount()
        over = left.index[(nth >= max_day).to_numpy()]
        reasons.update({i: ("day", {"n": max_day}) for i in over})
    if not reasons:
        return []
    out = []
    rows = f.loc[sorted(reasons)]
    for i, r in zip(rows.index, records(rows, ["_file", "_sheet", "_row", "rep_id", "summary", "date"]), strict=True):
        reason, fmt = reasons[i]
        zh, en = _REASONS[reason]
        column = "summary" if reason in ("short", "same") else "date"
        out.append(ds.finding("activity-not-counted", r, column, rep_id=r["rep_id"],
                              reason_zh=zh.format(**fmt), reason_en=en.format(**fmt)))
    return out


def _each_distinct(values, fn) -> dict:
    """fn of every distinct value, computed once each (a column repeats few summaries and dates)."""
    return {v: fn(v) for v in values.dropna().unique()}


_REASONS = {
    "repeat": ("重复了 {first} 的活动（同一销售代表、客户、日期和类型，只计第一条）",
               "repeats {first} (same rep, customer, date and type: only the first counts)"),
    "short": ("内容摘要少于 {n} 个字", "the summary is shorter than {n} characters"),
    "same": ("同一摘要本月已计入 {n} 次", "the same summary was already counted {n} times this month"),
    "day": ("当天已计入 {n} 条活动（每天最多 {n} 条）", "more than {n} activities counted that day"),
}


def not_counted_rows(findings: list[Finding]) -> set[tuple[str, str, int]]:
    """(file, sheet, row) of the activities that do not count."""
    return {(f.file, f.sheet, f.row) for f in findings if f.code == "activity-not-counted"}


__all__ = ["effective_activities", "not_counted_rows"]
