"""Effective activities (有效活动, SPEC §11): which logged activities count toward the activities KPI.

Rows are taken in file then row order (the order of the consolidation). An activity does not count
when it repeats an earlier one of the same rep, customer, date and type (the first counts); when
its summary is shorter than `activity.min_summary_chars`; when the rep has already had the same
summary counted `activity.max_same_summary` times that month; or when the rep already has
`activity.max_per_day` activities counted that day. Each gets an `activity-not-counted` info
finding naming the reason; scoring then counts it as 0 (and the evidence shows it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
import pandas as pd

from .dataset import Dataset, show_value
from .findings import Coded, Finding, Findings, findings_frame_of, values_of
from .schema import normalize_name
from .settings import Settings
from .vector import codes, cumcount, first_rows, group_ids

KEY = ["rep_id", "customer_id", "date", "activity_type"]  # a repeat: the same of all four
CODE = "activity-not-counted"
_REPEAT, _SHORT, _SAME, _DAY = 1, 2, 3, 4  # the reasons, by the order they are looked at
_USED = ["_file", "_sheet", "_row", *KEY, "summary"]


def effective_activities(ds: Dataset, st: Settings) -> Findings:
    """`activity-not-counted` for every valid activity row that does not count, with its reason.

    A busy month has tens of thousands, so they are built as columns (a frame of findings), in the
    order of the rows; each Finding equals the one `Dataset.finding` would make for its row."""
    every = ds.frame("activities")
    keep = every["_valid"].to_numpy() & every["date"].notna().to_numpy() & every["rep_id"].notna().to_numpy()
    if not keep.any():
        return Findings()
    f = every.loc[keep, _USED]  # the valid dated rows with a rep, and only the columns looked at
    max_day = int(st["activity.max_per_day"])
    min_chars = int(st["activity.min_summary_chars"])
    max_same = st["activity.max_same_summary"]
    why = np.zeros(len(f), dtype=np.int8)  # 0: counts, else the reason it does not
    first_of = np.full(len(f), -1, dtype=np.int64)  # a repeat: the position of the row it repeats

    rep = ds.codes("activities", "rep_id", f)[0]  # each column's distinct values numbered (-1: blank)
    day = ds.codes("activities", "date", f)
    group = group_ids([rep, ds.codes("activities", "customer_id", f)[0], day[0],  # numbered in order of first rows
                       ds.codes("activities", "activity_type", f)[0]])
    first = first_rows(group)  # the first row of each row's group
    repeat = first != np.arange(len(f))
    first_of[repeat] = first[repeat]
    why[repeat] = _REPEAT
    at = np.flatnonzero(~repeat)  # positions of the rows still counting
    summary, summaries = ds.codes("activities", "summary", f)  # each distinct summary looked at once
    if min_chars > 0 and len(at):
        length = np.array([len(str(s).strip()) for s in summaries.tolist()] + [0], dtype=np.int64)
        short = length[summary[at]] < min_chars  # a blank summary (code -1) has length 0
        why[at[short]] = _SHORT
        at = at[~short]
    if max_same is not None and len(at):
        months = np.array([d.year * 100 + d.month for d in day[1].tolist()], dtype=np.int64)
        text = np.append(codes(np.array([normalize_name(s) for s in summaries.tolist()], dtype=object))[0], -1)
        nth = cumcount(group_ids([rep[at], months[day[0][at]], text[summary[at]]], dropna=True))
        over = nth >= int(max_same)  # a blank summary (-1) is never the same summary
        why[at[over]] = _SAME
        at = at[~over]
    if len(at):
        nth = cumcount(group_ids([rep[at], day[0][at]]))
        why[at[nth >= max_day]] = _DAY
    hit = np.flatnonzero(why)
    if not len(hit):
        return Findings()
    hit = hit[np.argsort(f.index.to_numpy()[hit], kind="stable")]  # in the order of the rows (frame index)
    return Findings(frame=_not_counted_frame(ds, f, hit, why[hit], first_of[hit], max_day, min_chars, max_same))


def _not_counted_frame(ds: Dataset, f: pd.DataFrame, hit: np.ndarray, why: np.ndarray, first_of: np.ndarray,
                       max_day: int, min_chars: int, max_same: object) -> pd.DataFrame:
    """The findings of the rows at positions `hit` of `f`, each with its reason (and the row it repeats)."""
    files, sheets = (f[c].to_numpy(dtype=object) for c in ("_file", "_sheet"))
    rows = f["_row"].to_numpy(dtype=np.int64)
    file, sheet = files[hit].tolist(), sheets[hit].tolist()
    row = rows[hit].tolist()
    on_summary = np.isin(why, (_SHORT, _SAME))
    shown = np.where(on_summary, f["summary"].to_numpy(dtype=object)[hit], f["date"].to_numpy(dtype=object)[hit])
    places: dict[tuple, tuple[str, str | None]] = {}  # (file, sheet, key) -> (header, letter)

    def place(fl: str, sh: str, k: str) -> tuple[str, str | None]:
        got = places.get((fl, sh, k))
        if got is None:
            got = places[(fl, sh, k)] = ds.column_at(fl, sh, k)
        return got

    # the column of each finding: its sheet's summary or date column, by reason, looked up once per kind
    kind = group_ids([codes(files[hit])[0], codes(sheets[hit])[0], on_summary.astype(np.int64)])
    _, first = np.unique(kind, return_index=True)
    at = [place(file[k], sheet[k], "summary" if on_summary[k] else "date") for k in first.tolist()]
    header = np.array([h for h, _ in at], dtype=object)[kind].tolist()
    letter = np.array([x or "" for _, x in at], dtype=object)[kind]
    lettered = np.array([x is not None for _, x in at], dtype=bool)[kind]
    numbers = np.empty(len(row), dtype=object)
    numbers[:] = list(map(str, row))
    cell = np.where(lettered, letter + numbers, "").tolist()  # "B12", or blank where the sheet lacks the column
    fmt = {_SHORT: {"n": min_chars}, _DAY: {"n": max_day}}
    if max_same is not None:
        fmt[_SAME] = {"n": int(max_same)}
    # the reasons as numbered texts: a repeat's names the row it repeats ("file [sheet] A12"), made once
    # per row repeated; its template has one field, {first}, so it is the two sides around it
    zh_texts, en_texts = [], []
    zh_no = np.zeros(len(hit), dtype=np.int64)
    for r, name in ((_SHORT, "short"), (_SAME, "same"), (_DAY, "day")):
        if r in fmt and (why == r).any():
            zh_no[why == r] = len(zh_texts)
            zh_texts.append(_REASONS[name][0].format(**fmt[r]))
            en_texts.append(_REASONS[name][1].format(**fmt[r]))
    repeat = why == _REPEAT
    if repeat.any():
        (zh_pre, zh_post), (en_pre, en_post) = (t.format(first="\0").split("\0") for t in _REASONS["repeat"])
        firsts, inverse = np.unique(first_of[repeat], return_inverse=True)
        pairs = list(zip(files[firsts].tolist(), sheets[firsts].tolist(), strict=True))
        heads = {k: f"{k[0]} [{k[1]}] {place(k[0], k[1], 'date')[1] or ''}" for k in dict.fromkeys(pairs)}
        wheres = [heads[k] + str(n) for k, n in zip(pairs, rows[firsts].tolist(), strict=True)]
        zh_no[repeat] = len(zh_texts) + inverse.ravel()
        zh_texts += [zh_pre + w + zh_post for w in wheres]
        en_texts += [en_pre + w + en_post for w in wheres]
    zh, en = Coded(zh_no, zh_texts), Coded(zh_no, en_texts)  # the same numbers: each zh text has its en text
    return findings_frame_of(
        CODE, len(hit), file=file, sheet=sheet, row=row, column=header, cell=cell,
        value=_shown(shown.tolist()), rep_id=[r or "" for r in f["rep_id"].to_numpy(dtype=object)[hit].tolist()],
        reason_zh=zh, reason_en=en)


_BY_VALUE = {str, type(None), date, datetime}  # types no value of another type equals: a memo by value is safe


def _shown(values: list) -> list[str]:
    """Each value as a finding shows it (Dataset.finding: a missing value is blank), once per distinct value."""
    def show(v: object) -> str:
        return "" if v is None or (isinstance(v, float) and v != v) else show_value(v)

    if set(map(type, values)) <= _BY_VALUE:
        memo = {v: show(v) for v in dict.fromkeys(values)}
        return [memo[v] for v in values]
    return [show(v) for v in values]


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


def not_counted_rows(findings: Sequence[Finding]) -> set[tuple[str, str, int]]:
    """(file, sheet, row) of the activities that do not count (findings: a list or Findings)."""
    codes = values_of(findings, "code")
    if CODE not in codes:
        return set()
    return {(fl, sh, rw) for fl, sh, rw, c in zip(values_of(findings, "file"), values_of(findings, "sheet"),
                                                  values_of(findings, "row"), codes, strict=True) if c == CODE}


__all__ = ["CODE", "effective_activities", "not_counted_rows"]
