"""The rules' column-at-a-time code against the straightforward code it replaced (kept here), on
generated data with the awkward cases: blanks, NaN, duplicate keys, mixed languages, full-width
characters and dates at the edges of the period."""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from salesbook.core import activities, rules
from salesbook.core.activities import effective_activities
from salesbook.core.dataset import Dataset, records
from salesbook.core.findings import Coded, _coded, findings_frame_of, make_finding
from salesbook.core.schema import normalize_name
from salesbook.core.settings import load_settings
from salesbook.core.table import TYPED, ColumnPlace
from salesbook.core.vector import codes, cumcount, first_rows, group_ids, map_distinct, sorted_distinct

AS_OF = date(2026, 11, 30)
BLANKS = [None, float("nan")]
TEXTS = ["甲", "A", "a", "ａ", "Ａ", "", "x y", "１", 1, 1.0, "Müller", "MÜLLER", "straße", "STRASSE"]


def _old_group(frame: pd.DataFrame, keys: list[str], dropna: bool) -> np.ndarray:
    return frame.groupby(keys, sort=False, dropna=dropna).ngroup().fillna(-1).astype(int).to_numpy()


@pytest.mark.parametrize("seed", range(40))
def test_group_ids_and_cumcount_are_the_groupbys_numbers(seed) -> None:
    """group_ids numbers groups as groupby(sort=False).ngroup() does and cumcount counts as its cumcount."""
    rng = random.Random(seed)
    n = rng.randint(1, 80)
    pool = BLANKS + TEXTS
    cols = [np.array([rng.choice(pool[: rng.randint(1, len(pool))]) for _ in range(n)], dtype=object)
            for _ in range(rng.randint(1, 4))]
    frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(cols)})
    for dropna in (False, True):
        got = group_ids(cols, dropna=dropna)
        assert got.tolist() == _old_group(frame, list(frame.columns), dropna).tolist()
        assert group_ids([codes(c, na_group=not dropna)[0] for c in cols], dropna=dropna).tolist() == got.tolist()
        old = frame.groupby(list(frame.columns), sort=False, dropna=dropna).cumcount()
        assert cumcount(got).tolist() == old.fillna(-1).astype(int).tolist()
    ids = group_ids(cols)
    assert first_rows(ids).tolist() == [int(np.flatnonzero(ids == g)[0]) for g in ids]


@pytest.mark.parametrize("seed", range(20))
def test_sorted_distinct_is_numpys_unique(seed) -> None:
    """sorted_distinct gives what np.unique gives: the distinct values, sorted (none of an empty array)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    values = rng.integers(-5, 1 << int(rng.integers(1, 40)), n).astype(np.int64) << int(rng.integers(0, 20))
    got = sorted_distinct(values)
    assert got.dtype == values.dtype and got.tolist() == np.unique(values).tolist()


def test_map_distinct_is_a_per_value_map() -> None:
    """map_distinct gives fn of each value (the blank value where blank), each distinct value computed once."""
    seen: list[object] = []

    def fn(v):
        seen.append(v)
        return f"<{v}>"

    values = pd.Series(["a", None, "b", "a", float("nan"), "b"], dtype=object)
    assert map_distinct(values, fn, blank="-").tolist() == ["<a>", "-", "<b>", "<a>", "-", "<b>"]
    assert seen == ["a", "b"]


# ------------------------------------------------------------------ effective activities

def _old_effective(ds: Dataset, st) -> pd.DataFrame:
    """effective_activities as it was: pandas groupbys and per-column maps."""
    f = ds.valid("activities")
    f = f[f["date"].notna() & f["rep_id"].notna()]
    if f.empty:
        return pd.DataFrame()
    max_day, min_chars = int(st["activity.max_per_day"]), int(st["activity.min_summary_chars"])
    max_same = st["activity.max_same_summary"]
    why = np.zeros(len(f), dtype=np.int8)
    first_of = np.full(len(f), -1, dtype=np.int64)
    group = f.groupby(activities.KEY, sort=False, dropna=False).ngroup().to_numpy()
    _, first = np.unique(group, return_index=True)
    repeat = np.ones(len(f), dtype=bool)
    repeat[first] = False
    first_of[repeat] = first[group[repeat]]
    why[repeat] = activities._REPEAT
    at = np.flatnonzero(~repeat)
    left = f.iloc[at]

    def each(values, fn):
        return {v: fn(v) for v in values.dropna().unique()}

    if min_chars > 0 and len(left):
        length = left["summary"].map(each(left["summary"], lambda s: len(str(s).strip())))
        short = (length.fillna(0) < min_chars).to_numpy()
        why[at[short]] = activities._SHORT
        at, left = at[~short], left[~short]
    if max_same is not None and len(left):
        month = left["date"].map(each(left["date"], lambda d: d.year * 100 + d.month))
        text = left["summary"].map(each(left["summary"], normalize_name))
        nth = left.assign(_m=month, _t=text).groupby(["rep_id", "_m", "_t"], sort=False).cumcount()
        over = (nth >= int(max_same)).to_numpy()
        why[at[over]] = activities._SAME
        at, left = at[~over], left[~over]
    if len(left):
        nth = left.groupby(["rep_id", "date"], sort=False).cumcount()
        why[at[(nth >= max_day).to_numpy()]] = activities._DAY
    hit = np.flatnonzero(why)
    if not len(hit):
        return pd.DataFrame()
    return activities._not_counted_frame(ds, f, hit, why[hit], first_of[hit], max_day, min_chars, max_same)


def _activity_dataset(rng: random.Random, n: int) -> Dataset:
    days = [AS_OF, AS_OF + timedelta(days=1), date(2026, 11, 1), date(2026, 10, 31), date(2026, 12, 1), None]
    summaries = ["拜访客户", "拜访客户 ", "ＡＢＣ", "abc", "短", "", None, float("nan"), "Call about the order",
                 "call about the order", "x" * 300]
    rows = []
    for i in range(n):
        rows.append({
            "_file": rng.choice(["a.xlsx", "b.xlsx"]), "_sheet": rng.choice(["活动记录", "Activities"]),
            "_row": i + 2, "rep_id": rng.choice(["S001", "S002", "Ｓ001", None]),
            "customer_id": rng.choice(["C1", "C2", "c1", "", None]), "date": rng.choice(days),
            "activity_type": rng.choice(["Visit", "Call", None]), "summary": rng.choice(summaries),
            "_valid": rng.random() > 0.1,
        })
    ds = Dataset()
    ds.frames["activities"] = pd.DataFrame(rows, columns=list(rows[0]) if rows else []).astype(
        {"_row": "int64", "_valid": bool})
    for fl in ("a.xlsx", "b.xlsx"):
        for sh in ("活动记录", "Activities"):
            ds.sheet_schemas[(fl, sh)] = "activities"
    # one sheet has both columns where it wrote them, one only its date column, the others neither
    ds.places[("a.xlsx", "活动记录")] = {"date": ColumnPlace("日期", 2, "C"), "summary": ColumnPlace("摘要", 6, "G")}
    ds.places[("b.xlsx", "Activities")] = {"date": ColumnPlace("Date", 0, "A")}
    return ds


@pytest.mark.parametrize("seed", range(12))
def test_effective_activities_finds_what_the_groupby_version_found(seed) -> None:
    """Every activity-not-counted finding (reason, message, order) is the one the groupby version made."""
    rng = random.Random(seed)
    ds = _activity_dataset(rng, rng.randint(1, 400))
    for setting in ([], [("activity.min_summary_chars", 3), ("activity.max_same_summary", 2),
                         ("activity.max_per_day", 2)]):
        st = load_settings(setting)
        old = _old_effective(ds, st)
        new = effective_activities(ds, st)
        assert len(new) == len(old)
        if len(old):
            pd.testing.assert_frame_equal(new.frame(), old.reset_index(drop=True))


# ------------------------------------------------------------------ messages as columns

def test_findings_frame_of_with_one_numbering_for_both_languages_is_make_finding() -> None:
    """Reasons given as one numbering of zh and en texts (braces, long texts) give make_finding's messages."""
    zh = ["理由 {甲}", "重复了 a.xlsx [活动] B2", "长" * 300]
    en = ["reason {a}", "repeats a.xlsx [Activities] B2", "long " * 60]
    number = np.array([2, 0, 1, 1, 0, 2], dtype=np.int64)
    frame = findings_frame_of("activity-not-counted", len(number), file="a.xlsx", sheet="活动", row=3,
                              reason_zh=Coded(number, zh), reason_en=Coded(number, en))
    for k, i in enumerate(number.tolist()):
        want = make_finding("activity-not-counted", file="a.xlsx", sheet="活动", row=3, reason_zh=zh[i],
                            reason_en=en[i])
        assert frame["message"].iloc[k] == want.message


def test_coded_numbers_texts_in_order_of_first_appearance() -> None:
    """_coded gives the numbering dict.fromkeys gives (equal texts alike, first seen first)."""
    rng = random.Random(5)
    for _ in range(50):
        v = [rng.choice(["a", "b", "", "Ａ", "a ", "文件.xlsx"]) for _ in range(rng.randint(0, 30))]
        number = {x: k for k, x in enumerate(dict.fromkeys(v))}
        got = _coded(v)
        assert got.codes.tolist() == [number[x] for x in v] and got.values == list(number)


# ------------------------------------------------------------------ customers

_OLD_WHITESPACE = re.compile(r"\s+")


def _old_normalize_company(name: object) -> str:
    """normalize_company as it was, with regular expressions."""
    text = _OLD_WHITESPACE.sub(" ", unicodedata.normalize("NFKC", str(name))).casefold().strip()
    changed = True
    while changed:
        changed = False
        if text.endswith(rules._SUFFIX_ENDS):
            for suf in rules._SUFFIXES:
                if text.endswith(suf) and len(text) > len(suf):
                    text = text[: -len(suf)].rstrip(" ,.")
                    changed = True
        if text[-1:] in rules._LATIN_LAST:
            m = rules._LATIN_SUFFIX.search(text)
            if m and m.start() > 0:
                text = text[: m.start()].rstrip(" ,.")
                changed = True
    return _OLD_WHITESPACE.sub("", text)


SPACES = [" ", "\u3000", "\xa0", "\t", "\n", "\u2028", "\x1c", "\u200b", "  "]
PARTS = ["上海", "ＡＢＣ", "abc", "Zinc", "Müller", "STRASSE", "ﬁ", "Ⅻ", "有限公司", "股份有限公司", "公司",
         "Co., Ltd.", "Inc.", "Corp", "ltd", ",", ".", "集团公司", "(", "）"]


def test_normalize_company_is_the_regex_version() -> None:
    """normalize_company gives what the regex version gave, for names with every kind of whitespace."""
    rng = random.Random(7)
    names: list[object] = [None, float("nan"), 1, 1.0, "", " ", "公司", "有限公司有限公司", "A Inc. Inc."]
    for _ in range(3000):
        names.append("".join(rng.choice(PARTS + SPACES) for _ in range(rng.randint(1, 7))))
    for name in names:
        assert rules.normalize_company(name) == _old_normalize_company(name), repr(name)


def test_casefolding_makes_and_takes_no_whitespace() -> None:
    """No character's casefold is or holds whitespace unless the character is whitespace (split after it is safe)."""
    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        folded = c.casefold()
        assert c.isspace() == any(x.isspace() for x in folded) or not folded, hex(cp)


def _customer_dataset(rng: random.Random, n_cust: int, n_act: int) -> Dataset:
    names = ["甲公司", "甲 有限公司", "ＡＢＣ Inc.", "abc", None, float("nan"), "Zinc", "乙", "乙股份有限公司", ""]
    created = [date(2026, 1, 1), AS_OF, AS_OF + timedelta(days=1), date(2026, 11, 1), None]
    cust = []
    for i in range(n_cust):
        cust.append({
            "_file": rng.choice(["a.xlsx", "b.xlsx"]), "_sheet": "客户", "_row": i + 2,
            "customer_id": rng.choice([f"C{k}" for k in range(8)] + ["", None, "ｃ1"]),
            "customer_name": rng.choice(names), "owner": rng.choice(["S001", "S002", None]),
            "created": rng.choice(created), "company_size": rng.choice(["小型", "大型", None]),
            "annual_potential": rng.choice([0.0, 100.0, float("nan")]), "willingness": rng.choice(["高", None]),
            "historical_revenue": rng.choice([0.0, 150.0, float("nan")]), "grade": rng.choice(["A", "D", None]),
            "industry": None, "region": None, TYPED + "grade": None, TYPED + "customer_id": None,
            TYPED + "customer_name": None, "_valid": rng.random() > 0.1,
        })
    days = [AS_OF, AS_OF + timedelta(days=1), date(2026, 11, 1), date(2026, 10, 31), None]
    acts = [{"_file": "a.xlsx", "_sheet": "活动", "_row": i + 2,
             "customer_id": rng.choice([f"C{k}" for k in range(10)] + ["", None, "ｃ1"]),
             "rep_id": "S001", "date": rng.choice(days), "activity_type": "Visit", "summary": "拜访客户",
             "_valid": rng.random() > 0.1} for i in range(n_act)]
    ds = Dataset()
    ds.frames["customers"] = pd.DataFrame(cust).astype({"_row": "int64", "_valid": bool})
    ds.frames["activities"] = pd.DataFrame(acts, columns=list(acts[0]) if acts else
                                           ["_file", "_sheet", "_row", "customer_id", "rep_id", "date",
                                            "activity_type", "summary", "_valid"]).astype({"_valid": bool})
    return ds


def _old_last_days(ds: Dataset, cust: pd.DataFrame, as_of: date | None) -> list:
    acts = ds.valid("activities")
    a = acts[rules.present(acts["customer_id"]) & acts["date"].notna()]
    if as_of is not None:
        a = a[(a["date"] <= as_of).astype(bool)]
    days_of = {d: d.toordinal() for d in a["date"].dropna().unique()}
    latest = pd.Series(a["date"].map(days_of).to_numpy(), dtype="int64").groupby(
        a["customer_id"].to_numpy(), sort=False).max()
    return cust["customer_id"].map(latest).to_numpy(dtype=float).tolist()


def _old_same_company(cust: pd.DataFrame) -> list[list[dict]]:
    names = cust["customer_name"]
    norm = names.map({v: _old_normalize_company(v) for v in names.unique()})
    again = norm.duplicated(keep=False).to_numpy()
    keys = ["_file", "_sheet", "_row", "owner", "created", "customer_name", TYPED + "customer_name"]
    groups: dict[str, list[dict]] = {}
    for key, r in zip(norm[again].tolist(), records(cust[again], keys), strict=True):
        groups.setdefault(key, []).append(r)
    return list(groups.values())


@pytest.mark.parametrize("seed", range(15))
def test_customer_last_activity_and_same_company_are_the_old_ones(seed) -> None:
    """The last activity per customer and the same-company groups equal the groupby / per-value map versions."""
    rng = random.Random(seed)
    ds = _customer_dataset(rng, rng.randint(1, 60), rng.randint(0, 200))
    cust = ds.valid("customers")
    for as_of in (AS_OF, None):
        new = rules._last_activity_days(ds.frame("activities"), cust["customer_id"], as_of).tolist()
        old = _old_last_days(ds, cust, as_of)
        assert [None if x != x else x for x in new] == [None if x != x else x for x in old]
    assert [list(g) for g in rules._same_company(cust)] == _old_same_company(cust)


def test_day_numbers_of_a_date_column() -> None:
    """_days gives each date's day number and NaN for a blank (None, NaN, NaT)."""
    values = pd.Series([AS_OF, None, date(2026, 1, 1), float("nan"), pd.NaT, AS_OF], dtype=object)
    got = rules._days(values).tolist()
    want = [AS_OF.toordinal(), None, date(2026, 1, 1).toordinal(), None, None, AS_OF.toordinal()]
    assert [None if x != x else x for x in got] == want


# ------------------------------------------------------------------ scoring

def _old_in_period(dates: pd.Series, period) -> np.ndarray:
    inside = {d: period.contains(d) for d in dates.dropna().unique()}
    return dates.map(inside).eq(True).to_numpy()


def _old_collect_kpis(ds: Dataset, period, not_counted) -> dict:
    """collect_kpis as it was: each counted row appended under its rep as it comes."""
    from decimal import Decimal

    from salesbook.core.counted import CODE as COLLECTION_NOT_COUNTED
    from salesbook.core.counted import uncounted_contracts
    from salesbook.core.scoring import NOT_COUNTED, dec

    ev: dict = {}

    def rows(frame, mask, *keys):
        sub = frame[mask]
        return zip(*(sub[k].tolist() for k in ("_file", "_sheet", "_row", *keys)), strict=True)

    counted: dict = {}
    c = ds.valid("contracts")
    signed = ((c["status"] == "Signed") & (c["legal_review"] == "Approved") & (c["finance_review"] == "Approved")
              ).to_numpy() & _old_in_period(c["signed"], period)
    for fl, sh, rw, cid, rep, amount in rows(c, signed, "contract_id", "owner", "amount"):
        counted[cid] = rep
        ev.setdefault(rep, {}).setdefault("revenue", []).append((fl, sh, int(rw), dec(amount), ""))
    lines = ds.valid("contract_lines")
    for fl, sh, rw, cid, quantity in rows(lines, lines["contract_id"].isin(list(counted)).to_numpy(),
                                          "contract_id", "quantity"):
        ev.setdefault(counted[cid], {}).setdefault("volume", []).append((fl, sh, int(rw), dec(quantity), ""))
    owner = _old_first_owner(ds.frame("contracts"), "contract_id")
    uncounted = uncounted_contracts(ds)
    paid = ds.valid("collections")
    mask = paid["contract_id"].isin(list(owner)).to_numpy() & _old_in_period(paid["date"], period)
    for fl, sh, rw, cid, amount in rows(paid, mask, "contract_id", "amount"):
        item = (fl, sh, int(rw), Decimal(0), COLLECTION_NOT_COUNTED) if cid in uncounted \
            else (fl, sh, int(rw), dec(amount), "")
        ev.setdefault(owner[cid], {}).setdefault("collections", []).append(item)
    one, zero = Decimal(1), Decimal(0)
    for name, date_col, rep_col, kpi in (("customers", "created", "owner", "new_customers"),
                                          ("activities", "date", "rep_id", "activities")):
        f = ds.valid(name)
        f = f[_old_in_period(f[date_col], period)]
        skip = not_counted if kpi == "activities" else frozenset()
        for rep, fl, sh, rw in zip(f[rep_col].tolist(), f["_file"].tolist(), f["_sheet"].tolist(),
                                   f["_row"].tolist(), strict=True):
            item = (fl, sh, int(rw), zero, NOT_COUNTED) if (fl, sh, rw) in skip else (fl, sh, int(rw), one, "")
            ev.setdefault(rep, {}).setdefault(kpi, []).append(item)
    return ev


def _old_first_owner(frame: pd.DataFrame, key: str) -> dict:
    out: dict = {}
    for k, o in zip(frame[key].tolist(), frame["owner"].tolist(), strict=True):
        if not rules.blank(k) and k not in out and not rules.blank(o):
            out[k] = o
    return out


def _money_dataset(rng: random.Random) -> Dataset:
    ds = _customer_dataset(rng, rng.randint(1, 60), rng.randint(0, 200))
    acts = ds.frames["activities"]
    acts["rep_id"] = [rng.choice(["S001", "S002", "Ｓ001", "s001"]) for _ in range(len(acts))]
    ids = ["K1", "K2", "K3", "", None, "ｋ1"]
    dates = [AS_OF, date(2026, 11, 1), date(2026, 10, 31), date(2026, 12, 1), None]

    def frame(n, **cols):
        data = {"_file": [rng.choice(["a.xlsx", "b.xlsx"]) for _ in range(n)], "_sheet": ["表"] * n,
                "_row": list(range(2, n + 2)), "_valid": [rng.random() > 0.1 for _ in range(n)]}
        data.update({k: [rng.choice(v) for _ in range(n)] for k, v in cols.items()})
        return pd.DataFrame(data).astype({"_row": "int64", "_valid": bool})

    ds.frames["contracts"] = frame(rng.randint(0, 30), contract_id=ids, owner=["S001", "S002", None, ""],
                                   status=["Signed", "Draft", "Terminated"], legal_review=["Approved", None],
                                   finance_review=["Approved", "Rejected"], signed=dates,
                                   amount=[100.0, 0.1, 1e9, 12.34])
    ds.frames["contract_lines"] = frame(rng.randint(0, 30), contract_id=ids, quantity=[1.0, 2.5, 0.0])
    ds.frames["collections"] = frame(rng.randint(0, 30), contract_id=ids, date=dates, amount=[5.0, 0.01])
    return ds


@pytest.mark.parametrize("seed", range(15))
def test_collect_kpis_and_owners_are_the_row_by_row_ones(seed) -> None:
    """Each rep's KPI rows (order of reps, KPIs and rows included), the first owners and the period masks
    are the row-by-row versions'."""
    from salesbook.core.periods import parse_period
    from salesbook.core.scoring import collect_kpis, in_period

    rng = random.Random(seed)
    ds = _money_dataset(rng)
    acts = ds.frame("activities")
    skip = {(fl, sh, rw) for fl, sh, rw in zip(acts["_file"], acts["_sheet"], acts["_row"].tolist(), strict=True)
            if rng.random() < 0.3}
    for label in ("2026-11", "2026-Q4"):
        period = parse_period(label)
        new, old = collect_kpis(ds, period, skip), _old_collect_kpis(ds, period, skip)
        assert new == old and list(new) == list(old)
        assert all(list(new[rep]) == list(old[rep]) for rep in old)
        for name, col in (("contracts", "signed"), ("collections", "date"), ("activities", "date")):
            assert in_period(ds.frame(name)[col], period).tolist() == \
                _old_in_period(ds.frame(name)[col], period).tolist()
    for name, key in (("contracts", "contract_id"), ("customers", "customer_id")):
        got, want = rules._first_owner(ds.frame(name), key), _old_first_owner(ds.frame(name), key)
        assert got == want and list(got) == list(want)


def _old_compute_score(actuals, targets, deductions, st):
    """compute_score as it was: every setting read and converted for each rep."""
    from decimal import Decimal

    from salesbook.core.scoring import KPIS, ScoreResult, dec, rating_for, rescaled_weights, round_half_up

    cap = dec(st["attainment_cap"])
    attain = {}
    for k in KPIS:
        target = targets.get(k)
        if target is not None and target != 0:
            attain[k] = min(dec(actuals.get(k, 0)) / target, cap)
    w = rescaled_weights(st.weights(), list(attain))
    base = Decimal(100) * sum((w[k] * attain[k] for k in attain), Decimal(0))
    ded = min(dec(st["deduction_cap"]), sum(deductions, Decimal(0)))
    score = round_half_up(max(Decimal(0), base - ded))
    rating = rating_for(score, st)
    return ScoreResult(attain, w, base, ded, score, rating, dec(st[f"coefficient.{rating}"]))


def test_compute_score_with_constants_is_the_old_compute_score() -> None:
    """compute_score given score_constants once scores every rep as reading the settings for each rep did."""
    from decimal import Decimal

    from salesbook.core.scoring import compute_score, score_constants

    st = load_settings([])
    consts = score_constants(st)
    rng = random.Random(3)
    for _ in range(200):
        actuals = {k: Decimal(rng.choice(["0", "1", "99.99", "1234.5"])) for k in
                   ("revenue", "volume", "collections", "new_customers", "activities")}
        targets = {k: rng.choice([None, Decimal(0), Decimal("100"), Decimal("0.5")]) for k in actuals}
        deductions = [Decimal(rng.choice(["3", "5", "10"])) for _ in range(rng.randint(0, 4))]
        want = _old_compute_score(actuals, targets, deductions, st)
        assert compute_score(actuals, targets, deductions, st, consts=consts) == want
        assert compute_score(actuals, targets, deductions, st) == want


def test_unknown_references_are_present_values_not_in_the_ids() -> None:
    """_unknown marks what present(values) & ~values.isin(ids) marked, for text and number columns."""
    rng = random.Random(11)
    ids = {"C1", "c1", "Ｃ1", "1", ""}
    for _ in range(100):
        values = pd.Series([rng.choice(BLANKS + ["C1", "C2", "c1", "Ｃ1", "", "1", "C 1", 1]) for _ in range(30)],
                           dtype=object)
        want = (rules.present(values) & ~values.isin(ids)).to_numpy()
        assert rules._unknown(values, ids).tolist() == want.tolist()
    numbers = pd.Series([1.0, float("nan"), 2.0])
    assert rules._unknown(numbers, {1.0}).tolist() == [False, False, True]


def test_normalize_receipt_fast_path_is_the_full_normalisation() -> None:
    """A receipt number of ASCII letters and digits normalises as NFKC, noise removal and casefold do."""
    rng = random.Random(13)
    chars = "aZ09xX-_/ １Ａ\u3000ß"
    for _ in range(3000):
        no = "".join(rng.choice(chars) for _ in range(rng.randint(0, 8)))
        full = rules._RECEIPT_NOISE.sub("", unicodedata.normalize("NFKC", no)).casefold()
        assert rules.normalize_receipt(no) == full, repr(no)
    assert rules.normalize_receipt(12345) == "12345" and rules.normalize_receipt(None) == "none"
