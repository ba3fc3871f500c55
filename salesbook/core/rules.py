"""Rules across rows, sheets and files (SPEC §4): keys, references, and the domain rules."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from .dataset import Dataset, records, typed
from .findings import ERROR, Finding, Findings, select
from .schema import normalize_name, team_schemas
from .settings import Settings
from .table import TYPED
from .vector import map_distinct

_SUFFIXES = ["股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司"]
# English legal suffixes count only as a whole word: "Z Inc." is Z, but "Zinc" stays zinc.
_LATIN_SUFFIX = re.compile(r"(?<![a-z0-9])(?:co\.?\s*,?\s*ltd|corporation|corp|ltd|inc)\.?$")
_RECEIPT_NOISE = re.compile(r"[\s\-_/]")


def blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT or (isinstance(v, str) and not v)


def normalize_company(name: object) -> str:
    """Company name for conflict checks: NFKC, no whitespace, case-folded, legal suffix removed."""
    # str.split() splits on exactly the whitespace `\s` matches; casefolding never makes or takes whitespace
    text = " ".join(unicodedata.normalize("NFKC", str(name)).casefold().split())
    changed = True
    while changed:
        changed = False
        if text.endswith(_SUFFIX_ENDS):
            for suf in _SUFFIXES:
                if text.endswith(suf) and len(text) > len(suf):
                    text = text[: -len(suf)].rstrip(" ,.")
                    changed = True
        if text[-1:] in _LATIN_LAST:  # the English suffixes end so (the text has no newline left)
            m = _LATIN_SUFFIX.search(text)
            if m and m.start() > 0:
                text = text[: m.start()].rstrip(" ,.")
                changed = True
    return text.replace(" ", "")  # the only whitespace left is single spaces


_SUFFIX_ENDS = tuple(_SUFFIXES)
_LATIN_LAST = frozenset("dnpc.")


def normalize_receipt(no: object) -> str:
    if no.__class__ is str and no.isascii() and no.isalnum():
        return no.lower()  # ASCII letters and digits: NFKC changes nothing, no noise, casefold is lower
    return _RECEIPT_NOISE.sub("", unicodedata.normalize("NFKC", str(no))).casefold()


def _records(frame: pd.DataFrame) -> list[dict]:
    return records(frame)


def present(series: pd.Series) -> pd.Series:
    """Mask of the cells that hold a value (not None, NaN or empty text)."""
    if series.dtype.kind in "fiub":
        return series.notna()
    # Parsed cells are stripped and blanks are None, so this needs no per-cell Python.
    return series.notna() & (series != "")


# ------------------------------------------------------------------ generic, across files

def check_keys_and_references(ds: Dataset, roster: set[str] | None,
                               roster_errors: dict[str, str] | None = None) -> Findings:
    """`duplicate-key` (every row after the first, in file then row order) and `unknown-reference`;
    a rep whose roster row was left out for an error (`roster_errors`: rep id -> where the roster row's
    errors are) gets `roster-row-error` pointing at that row instead, since the rep is in the roster."""
    roster_errors = roster_errors or {}
    out: list[Finding] = []
    parts: list[list[Finding] | Findings] = [out]  # in order: the duplicates, then each column's references
    known: dict[str, set[str]] = {}
    for s in team_schemas():
        f = ds.frame(s.name)
        for col in s.columns:
            if col.unique and not f.empty:
                values = f[col.key]
                has = present(values)
                dup = has & values.duplicated(keep="first")
                if dup.any():
                    first_rows = f[has & values.duplicated(keep=False) & ~values.duplicated(keep="first")]
                    first = {}
                    for r in records(first_rows, [col.key, "_file", "_sheet", "_row"]):
                        place = ds.place(r["_file"], r["_sheet"], col.key)
                        first[r[col.key]] = f"{r['_file']} [{r['_sheet']}] {place.letter if place else ''}{r['_row']}"
                    for r in records(f[dup]):
                        out.append(ds.finding("duplicate-key", r, col.key, first=first[r[col.key]]))
            if col.key == s.key:
                known[f"{s.name}.{col.key}"] = set(f[col.key][present(f[col.key])]) if not f.empty else set()
    labels = {"customers.customer_id": ("客户", "customer"), "contracts.contract_id": ("合同", "contract"),
              "opportunities.opportunity_id": ("商机", "opportunity")}
    roster_label = {"target_zh": "花名册中的销售代表", "target_en": "rep (not in the roster)"}
    hints: dict[str, Suggest] = {}
    for s in team_schemas():
        f = ds.frame(s.name)
        if f.empty:
            continue
        for col in s.columns:
            if not (col.ref or (col.roster and roster is not None)):
                continue
            values = f[col.key]
            target = col.ref or "roster"
            ids = known.get(col.ref, set()) if col.ref else roster
            bad = _unknown(values, ids)
            if not bad.any():
                continue
            suggest = hints.get(target) or hints.setdefault(target, Suggest(ids))
            zh, en = labels.get(col.ref, (col.ref, col.ref))
            label = {"target_zh": zh, "target_en": en} if col.ref else roster_label
            rows = f[bad]
            values = rows[col.key].tolist()
            if not col.ref and roster_errors and any(v in roster_errors for v in set(values)):
                part: list[Finding] = []  # some point at a roster row instead: row by row, as they come
                for r in records(rows):
                    where = roster_errors.get(r[col.key])
                    if where is not None:
                        part.append(ds.finding("roster-row-error", r, col.key, where=where))
                    else:
                        part.append(ds.finding("unknown-reference", r, col.key, **label, **suggest.hint(r[col.key])))
                parts.append(part)
                continue
            # a file whose every row names an unknown id has as many findings: built as a frame of them
            said = {v: suggest.hint(v) for v in dict.fromkeys(values)}
            parts.append(ds.findings_of("unknown-reference", rows, col.key, rep_id="", **label,
                                        hint_zh=[said[v].get("hint_zh", "") for v in values],
                                        hint_en=[said[v].get("hint_en", "") for v in values]))
    return Findings.concat(parts)


def _unknown(values: pd.Series, ids: set) -> np.ndarray:
    """Mask of the cells that hold a value (`present`) not in `ids`, each distinct value looked up once."""
    if values.dtype.kind in "fiub":
        return (present(values) & ~values.isin(ids)).to_numpy()
    number, distinct = pd.factorize(values.to_numpy(dtype=object))  # a blank is -1
    unknown = [v != "" and v not in ids for v in distinct.tolist()]
    return np.array([*unknown, False], dtype=bool)[number]


class Suggest:
    """Known ids by their normalised spelling, to say "did you mean S001?" for s001, Ｓ００１ or "S 001"."""

    def __init__(self, ids: set[str]):
        self._by: dict[str, str | None] = {}
        for i in sorted(ids):  # two ids that normalise alike suggest neither: no guessing
            n = normalize_name(i)
            self._by[n] = i if n not in self._by else None

    def hint(self, value: object) -> dict[str, str]:
        """Message fields for an unknown `value`: the hint when one known id differs only in case, width or spaces."""
        match = self._by.get(normalize_name(value))
        if not match or match == value:
            return {}
        return {"hint_zh": f"（是否为 {match}？）", "hint_en": f" (did you mean {match}?)"}


# ------------------------------------------------------------------ customers

def grade_points(r: dict, st: Settings, _cache: dict | None = None) -> float:
    g = _cache if _cache is not None else grade_settings(st)
    size = r.get("company_size")
    pts = float(g["size"].get(size, 0.0)) if not blank(size) else 0.0
    pot = r.get("annual_potential")
    if not blank(pot):
        for threshold, points in g["potential"]:
            if pot >= threshold:
                pts += points
                break
    will = r.get("willingness")
    if not blank(will):
        pts += float(g["willingness"].get(will, 0.0))
    hist = r.get("historical_revenue")
    if not blank(hist):
        if hist >= 100:
            pts += g["ge100"]
        elif hist > 0:
            pts += g["gt0"]
    return pts


def grade_settings(st: Settings) -> dict:
    """The grade model's numbers, looked up once per run rather than once per customer."""
    return {"size": st.grouped("grade.size"), "willingness": st.grouped("grade.willingness"),
            "potential": st["grade.potential"], "ge100": float(st["grade.history.ge100"]),
            "gt0": float(st["grade.history.gt0"]),
            "bands": [(g, float(st[f"grade.band.{g}"])) for g in ("A", "B", "C")]}


def grade_for(points: float, st: Settings, _cache: dict | None = None) -> str:
    bands = (_cache or grade_settings(st))["bands"]
    for g, lowest in bands:
        if points >= lowest:
            return g
    return "D"


def grade_customers(ds: Dataset, st: Settings, as_of: date | None) -> tuple[pd.DataFrame, Findings]:
    """Customer grades with follow-up status; `grade-mismatch`, `follow-up-overdue`, `customer-conflict`
    (warnings all, each with the row's owner as its rep).

    Computed a column at a time: points from the size, potential, willingness and history columns,
    the grade from the bands, the last activity per customer from a group maximum.
    """
    out: list[Finding] = []
    cust = ds.valid("customers")
    cadence = st.grouped("cadence")
    g = grade_settings(st)
    cols = ["customer_id", "customer_name", "owner", "industry", "region", "points", "grade", "grade_given",
            "last_activity", "days_since_follow_up", "cadence_days", "follow_up_overdue", "file", "sheet", "row"]
    if cust.empty:
        return pd.DataFrame([], columns=cols), Findings(out)
    pts = _points(cust["company_size"], g["size"])
    pot = cust["annual_potential"].to_numpy(dtype=float)
    pts = pts + np.select([pot >= t for t, _ in g["potential"]], [float(p) for _, p in g["potential"]], 0.0)
    pts = pts + _points(cust["willingness"], g["willingness"])
    hist = cust["historical_revenue"].to_numpy(dtype=float)
    pts = pts + np.where(hist >= 100, g["ge100"], np.where(hist > 0, g["gt0"], 0.0))
    grade = np.select([pts >= lowest for _, lowest in g["bands"]], [b for b, _ in g["bands"]], "D").astype(object)
    given = cust["grade"]
    mismatch = (present(given) & (given != grade)).to_numpy()
    last_day = _last_activity_days(ds.frame("activities"), cust["customer_id"], as_of)
    last = [None if d != d else date.fromordinal(int(d)) for d in last_day.tolist()]
    created = cust["created"]
    cadence_of = {k: int(v) for k, v in cadence.items()}
    cadence_days = [cadence_of[x] for x in grade]
    n = len(cust)
    days: list[int | None] = [None] * n
    overdue = np.zeros(n, dtype=bool)
    if as_of is not None:
        created_day = _days(created)
        since = np.where(np.isnan(last_day), created_day, last_day)
        counted = created_day <= as_of.toordinal()
        span = as_of.toordinal() - since
        overdue = counted & (span > np.array(cadence_days))
        days = [int(x) if c else None for x, c in zip(span.tolist(), counted.tolist(), strict=True)]
    keys = ["_file", "_sheet", "_row", "owner", "grade", TYPED + "grade", "customer_id", TYPED + "customer_id"]
    for r, gr in zip(_rows(cust, mismatch, keys), grade[mismatch], strict=True):
        out.append(ds.finding("grade-mismatch", r, "grade", rep_id=r["owner"], computed=gr))
    late = cust[overdue]  # one in eight customers in a busy month: built as a frame of findings
    late_grades = grade[overdue].tolist()
    overdue_found = ds.findings_of("follow-up-overdue", late, "customer_id", rep_id=late["owner"].tolist(),
                                   days=np.array(days, dtype=object)[overdue].tolist(), grade=late_grades,
                                   cadence=[cadence[gr] for gr in late_grades])
    conflicts = customer_conflicts(ds, _same_company(cust))
    frame = pd.DataFrame({
        "customer_id": cust["customer_id"].tolist(), "customer_name": cust["customer_name"].tolist(),
        "owner": cust["owner"].tolist(), "industry": cust["industry"].tolist(), "region": cust["region"].tolist(),
        "points": pts.tolist(), "grade": grade.tolist(),
        "grade_given": [None if blank(v) else v for v in given.tolist()],
        "last_activity": last, "days_since_follow_up": days, "cadence_days": cadence_days,
        "follow_up_overdue": overdue.tolist(), "file": cust["_file"].tolist(), "sheet": cust["_sheet"].tolist(),
        "row": cust["_row"].tolist(),
    }, columns=cols)
    return frame, Findings.concat([out, overdue_found, conflicts])


def _last_activity_days(acts: pd.DataFrame, customer_ids: pd.Series, as_of: date | None) -> np.ndarray:
    """Per customer id, the day number of its last valid activity on or before `as_of` (NaN: none): the
    activities' ids and the customers' numbered together, then a maximum per number."""
    day = _days(acts["date"])
    take = acts["_valid"].to_numpy() & present(acts["customer_id"]).to_numpy() & ~np.isnan(day)
    if as_of is not None:
        take &= day <= as_of.toordinal()
    ids = np.concatenate([acts["customer_id"].to_numpy(dtype=object)[take], customer_ids.to_numpy(dtype=object)])
    number, distinct = pd.factorize(ids)  # a blank customer id is -1: it has no activity
    n = int(take.sum())
    best = np.full(len(distinct) + 1, -1, dtype=np.int64)  # day numbers are positive: -1 is none
    np.maximum.at(best, number[:n], day[take].astype(np.int64))
    last = best[number[n:]]
    return np.where(last < 0, np.nan, last.astype(float))


def _points(values: pd.Series, points: dict) -> np.ndarray:
    """Grade points of an enum column (0 for a blank or an unlisted value)."""
    table = {k: float(v) for k, v in points.items()}
    return values.map(table).to_numpy(dtype=float, na_value=0.0)


def _rows(frame: pd.DataFrame, mask, keys: list[str]) -> list[dict]:
    """The rows of `frame` under `mask` as dicts of `keys` (those the frame has)."""
    return records(frame[mask], [k for k in keys if k in frame.columns])


def _same_company(cust: pd.DataFrame):
    """The valid customer rows of every normalised company name filed more than once, as dicts."""
    names = cust["customer_name"]
    norm = map_distinct(names, normalize_company)  # once per distinct name
    blank = pd.isna(names).to_numpy()
    if blank.any():  # None and NaN as the old per-value map gave them ("none", "nan")
        norm[blank] = names[blank].map({v: normalize_company(v) for v in names[blank].unique()}).to_numpy()
    again = pd.Series(norm, dtype=object).duplicated(keep=False).to_numpy()
    if not again.any():
        return []
    keys = ["_file", "_sheet", "_row", "owner", "created", "customer_name", TYPED + "customer_name"]
    groups: dict[str, list[dict]] = {}
    for key, r in zip(norm[again].tolist(), _rows(cust, again, keys), strict=True):
        groups.setdefault(key, []).append(r)
    return groups.values()


def customer_conflicts(ds: Dataset, groups) -> list[Finding]:
    """`customer-conflict` on every row of a company filed by more than one owner (SPEC §3.1).

    `groups` are the valid customer rows by normalised company name. Who filed first is decided
    by 建档日期 (Created), ties by sorted file then row — the 客户报备 rule of who owns the
    customer. Each row names the other owners' rows; one owner filing a company twice is no
    conflict (and the same id twice is a duplicate-key, not this).
    """
    out: list[Finding] = []
    for rows in groups:
        if len(rows) < 2 or len({r["owner"] for r in rows}) < 2:
            continue
        rows = sorted(rows, key=lambda r: (r["created"], r["_file"], r["_row"]))
        first = rows[0]
        for r in rows:
            others = [o for o in rows if o["owner"] != r["owner"]]
            shown = "; ".join(f"{o['owner']} ({_where(ds, o)}, {o['created'].isoformat()})" for o in others[:5])
            if len(others) > 5:
                shown += f"; … {len(others) - 5} more"
            out.append(ds.finding("customer-conflict", r, "customer_name", rep_id=r["owner"], others=shown,
                                  first_owner=first["owner"],
                                  first=f"{_where(ds, first)}, {first['created'].isoformat()}"))
    return out


def _where(ds: Dataset, r: dict, key: str = "customer_name") -> str:
    place = ds.place(r["_file"], r["_sheet"], key)
    return f"{r['_file']} [{r['_sheet']}] {place.letter if place else 'row '}{r['_row']}"


# ------------------------------------------------------------------ opportunities

def evaluate_pipeline(ds: Dataset, st: Settings, as_of: date | None) -> tuple[pd.DataFrame, Findings]:
    """Stage probability, weighted amount; `opportunity-overdue`, `opportunity-stale` (warnings, each with
    the row's owner as its rep; built as frames of findings: a third of a busy month's are overdue)."""
    out = Findings()
    probs = st.grouped("stage_probability")
    stale_days = int(st["opportunity_stale_days"])
    acts = ds.frame("activities")  # its valid rows, read through a mask rather than copied
    recent: set[str] = set()
    if as_of is not None:
        lo = as_of - timedelta(days=stale_days)
        days = _days(acts["date"])
        inside = acts["_valid"].to_numpy() & (days >= lo.toordinal()) & (days <= as_of.toordinal())
        recent = set(acts["customer_id"].to_numpy(dtype=object)[inside].tolist())
    cols = ["opportunity_id", "customer_id", "name", "stage", "amount", "probability", "weighted_amount", "risk",
            "expected_close", "owner", "overdue", "stale", "file", "sheet", "row"]
    opp = ds.valid("opportunities")
    if opp.empty:
        return pd.DataFrame([], columns=cols), out
    stage = opp["stage"]
    p = opp["probability"].to_numpy(dtype=float)
    prob = np.where(np.isnan(p), stage.map({k: float(v) for k, v in probs.items()}).to_numpy(dtype=float), p)
    amount = opp["amount"].to_numpy(dtype=float)
    amount = np.where(np.isnan(amount), 0.0, amount)
    is_open = ~stage.isin(["Won", "Lost"]).to_numpy()
    overdue = stale = np.zeros(len(opp), dtype=bool)
    if as_of is not None:
        overdue = is_open & (_days(opp["expected_close"]) < as_of.toordinal())
        stale = is_open & ~opp["customer_id"].isin(recent).to_numpy()
        late, idle = opp[overdue], opp[stale]
        out = Findings.concat([
            ds.findings_of("opportunity-overdue", late, "expected_close", rep_id=late["owner"].tolist()),
            ds.findings_of("opportunity-stale", idle, "opportunity_id", rep_id=idle["owner"].tolist(), days=stale_days)])
    frame = pd.DataFrame({
        "opportunity_id": opp["opportunity_id"].tolist(), "customer_id": opp["customer_id"].tolist(),
        "name": opp["name"].tolist(), "stage": stage.tolist(), "amount": amount.tolist(),
        "probability": prob.tolist(), "weighted_amount": [round(x, 2) for x in (amount * prob).tolist()],
        "risk": [None if blank(v) else v for v in opp["risk"].tolist()],
        "expected_close": opp["expected_close"].tolist(), "owner": opp["owner"].tolist(),
        "overdue": overdue.tolist(), "stale": stale.tolist(), "file": opp["_file"].tolist(),
        "sheet": opp["_sheet"].tolist(), "row": opp["_row"].tolist(),
    }, columns=cols)
    return frame, out


def _days(dates: pd.Series) -> np.ndarray:
    """A date column as day numbers (NaN where blank), converted once per distinct date."""
    number, distinct = pd.factorize(dates.to_numpy(dtype=object))
    table = np.array([d.toordinal() for d in distinct.tolist()] + [np.nan], dtype=float)
    return table[number]  # a blank is -1: the NaN at the end


# ------------------------------------------------------------------ contracts, orders, money

def check_contracts(ds: Dataset, st: Settings) -> list[Finding]:
    """`contract-unreviewed`, `discount-unauthorized`, `signed-without-date`, `contract-amount-mismatch`."""
    out: list[Finding] = []
    limit = float(st["discount_limit"])
    tol = float(st["contract_tolerance"])
    lines_total: dict[str, float] = {}
    lines = ds.valid("contract_lines")
    for cid, q, price in zip(lines["contract_id"].tolist(), lines["quantity"].tolist(), lines["unit_price"].tolist(),
                             strict=True):  # summed in row order, as a person adds them up
        lines_total[cid] = lines_total.get(cid, 0.0) + float(q) * float(price)
    k = ds.valid("contracts")
    if k.empty:
        return out
    signed = (k["status"] == "Signed").to_numpy()
    legal_ok = (k["legal_review"] == "Approved").to_numpy()
    finance_ok = (k["finance_review"] == "Approved").to_numpy()
    keys = ["_file", "_sheet", "_row", "owner", "contract_id", "amount", "discount", "signed",
            "legal_review", "finance_review", TYPED + "legal_review", TYPED + "finance_review",
            TYPED + "discount"]
    out += [ds.finding("contract-unreviewed", r, "legal_review", rep_id=r["owner"], review="法务审核",
                       review_en="legal review") for r in _rows(k, signed & ~legal_ok, keys)]
    out += [ds.finding("contract-unreviewed", r, "finance_review", rep_id=r["owner"], review="财务审核",
                       review_en="finance review") for r in _rows(k, signed & legal_ok & ~finance_ok, keys)]
    out += [ds.finding("signed-without-date", r, "signed", rep_id=r["owner"])
            for r in _rows(k, signed & ~present(k["signed"]).to_numpy(), keys)]
    discount = k["discount"].to_numpy(dtype=float)
    discount = np.where(np.isnan(discount), 0.0, discount)
    unauthorised = (discount > limit + 1e-12) & (k["manager_approval"] != "Approved").to_numpy()
    for r in _rows(k, unauthorised, keys):
        out.append(ds.finding("discount-unauthorized", r, "discount", rep_id=r["owner"],  # the value as typed
                              limit=f"{limit:.0%}"))
    with_lines = k["contract_id"].isin(lines_total).to_numpy()
    for r, d in zip(_rows(k, with_lines, keys), discount[with_lines].tolist(), strict=True):
        total = round(lines_total[r["contract_id"]] * (1 - d), 2)
        if abs(total - float(r["amount"])) > tol:
            out.append(ds.finding("contract-amount-mismatch", r, "amount", rep_id=r["owner"],
                                  lines_total=f"{total:,.2f}"))
    return out


@dataclass(frozen=True)
class ContractMark:
    """How a contract's document must be marked (SPEC §6): final, draft (with why) or terminated."""

    kind: str  # final | draft | terminated
    reasons: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return "；".join(self.reasons)


_REVIEWS = (("legal_review", "法务审核", "legal review"), ("finance_review", "财务审核", "finance review"))


def contract_marks(ds: Dataset, findings: list[Finding]) -> dict[str, ContractMark]:
    """The mark of every contract id, judged on the row its document is made from (the first of the id).

    Terminated (已终止) wins; otherwise a contract is a draft when its reviews are not both
    Approved, or when its row — or one of its line items — carries an error-level finding
    (unauthorised discount, signed without a date, a line that could not be read, …): such a
    contract must not be signed as it stands. Each reason names what to fix.
    """
    errors: dict[tuple[str, str, int], list[Finding]] = {}
    for f in select(findings, severity=ERROR, with_row=True):
        errors.setdefault((f.file, f.sheet, f.row), []).append(f)
    line_errors: dict[str, list[Finding]] = {}
    lines = ds.frame("contract_lines")
    if errors and not lines.empty:
        for cid, fl, sh, r in zip(lines["contract_id"].tolist(), lines["_file"].tolist(), lines["_sheet"].tolist(),
                                  lines["_row"].tolist(), strict=True):
            for f in errors.get((fl, sh, int(r)), ()):
                if not blank(cid):
                    line_errors.setdefault(cid, []).append(f)
    out: dict[str, ContractMark] = {}
    for r in _records(ds.frame("contracts")):
        cid = r["contract_id"]
        if blank(cid) or cid in out:
            continue
        if r.get("status") == "Terminated":
            out[cid] = ContractMark("terminated", ("合同已终止 / the contract is terminated",))
            continue
        reasons = []
        for key, zh, en in _REVIEWS:
            if r.get(key) != "Approved":
                shown = typed(r, key) or "空 blank"
                reasons.append(f"{zh}未通过（{shown}） / {en} not approved ({shown})")
        row_findings = errors.get((r["_file"], r["_sheet"], int(r["_row"])), [])
        reasons += [f.message for f in row_findings if f.code != "contract-unreviewed"]  # said just above
        reasons += [f"合同明细 {f.file} [{f.sheet}] {f.cell or f.row}：{f.message}" for f in line_errors.get(cid, [])]
        out[cid] = ContractMark("draft", tuple(dict.fromkeys(reasons))) if reasons else ContractMark("final")
    return out


def _first_owner(frame: pd.DataFrame, key: str) -> dict[str, str]:
    """id -> owner named by the first row of that id (later rows are duplicates)."""
    keys, owners = frame[key], frame["owner"]
    named = (present(keys) & present(owners)).to_numpy()  # neither blank
    ids = keys[named]
    first = ~ids.duplicated(keep="first").to_numpy()  # dict order: the first row of each id
    return dict(zip(ids.to_numpy(dtype=object)[first].tolist(),
                    owners[named].to_numpy(dtype=object)[first].tolist(), strict=True))



def contract_owners(ds: Dataset) -> dict[str, str]:
    return _first_owner(ds.frame("contracts"), "contract_id")


def customer_owners(ds: Dataset) -> dict[str, str]:
    return _first_owner(ds.frame("customers"), "customer_id")


def check_orders_and_collections(ds: Dataset, as_of: date | None) -> list[Finding]:
    """`order-overdue`, `collection-exceeds-contract`."""
    out: list[Finding] = []
    owners = contract_owners(ds)
    orders = ds.valid("orders")
    if as_of is not None and not orders.empty:
        status = orders["status"]
        shipped = present(orders["shipped"]) | status.isin(["Shipped", "Accepted"])
        late = (_days(orders["promised"]) < as_of.toordinal()) & ~shipped.to_numpy() \
            & (status != "Cancelled").to_numpy()
        keys = ["_file", "_sheet", "_row", "contract_id", "promised"]
        out += [ds.finding("order-overdue", r, "promised", rep_id=owners.get(r["contract_id"], ""))
                for r in _rows(orders, late, keys)]
    contracts = ds.valid("contracts")
    amounts = {c: float(a) for c, a in zip(contracts["contract_id"], contracts["amount"], strict=True)}
    cols = ds.valid("collections")
    ours = cols[cols["contract_id"].isin(list(amounts)).to_numpy()]
    recs = sorted(_rows(ours, np.ones(len(ours), dtype=bool), ["_file", "_sheet", "_row", "contract_id", "date",
                                                                 "amount"]),
                  key=lambda r: (r["date"], r["_file"], r["_row"]))
    running: dict[str, float] = {}
    flagged: set[str] = set()
    for r in recs:
        cid = r["contract_id"]
        if cid in flagged:
            continue
        running[cid] = running.get(cid, 0.0) + float(r["amount"])
        if round(running[cid], 2) > round(amounts[cid], 2):
            flagged.add(cid)
            out.append(ds.finding("collection-exceeds-contract", r, "amount", rep_id=owners.get(cid, ""),
                                  contract=cid, total=f"{running[cid]:,.2f}", amount=f"{amounts[cid]:,.2f}"))
    return out


def check_complaints(ds: Dataset, st: Settings, as_of: date | None) -> list[Finding]:
    """`complaint-overdue`: resolved, or still open at the as-of date, more than the SLA after Received."""
    out: list[Finding] = []
    sla = int(st["complaint_sla_days"])
    owners = customer_owners(ds)
    c = ds.valid("complaints")
    if c.empty:
        return out
    received, resolved = _days(c["received"]), _days(c["resolved"])
    took = resolved - received  # NaN while unresolved
    if as_of is not None:
        still_open = np.isnan(resolved) & (c["status"] != "Resolved").to_numpy() & (received <= as_of.toordinal())
        took = np.where(still_open, as_of.toordinal() - received, took)
    late = took > sla
    keys = ["_file", "_sheet", "_row", "customer_id", "received"]
    done = ~np.isnan(resolved)
    for r, days, res in zip(_rows(c, late, keys), took[late].tolist(), done[late].tolist(), strict=True):
        out.append(ds.finding("complaint-overdue", r, "received", rep_id=owners.get(r["customer_id"], ""),
                              days=int(days), sla=sla, **complaint_took(int(days), resolved=res)))
    return out


def complaint_took(days: int, *, resolved: bool) -> dict[str, str]:
    """How long a late complaint took, for its message: resolved after N days, or open for N days."""
    if resolved:
        return {"took_zh": f"用了 {days} 天才解决", "took_en": f"took {days} days to resolve"}
    return {"took_zh": f" {days} 天未解决", "took_en": f"open for {days} days"}


def check_expenses(ds: Dataset, st: Settings) -> list[Finding]:
    """`expense-over-limit`, `expense-duplicate-receipt` (every row involved), `expense-missing-customer`."""
    out: list[Finding] = []
    limits = st.grouped("expense_limit")
    e = ds.valid("expenses")
    if e.empty:
        return out
    zh_cat = {"Travel": "差旅费", "Entertainment": "招待费", "Marketing": "市场推广费", "Transport": "交通费",
              "Telecom": "通讯费", "Other": "其他费用"}
    keys = ["_file", "_sheet", "_row", "rep_id", "category", "amount", "receipt_no", "customer_id"]
    cat = e["category"]
    limit = cat.map({k: float(v) for k, v in limits.items()}).to_numpy(dtype=float)
    over = (e["amount"].to_numpy(dtype=float) > limit) & (e["approval"] != "Approved").to_numpy()
    for r, lim in zip(_rows(e, over, keys), limit[over].tolist(), strict=True):
        out.append(ds.finding("expense-over-limit", r, "amount", rep_id=r["rep_id"], category=zh_cat[r["category"]],
                              category_en=r["category"], limit=f"{lim:,.0f}"))
    receipts = e["receipt_no"]
    norm = receipts.map({v: normalize_receipt(v) for v in receipts.unique()})
    again = norm.duplicated(keep=False).to_numpy()
    groups: dict[str, list[dict]] = {}
    for key, r in zip(norm[again].tolist(), _rows(e, again, keys), strict=True):
        groups.setdefault(key, []).append(r)
    for group in groups.values():
        for r in group:
            others = "; ".join(f"{o['_file']} [{o['_sheet']}] row {o['_row']}" for o in group if o is not r)
            out.append(ds.finding("expense-duplicate-receipt", r, "receipt_no", rep_id=r["rep_id"], others=others))
    no_customer = (cat == "Entertainment").to_numpy() & ~present(e["customer_id"]).to_numpy()
    out += [ds.finding("expense-missing-customer", r, "customer_id", rep_id=r["rep_id"])
            for r in _rows(e, no_customer, keys)]
    return out
