"""Rules across rows, sheets and files (SPEC §4): keys, references, and the domain rules."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from .dataset import Dataset, records, typed
from .findings import ERROR, Finding
from .schema import normalize_name, team_schemas
from .settings import Settings

_SUFFIXES = ["股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司"]
# English legal suffixes count only as a whole word: "Z Inc." is Z, but "Zinc" stays zinc.
_LATIN_SUFFIX = re.compile(r"(?<![a-z0-9])(?:co\.?\s*,?\s*ltd|corporation|corp|ltd|inc)\.?$")
_RECEIPT_NOISE = re.compile(r"[\s\-_/]")


def blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT or (isinstance(v, str) and not v)


def normalize_company(name: object) -> str:
    """Company name for conflict checks: NFKC, no whitespace, case-folded, legal suffix removed."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(name))).casefold().strip()
    changed = True
    while changed:
        changed = False
        for suf in _SUFFIXES:
            if text.endswith(suf) and len(text) > len(suf):
                text = text[: -len(suf)].rstrip(" ,.")
                changed = True
        m = _LATIN_SUFFIX.search(text)
        if m and m.start() > 0:
            text = text[: m.start()].rstrip(" ,.")
            changed = True
    return re.sub(r"\s+", "", text)


def normalize_receipt(no: object) -> str:
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
                               roster_errors: dict[str, str] | None = None) -> list[Finding]:
    """`duplicate-key` (every row after the first, in file then row order) and `unknown-reference`;
    a rep whose roster row was left out for an error (`roster_errors`: rep id -> where the roster row's
    errors are) gets `roster-row-error` pointing at that row instead, since the rep is in the roster."""
    roster_errors = roster_errors or {}
    out: list[Finding] = []
    known: dict[str, set[str]] = {}
    for s in team_schemas():
        f = ds.frame(s.name)
        for col in s.columns:
            if col.unique and not f.empty:
                values = f[col.key]
                has = present(values)
                dup = has & values.duplicated(keep="first")
                if dup.any():
                    first_rows = f[has & ~values.duplicated(keep="first")]
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
            has = present(values)
            target = col.ref or "roster"
            ids = known.get(col.ref, set()) if col.ref else roster
            bad = has & ~values.isin(ids)
            if not bad.any():
                continue
            suggest = hints.get(target) or hints.setdefault(target, Suggest(ids))
            zh, en = labels.get(col.ref, (col.ref, col.ref))
            label = {"target_zh": zh, "target_en": en} if col.ref else roster_label
            for r in records(f[bad]):
                where = None if col.ref else roster_errors.get(r[col.key])
                if where is not None:
                    out.append(ds.finding("roster-row-error", r, col.key, where=where))
                else:
                    out.append(ds.finding("unknown-reference", r, col.key, **label, **suggest.hint(r[col.key])))
    return out


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


def grade_customers(ds: Dataset, st: Settings, as_of: date | None) -> tuple[pd.DataFrame, list[Finding]]:
    """Customer grades with follow-up status; `grade-mismatch`, `customer-conflict`, `follow-up-overdue`."""
    out: list[Finding] = []
    cust = ds.valid("customers")
    acts = ds.valid("activities")
    a = acts[present(acts["customer_id"]) & acts["date"].notna()]
    if as_of is not None:
        a = a[(a["date"] <= as_of).astype(bool)]
    last_activity: dict[str, date] = {}
    for cid, d in zip(a["customer_id"].tolist(), a["date"].tolist(), strict=True):
        cur = last_activity.get(cid)
        if cur is None or d > cur:
            last_activity[cid] = d
    cadence = st.grouped("cadence")
    rows = []
    seen_names: dict[str, list[dict]] = {}
    gs = grade_settings(st)
    for r in _records(cust):
        pts = grade_points(r, st, gs)
        g = grade_for(pts, st, gs)
        given = r.get("grade")
        if not blank(given) and given != g:
            out.append(ds.finding("grade-mismatch", r, "grade", rep_id=r["owner"], computed=g))
        seen_names.setdefault(normalize_company(r["customer_name"]), []).append(r)
        last = last_activity.get(r["customer_id"])
        since = last if last is not None else r["created"]
        days = None
        overdue = False
        if as_of is not None and not blank(since) and r["created"] <= as_of:
            days = (as_of - since).days
            overdue = days > int(cadence[g])
            if overdue:
                out.append(ds.finding("follow-up-overdue", r, "customer_id", rep_id=r["owner"], days=days,
                                      grade=g, cadence=cadence[g]))
        rows.append({
            "customer_id": r["customer_id"], "customer_name": r["customer_name"], "owner": r["owner"],
            "industry": r.get("industry"), "region": r.get("region"),
            "points": pts, "grade": g, "grade_given": None if blank(given) else given,
            "last_activity": last, "days_since_follow_up": days, "cadence_days": int(cadence[g]),
            "follow_up_overdue": overdue, "file": r["_file"], "sheet": r["_sheet"], "row": r["_row"],
        })
    out += customer_conflicts(ds, seen_names.values())
    cols = ["customer_id", "customer_name", "owner", "industry", "region", "points", "grade", "grade_given",
            "last_activity", "days_since_follow_up", "cadence_days", "follow_up_overdue", "file", "sheet", "row"]
    return pd.DataFrame(rows, columns=cols), out


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

def evaluate_pipeline(ds: Dataset, st: Settings, as_of: date | None) -> tuple[pd.DataFrame, list[Finding]]:
    """Stage probability, weighted amount; `opportunity-overdue`, `opportunity-stale`."""
    out: list[Finding] = []
    probs = st.grouped("stage_probability")
    stale_days = int(st["opportunity_stale_days"])
    acts = ds.valid("activities")
    recent: set[str] = set()
    if as_of is not None:
        lo = as_of - timedelta(days=stale_days)
        d = acts["date"]
        has = d.notna()
        inside = has & (d.where(has, lo) >= lo).astype(bool) & (d.where(has, as_of) <= as_of).astype(bool)
        recent = set(acts["customer_id"][inside].tolist())
    rows = []
    for r in _records(ds.valid("opportunities")):
        stage = r["stage"]
        p = r.get("probability")
        prob = float(probs[stage]) if blank(p) else float(p)
        amount = 0.0 if blank(r.get("amount")) else float(r["amount"])
        is_open = stage not in ("Won", "Lost")
        overdue = stale = False
        if as_of is not None and is_open:
            close = r.get("expected_close")
            if not blank(close) and close < as_of:
                overdue = True
                out.append(ds.finding("opportunity-overdue", r, "expected_close", rep_id=r["owner"]))
            if r["customer_id"] not in recent:
                stale = True
                out.append(ds.finding("opportunity-stale", r, "opportunity_id", rep_id=r["owner"], days=stale_days))
        rows.append({
            "opportunity_id": r["opportunity_id"], "customer_id": r["customer_id"], "name": r["name"],
            "stage": stage, "amount": amount, "probability": prob, "weighted_amount": round(amount * prob, 2),
            "risk": None if blank(r.get("risk")) else r["risk"], "expected_close": r.get("expected_close"),
            "owner": r["owner"], "overdue": overdue, "stale": stale,
            "file": r["_file"], "sheet": r["_sheet"], "row": r["_row"],
        })
    cols = ["opportunity_id", "customer_id", "name", "stage", "amount", "probability", "weighted_amount", "risk",
            "expected_close", "owner", "overdue", "stale", "file", "sheet", "row"]
    return pd.DataFrame(rows, columns=cols), out


# ------------------------------------------------------------------ contracts, orders, money

def check_contracts(ds: Dataset, st: Settings) -> list[Finding]:
    """`contract-unreviewed`, `discount-unauthorized`, `signed-without-date`, `contract-amount-mismatch`."""
    out: list[Finding] = []
    limit = float(st["discount_limit"])
    tol = float(st["contract_tolerance"])
    lines_total: dict[str, float] = {}
    for r in _records(ds.valid("contract_lines")):
        lines_total.setdefault(r["contract_id"], 0.0)
        lines_total[r["contract_id"]] += float(r["quantity"]) * float(r["unit_price"])
    for r in _records(ds.valid("contracts")):
        rep = r["owner"]
        if r["status"] == "Signed":
            if r["legal_review"] != "Approved":
                out.append(ds.finding("contract-unreviewed", r, "legal_review", rep_id=rep,
                                      review="法务审核", review_en="legal review"))
            elif r["finance_review"] != "Approved":
                out.append(ds.finding("contract-unreviewed", r, "finance_review", rep_id=rep,
                                      review="财务审核", review_en="finance review"))
            if blank(r.get("signed")):
                out.append(ds.finding("signed-without-date", r, "signed", rep_id=rep))
        discount = 0.0 if blank(r.get("discount")) else float(r["discount"])
        if discount > limit + 1e-12 and r.get("manager_approval") != "Approved":
            out.append(ds.finding("discount-unauthorized", r, "discount", rep_id=rep,  # the value as typed
                                  limit=f"{limit:.0%}"))
        if r["contract_id"] in lines_total:
            total = round(lines_total[r["contract_id"]] * (1 - discount), 2)
            if abs(total - float(r["amount"])) > tol:
                out.append(ds.finding("contract-amount-mismatch", r, "amount", rep_id=rep,
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
    for f in findings:
        if f.severity == ERROR and f.row:
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
    out: dict[str, str] = {}
    for k, o in zip(frame[key].tolist(), frame["owner"].tolist(), strict=True):
        if not blank(k) and k not in out and not blank(o):
            out[k] = o
    return out


def contract_owners(ds: Dataset) -> dict[str, str]:
    return _first_owner(ds.frame("contracts"), "contract_id")


def customer_owners(ds: Dataset) -> dict[str, str]:
    return _first_owner(ds.frame("customers"), "customer_id")


def check_orders_and_collections(ds: Dataset, as_of: date | None) -> list[Finding]:
    """`order-overdue`, `collection-exceeds-contract`."""
    out: list[Finding] = []
    owners = contract_owners(ds)
    if as_of is not None:
        for r in _records(ds.valid("orders")):
            p = r.get("promised")
            shipped = not blank(r.get("shipped")) or r.get("status") in ("Shipped", "Accepted")
            if not blank(p) and p < as_of and not shipped and r.get("status") != "Cancelled":
                out.append(ds.finding("order-overdue", r, "promised", rep_id=owners.get(r["contract_id"], "")))
    contracts = ds.valid("contracts")
    amounts = {c: float(a) for c, a in zip(contracts["contract_id"], contracts["amount"], strict=True)}
    cols = ds.valid("collections")
    recs = sorted(_records(cols), key=lambda r: (r["date"], r["_file"], r["_row"]))
    running: dict[str, float] = {}
    flagged: set[str] = set()
    for r in recs:
        cid = r["contract_id"]
        if cid not in amounts or cid in flagged:
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
    for r in _records(ds.valid("complaints")):
        rec, res = r["received"], r.get("resolved")
        days = None
        if not blank(res):
            days = (res - rec).days
        elif r.get("status") != "Resolved" and as_of is not None and rec <= as_of:
            days = (as_of - rec).days
        if days is not None and days > sla:
            out.append(ds.finding("complaint-overdue", r, "received", rep_id=owners.get(r["customer_id"], ""),
                                  days=days, sla=sla, **complaint_took(days, resolved=not blank(res))))
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
    recs = _records(ds.valid("expenses"))
    by_receipt: dict[str, list[dict]] = {}
    for r in recs:
        by_receipt.setdefault(normalize_receipt(r["receipt_no"]), []).append(r)
    zh_cat = {"Travel": "差旅费", "Entertainment": "招待费", "Marketing": "市场推广费", "Transport": "交通费",
              "Telecom": "通讯费", "Other": "其他费用"}
    for r in recs:
        cat = r["category"]
        limit = float(limits[cat])
        if float(r["amount"]) > limit and r.get("approval") != "Approved":
            out.append(ds.finding("expense-over-limit", r, "amount", rep_id=r["rep_id"], category=zh_cat[cat],
                                  category_en=cat, limit=f"{limit:,.0f}"))
        group = by_receipt[normalize_receipt(r["receipt_no"])]
        if len(group) > 1:
            others = "; ".join(f"{o['_file']} [{o['_sheet']}] row {o['_row']}" for o in group if o is not r)
            out.append(ds.finding("expense-duplicate-receipt", r, "receipt_no", rep_id=r["rep_id"], others=others))
        if cat == "Entertainment" and blank(r.get("customer_id")):
            out.append(ds.finding("expense-missing-customer", r, "customer_id", rep_id=r["rep_id"]))
    return out
