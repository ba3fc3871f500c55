"""Findings built as a frame (activity-not-counted, SPEC §11) equal the Finding objects made one by one.

`reference_effective_activities` below is the object path as it was before the frame path: one
`Dataset.finding` per activity that does not count. The tests compare the frame path with it on
varied activities, and every frame operation (sort, counts, filters, the findings table) with the
same operation on plain lists of Finding objects.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime
from string import Formatter

import pandas as pd
import pytest
from conftest import ACTIVITY_HEADER, write_master, write_workbook

from salesbook.core.activities import _REASONS, KEY, _each_distinct, effective_activities, not_counted_rows
from salesbook.core.dataset import Dataset, records
from salesbook.core.findings import (
    CODES,
    ERROR,
    Finding,
    Findings,
    findings_frame_of,
    make_finding,
    select,
    values_of,
    workbook_order,
    workbook_sorted,
)
from salesbook.core.schema import normalize_name, team_schemas
from salesbook.core.scoring import score_reps
from salesbook.core.settings import Settings
from salesbook.io.writers import write_csv
from salesbook.outputs import findings_frame
from salesbook.pipeline import consolidate, validate

CUST = ["客户编号", "客户名称", "联系人", "联系电话", "负责销售", "建档日期"]
REPS = ["S001", "S002", "S003"]
ROSTER = [[r, f"销售{i}", f"E10{i}", "一组", "华东", "李强", "在职"] for i, r in enumerate(REPS)]
TARGETS = [[r, "2026-11", None, None, None, None, 10] for r in REPS]
TIGHT = [["activity.max_per_day", "3", ""], ["activity.min_summary_chars", "4", ""],
         ["activity.max_same_summary", "2", ""]]


def reference_effective_activities(ds: Dataset, st: Settings) -> list[Finding]:
    """The object path: `activity-not-counted` made one Finding at a time (the code before the frame path)."""
    f = ds.valid("activities")
    if f.empty:
        return []
    f = f[f["date"].notna() & f["rep_id"].notna()]
    max_day = int(st["activity.max_per_day"])
    min_chars = int(st["activity.min_summary_chars"])
    max_same = st["activity.max_same_summary"]
    reasons: dict[int, tuple[str, dict]] = {}
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
    out = []
    rows = f.loc[sorted(reasons)]
    for i, r in zip(rows.index, records(rows, ["_file", "_sheet", "_row", "rep_id", "summary", "date"]), strict=True):
        reason, fmt = reasons[i]
        zh, en = _REASONS[reason]
        column = "summary" if reason in ("short", "same") else "date"
        out.append(ds.finding("activity-not-counted", r, column, rep_id=r["rep_id"],
                              reason_zh=zh.format(**fmt), reason_en=en.format(**fmt)))
    return out


def busy_month(seed: int, n: int) -> list[list]:
    """n activity rows of three reps in Oct–Dec: repeats, crowded days, short and reused summaries,
    undated and blank rows, an unknown customer and rep, a bad type and rows after the as-of date."""
    rng = random.Random(seed)
    summaries = ["电话沟通", "电话 沟通", "上门拜访，介绍新产品", "ok", "拜访", "  送样品  ", "报价", "方案演示" * 60,
                 "跟进合同条款", "回访满意度"]
    rows = []
    for _ in range(n):
        month = rng.choice([10, 11, 11, 11, 12])
        day = date(2026, month, rng.randint(1, 4))
        row = [day, rng.choice(REPS), rng.choice(["C1", "C2", "C3"]), rng.choice(["拜访", "电话", "邮件"]),
               rng.choice(summaries), None, rng.choice([30, 45])]
        odd = rng.random()
        if odd < 0.03:
            row[0] = None  # undated: an error, so not looked at
        elif odd < 0.05:
            row = [None] * 7  # a blank row
        elif odd < 0.07:
            row[2] = "C9"  # unknown customer
        elif odd < 0.08:
            row[1] = "S999"  # unknown rep
        elif odd < 0.09:
            row[3] = "飞鸽传书"  # not an activity type
        elif odd < 0.11:
            row[4] = None  # no summary
        rows.append(row)
    kinds = ["拜访", "电话", "邮件", "演示", "谈判", "回访", "其他", "方案提交"]
    crowded = [[date(2026, 11, 5), "S001", f"C{1 + i % 3}", kinds[i // 3], "上门拜访，介绍新产品", None, 30]
               for i in range(14)]  # fourteen different activities in one day: over the default limit of 12
    return rows + crowded


def write_team(tmp_path, files: dict[str, list[list]], settings=None):
    master = write_master(tmp_path / "master.xlsx", ROSTER, TARGETS, settings)
    customers = [[f"C{i}", f"客户{i}有限公司", "张三", "13812345678", "S001", date(2026, 1, 1)] for i in (1, 2, 3)]
    write_workbook(tmp_path / "team" / "0_customers.xlsx", {"客户": [CUST, *customers]})
    for name, rows in files.items():
        write_workbook(tmp_path / "team" / name, {"活动": [ACTIVITY_HEADER, *rows]})
    return master


@pytest.mark.parametrize("settings", [None, TIGHT], ids=["defaults", "tight"])
def test_the_frame_path_gives_the_findings_of_the_object_path(tmp_path, settings) -> None:
    """On busy, messy activities in three files, effective_activities equals the one-by-one reference, in order."""
    master = write_team(tmp_path, {"a.xlsx": busy_month(1, 160), "b.xlsx": busy_month(2, 120),
                                   "c c.xlsx": busy_month(3, 40)}, settings)
    run = validate([tmp_path / "team"], master=master, period="2026-11", as_of=date(2026, 11, 2))
    ds, st = run.dataset, run.master.settings
    frame_path = effective_activities(ds, st)
    reference = reference_effective_activities(ds, st)
    reasons = Counter(f.message.split("：")[1][:4] for f in reference)
    assert len(reasons) == (4 if settings else 2), reasons  # every reason the settings allow is there
    assert isinstance(frame_path, Findings) and len(frame_path) == len(reference) > 50
    assert list(frame_path) == reference
    # and inside the run, with the other findings (errors of the odd rows) around them
    assert [f for f in run.findings if f.code == "activity-not-counted"] == sorted(
        reference, key=workbook_order(run.sheet_positions, _rank()))
    assert {f.code for f in run.findings} >= {"activity-not-counted", "required-missing", "unknown-reference"}


def test_a_run_s_findings_read_as_objects_equal_their_frame(tmp_path) -> None:
    """Counts, error count, filters, the findings table and its CSV are the same from the frame and from objects."""
    master = write_team(tmp_path, {"a.xlsx": busy_month(4, 150), "b.xlsx": busy_month(5, 80)}, TIGHT)
    run = validate([tmp_path / "team"], master=master, period="2026-11")
    objects = list(run.findings)
    assert len(objects) == len(run.findings) and all(isinstance(f, Finding) for f in objects)
    assert run.counts() == Counter(f.code for f in objects)
    assert run.error_count == sum(f.severity == ERROR for f in objects) > 0
    assert values_of(run.findings, "message") == [f.message for f in objects]
    assert select(run.findings, severity=ERROR, with_row=True) == [f for f in objects if f.severity == ERROR and f.row]
    assert select(run.findings, codes=["activity-not-counted"]) == select(objects, codes=["activity-not-counted"])
    assert not_counted_rows(run.findings) == not_counted_rows(objects)
    table = findings_frame(run.findings)
    pd.testing.assert_frame_equal(table, findings_frame(objects))
    a, b = write_csv(tmp_path / "a.csv", table), write_csv(tmp_path / "b.csv", findings_frame(objects))
    assert a.read_bytes() == b.read_bytes()


def test_consolidate_scores_the_same_from_the_frame_and_from_objects(tmp_path) -> None:
    """Scorecards, evidence and the scoring findings are the same whether scoring reads a frame or a list."""
    master = write_team(tmp_path, {"a.xlsx": busy_month(6, 150), "b.xlsx": busy_month(7, 90)}, TIGHT)
    c = consolidate([tmp_path / "team"], master=master, period="2026-11")
    run = c.run
    assert isinstance(run.findings, Findings)
    args = (run.period, run.master.settings, run.master.roster, run.master.targets)
    from_frame = score_reps(run.dataset, run.findings, *args, master_file="master.xlsx", as_of=run.as_of)
    from_objects = score_reps(run.dataset, list(run.findings), *args, master_file="master.xlsx", as_of=run.as_of)
    pd.testing.assert_frame_equal(from_frame.scorecards, from_objects.scorecards)
    pd.testing.assert_frame_equal(from_frame.evidence, from_objects.evidence)
    assert from_frame.findings == from_objects.findings
    assert (c.evidence["code"] == "activity-not-counted").any()  # the rows that did not count are in the evidence


def _rank() -> dict[str, int]:
    return {name: i for i, s in enumerate(team_schemas()) for name in (s.en, s.zh)}


def _values(rng: random.Random) -> object:
    return rng.choice(["", "S001", "上门拜访", "x" * 250, "长" * 199, 0, 7, 2.5, 3.0, None, True,
                       date(2026, 11, 3), datetime(2026, 11, 3, 9, 30), "{value}", "a {b} c"])


@pytest.mark.parametrize("code", sorted(CODES))
def test_findings_frame_of_makes_what_make_finding_makes(code) -> None:
    """Per code, with per-row and shared fields of every kind (long, numeric, blank, dates), each row equals make_finding."""
    rng = random.Random(code)
    _, zh, en = CODES[code]
    names = sorted({x[1] for t in (zh, en) for x in Formatter().parse(t) if x[1]}
                   - {"column", "value", "sheet", "file", "rep_id"})
    n = 40
    per_row = {k: [_values(rng) for _ in range(n)] for k in names[::2]}
    shared = {k: _values(rng) for k in names[1::2]}
    places = {"file": [rng.choice(["a.xlsx", "b b.xlsx"]) for _ in range(n)], "sheet": "活动",
              "row": [rng.choice([0, 3, 17]) for _ in range(n)], "column": [_values(rng) for _ in range(n)],
              "cell": [rng.choice(["", "A3", "AB17"]) for _ in range(n)], "value": [_values(rng) for _ in range(n)],
              "rep_id": [rng.choice(["", "S001", "S" * 230]) for _ in range(n)]}
    frame = findings_frame_of(code, n, **places, **per_row, **shared)
    made = Findings(frame=frame)
    for i in range(n):
        one = {k: v[i] if isinstance(v, list) else v for k, v in {**places, **per_row}.items()}
        assert made[i] == make_finding(code, **one, **shared), i
    # all the same except a shared text: one message for all
    same = findings_frame_of(code, 3, file="a.xlsx", row=5, column="日期", value="2026-11-03", **shared)
    assert list(Findings(frame=same)) == [make_finding(code, file="a.xlsx", row=5, column="日期",
                                                       value="2026-11-03", **shared)] * 3


def _some_findings(rng: random.Random, n: int) -> list[Finding]:
    out = []
    for _ in range(n):
        sheet = rng.choice(["", "活动", "客户", "Customers", "合同", "Odd"])
        out.append(Finding(rng.choice(["a.xlsx", "b.xlsx", "a.xlsx/x.xlsx"]), sheet, rng.choice([0, 2, 3, 10]), "c",
                           rng.choice(["", "A2", "B2", "AA2", "A10"]), rng.choice(["error", "info", "warning"]),
                           rng.choice(["bad-type", "activity-not-counted", "missing-sheet"]),
                           rng.choice(["m1", "m2", "长"]), rng.choice(["v", "w"]), rng.choice(["", "S1"])))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_workbook_sorted_orders_as_sorted_with_the_workbook_key(seed) -> None:
    """Frame sorting gives sorted(key=workbook_order) exactly, ties in their order, for lists, frames and mixes."""
    rng = random.Random(seed)
    items = _some_findings(rng, 300)
    positions = {("a.xlsx", "活动"): 2, ("a.xlsx", "客户"): 0, ("b.xlsx", "合同"): 1, ("b.xlsx", "活动"): 0}
    rank = _rank()
    expected = sorted(items, key=workbook_order(positions, rank))
    assert list(workbook_sorted(items, positions, rank)) == expected
    half = Findings(frame=Findings(items[150:]).frame().astype(object))  # a frame-built part
    mixed = Findings.concat([items[:150], half])
    assert mixed == items
    assert list(workbook_sorted(mixed, positions, rank)) == expected
    kept = {id(f) for f in items}
    assert all(id(f) in kept for f in workbook_sorted(items, positions, rank))  # the objects given, not copies


def test_findings_hold_every_finding_whichever_way_they_are_read() -> None:
    """Nothing is dropped: len, iteration, indexing, slices, +, repr and equality all see every finding."""
    rng = random.Random(9)
    items = _some_findings(rng, 50)
    lazy = Findings(frame=Findings(items).frame())
    assert len(lazy) == 50 and lazy[0] == items[0] and lazy[-1] == items[-1] and lazy[10:13] == items[10:13]
    assert list(lazy) == items and lazy == items and lazy == Findings(items)
    both = items[:5] + lazy
    assert isinstance(both, Findings) and list(both) == items[:5] + items
    assert list(lazy + items[:2]) == items + items[:2]
    assert repr(lazy) == f"Findings({items!r})"
    assert Findings() == [] and list(workbook_sorted([], {}, {})) == []
    pd.testing.assert_frame_equal(findings_frame(Findings()), findings_frame([]))
    pd.testing.assert_frame_equal(findings_frame(Findings.concat([[], Findings(frame=lazy.frame())])),
                                  findings_frame(items))


def test_findings_of_rows_equal_a_finding_made_from_each_row(tmp_path) -> None:
    """Dataset.findings_of (grade, follow-up and opportunity findings) equals Dataset.finding row by row:
    the cell as typed where kept (an activity type typed in Chinese), blanks, NaN, a blank rep, dates,
    a column one file lacks (its header from the schema, no cell), per-row and fixed message fields."""
    master = write_team(tmp_path, {"a.xlsx": busy_month(7, 60)})
    write_workbook(tmp_path / "team" / "z_no_minutes.xlsx",  # no 时长 column: its place is missing
                   {"活动": [ACTIVITY_HEADER[:-1], [date(2026, 11, 3), None, "C1", "电话", "电话回访客户", None],
                             [date(2026, 11, 4), "S001", "C2", "Visit", "上门拜访介绍方案", None]]})
    run = validate([tmp_path / "team"], master=master, period="2026-11")
    ds = run.dataset
    acts = ds.frame("activities")
    assert "_typed:activity_type" in acts.columns and acts["rep_id"].isna().any()
    assert acts["minutes"].isna().any() and ds.place("z_no_minutes.xlsx", "活动", "minutes") is None
    rng = random.Random(3)
    for key in ("activity_type", "date", "rep_id", "customer_id", "minutes", "summary"):
        days = [rng.choice([1, 14, None]) for _ in range(len(acts))]
        grades = [rng.choice(["A", "B", "客户<C>"]) for _ in range(len(acts))]
        made = ds.findings_of("follow-up-overdue", acts, key, rep_id=acts["rep_id"].tolist(), days=days,
                              grade=grades, cadence=7)
        one_by_one = [ds.finding("follow-up-overdue", r, key, rep_id=r["rep_id"], days=d, grade=g, cadence=7)
                      for r, d, g in zip(records(acts), days, grades, strict=True)]
        assert isinstance(made, Findings) and list(made) == one_by_one
    lacking = acts[acts["_file"] == "z_no_minutes.xlsx"]
    f, _ = ds.findings_of("opportunity-stale", lacking, "minutes", rep_id=lacking["rep_id"].tolist(), days=30)
    assert (f.column, f.cell, f.rep_id, f.value) == (ds._column_name(f.file, f.sheet, "minutes"), "", "", "")
    assert len(ds.findings_of("opportunity-overdue", acts.iloc[:0], "date", rep_id=[])) == 0


def test_unknown_references_built_as_a_frame_are_the_findings_made_row_by_row(tmp_path) -> None:
    """A file whose activities name unknown customers (and a rep written s001): its unknown-reference
    findings, built as a frame, are what one Dataset.finding a row gives (fields, hints, messages, order);
    in the run they carry their row's rep and their rows are not valid."""
    from salesbook.core import rules

    rows = [[date(2026, 11, 3), "s001" if i % 3 == 0 else "S001", f"C{900 + i % 7}", "拜访", "介绍新产品的方案", None, 30]
            for i in range(300)]
    master = write_team(tmp_path, {"a.xlsx": rows, "b.xlsx": busy_month(6, 60)})
    run = validate([tmp_path / "team"], master=master, period="2026-11")
    ds, m = run.dataset, run.master
    keys = rules.check_keys_and_references(ds, m.roster_ids, m.roster_errors)
    assert keys.has_frame
    reference = []  # the loop as it was: one finding a bad cell, schema by schema, column by column
    hints: dict[str, rules.Suggest] = {}
    labels = {"customers.customer_id": ("客户", "customer"), "contracts.contract_id": ("合同", "contract"),
              "opportunities.opportunity_id": ("商机", "opportunity")}
    known = {f"{s.name}.{s.key}": set(ds.frame(s.name)[s.key].dropna()) - {""} if not ds.frame(s.name).empty else set()
             for s in team_schemas() if s.key}
    for s in team_schemas():
        f = ds.frame(s.name)
        for col in s.columns:
            if f.empty or not (col.ref or col.roster):
                continue
            ids = known.get(col.ref, set()) if col.ref else m.roster_ids
            bad = rules._unknown(f[col.key], ids)
            suggest = hints.setdefault(col.ref or "roster", rules.Suggest(ids))
            zh, en = labels.get(col.ref, (col.ref, col.ref))
            label = {"target_zh": zh, "target_en": en} if col.ref else {
                "target_zh": "花名册中的销售代表", "target_en": "rep (not in the roster)"}
            reference += [ds.finding("unknown-reference", r, col.key, **label, **suggest.hint(r[col.key]))
                          for r in records(f[bad])]
    assert len(reference) > 400 and any("did you mean S001?" in f.message for f in reference)
    assert list(keys) == reference
    refs = [f for f in run.findings if f.code == "unknown-reference" and f.file == "a.xlsx"]
    assert len(refs) == 400 and {f.rep_id for f in refs} == {"S001", "s001"}
    acts = ds.frames["activities"]
    assert not acts.loc[acts["_file"] == "a.xlsx", "_valid"].any()
