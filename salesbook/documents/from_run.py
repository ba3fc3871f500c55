"""Document contexts from a validation or consolidation run: contracts and sales reports."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pandas as pd

from ..core.dataset import records
from ..core.findings import Finding
from ..core.rules import blank
from ..core.schema import load_schemas
from ..core.settings import KPIS
from ..io.atomic import atomic_write_bytes
from ..io.writers import write_csv

STAGES = ["Lead", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]
OPEN_STAGES = STAGES[:4]  # reports show the pipeline still to win: won and lost are done
TOP_FINDINGS = 5  # findings listed on a report's findings tile


def _first_by(frame: pd.DataFrame, key: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in records(frame):
        k = r.get(key)
        if not blank(k) and k not in out:
            out[k] = r
    return out


def _clean(v: object) -> object:
    return "" if blank(v) else v


def contract_contexts(run, settings, *, only: list[str] | None = None) -> tuple[list[dict], list[str]]:
    """A contract context for every contract of the run (first row of each id); problems as notes.

    Contracts with errors are rendered too — but never as a clean copy unless both reviews are
    Approved (the renderer marks every other contract as a draft).
    """
    from ..core.rules import ContractMark, contract_marks
    from .contracts import build_contract_context

    ds = run.dataset
    marks = contract_marks(ds, run.findings)
    names = {} if run.master.roster is None else dict(zip(run.master.roster["rep_id"], run.master.roster["name"],
                                                          strict=True))
    customers = _first_by(ds.frame("customers"), "customer_id")
    lines_by: dict[str, list[dict]] = {}
    for r in records(ds.valid("contract_lines")):
        lines_by.setdefault(r["contract_id"], []).append(r)
    seller = {"name": settings["company_name"], "address": settings["company_address"],
              "contact": settings["company_contact"], "phone": ""}
    enum_zh = {c.key: c.enum for c in load_schemas()["contracts"].columns if c.enum is not None}
    contexts, notes = [], []
    wanted = set(only or [])
    for cid, r in _first_by(ds.frame("contracts"), "contract_id").items():
        if wanted and cid not in wanted:
            continue
        where = f"{r['_file']} [{r['_sheet']}] row {r['_row']}"
        if blank(r.get("amount")):
            notes.append(f"{cid}: no valid amount ({where}); not written")
            continue
        cust = customers.get(r["customer_id"])
        if cust is None:
            notes.append(f"{cid}: customer {r['customer_id']} is not filed ({where}); not written")
            continue
        lines = [{"product": _clean(ln["product"]), "spec": _clean(ln.get("spec")), "quantity": ln["quantity"],
                  "unit": _clean(ln.get("unit")), "unit_price": ln["unit_price"]} for ln in lines_by.get(cid, [])]
        status = r.get("status")
        mark = marks.get(cid, ContractMark("final"))
        ctx = build_contract_context(
            {"contract_id": cid, "payment_terms": _clean(r.get("payment_terms")),
             "signed": None if blank(r.get("signed")) else r["signed"],
             "owner_name": names.get(r["owner"], r["owner"]),
             "status": enum_zh["status"].zh(status) if not blank(status) else "",
             "legal_review": _clean(r.get("legal_review")), "finance_review": _clean(r.get("finance_review")),
             "discount_rate": 0 if blank(r.get("discount")) else r["discount"], "amount": r["amount"],
             "is_draft": mark.kind == "draft", "is_terminated": mark.kind == "terminated",
             "mark_reason": mark.reason},
            lines,
            {"name": cust["customer_name"], "contact": _clean(cust.get("contact")), "phone": _clean(cust.get("phone")),
             "address": ""},  # the customer sheet has no address column
            seller,
        )
        contexts.append(ctx)
    missing = sorted(wanted - {c["contract_id"] for c in contexts} - {n.split(":")[0] for n in notes})
    notes += [f"{m}: no such contract in the team files" for m in missing]
    return contexts, notes


CONTRACTS_CSV_COLUMNS = ["contract", "customer", "amount", "status", "draft", "document", "reason", "file", "pdf",
                         "pdf_error"]


def write_contracts(run, settings, out: Path, *, template: Path | None = None, pdf: bool = False,
                    only: list[str] | None = None, progress=None) -> tuple[list, list[str]]:
    """One .docx per contract in `out` (and PDFs with `pdf`), plus contracts.csv; returns (docs, notes).

    contracts.csv is written as soon as the .docx files are, before any PDF: a conversion that
    fails or is interrupted never costs the index. A PDF that fails is noted in its row and on
    its doc (pdf_error); the other contracts still get theirs.
    """
    from ..progress import as_progress
    from .contracts import contracts_index, convert_to_pdf, pdf_converter, render_contracts

    contexts, notes = contract_contexts(run, settings, only=only)
    out = Path(out)
    if pdf:
        pdf_converter()  # no LibreOffice: say so before writing anything
    shown = as_progress(progress)
    shown.phase("writing contracts", len(contexts), "contracts")
    docs = render_contracts(contexts, out, template=template, pdf=False, taken=set(),
                            on_done=lambda n, _total: shown.update(n))

    def write_index() -> None:
        write_csv(out / "contracts.csv", pd.DataFrame(contracts_index(docs, out), columns=CONTRACTS_CSV_COLUMNS))

    write_index()
    if pdf and docs:
        shown.phase("converting contracts to PDF")
        results = convert_to_pdf([d.path for d in docs], out)
        docs = [dataclasses.replace(d, pdf=r.pdf, pdf_error=r.reason) for d, r in zip(docs, results, strict=True)]
        write_index()
    return docs, notes


# ------------------------------------------------------------------ reports


def _zh(enum_name: str, canonical: str) -> str:
    for s in load_schemas().values():
        for c in s.columns:
            if c.enum is not None and c.enum.name == enum_name:
                return c.enum.zh(canonical)
    return canonical


def report_contexts(c, findings: list[Finding]) -> list[dict]:
    """A report context for every rep with a scorecard, then one per team."""
    run = c.run
    ds = run.dataset
    per = run.period
    as_of = run.as_of or per.end
    cards = {r["rep_id"]: r for r in c.scorecards.to_dict("records")}
    customers = _first_by(ds.frame("customers"), "customer_id")
    contracts = _first_by(ds.frame("contracts"), "contract_id")
    acts = _effective(ds.valid("activities"), run.findings)
    opps = run.pipeline if run.pipeline is not None else pd.DataFrame()
    grades = run.grades if run.grades is not None else pd.DataFrame()
    sev_by_rep: dict[str, Counter] = {}
    top_by_rep: dict[str, list[dict]] = {}
    rank = {"error": 0, "warning": 1, "info": 2}
    for f in sorted(findings, key=lambda f: rank.get(f.severity, 3)):  # stable: errors first, then file order
        if f.code != "missing-target":  # a scoring note about the master's targets, not about the rep's data
            sev_by_rep.setdefault(f.rep_id, Counter())[f.severity] += 1
            top = top_by_rep.setdefault(f.rep_id, [])
            if len(top) < TOP_FINDINGS and f.severity != "info":
                top.append({"severity": f.severity, "where": f.where, "code": f.code, "message": f.message})

    def rep_ctx(rid: str) -> dict:
        card = cards[rid]
        mine_acts = acts[(acts["rep_id"] == rid) & acts["date"].map(per.contains)] if not acts.empty else acts
        by_type = Counter(_zh("activity_type", t) for t in mine_acts["activity_type"]) if not mine_acts.empty else {}
        pipe: dict[str, tuple] = {}
        if not opps.empty:
            mine = opps[opps["owner"] == rid]
            for s in OPEN_STAGES:
                g = mine[mine["stage"] == s]
                if len(g):
                    pipe[_zh("stage", s)] = (len(g), float(g["amount"].sum()), float(g["weighted_amount"].sum()))
        follow = []
        if not grades.empty:
            for g in grades[(grades["owner"] == rid) & grades["follow_up_overdue"]].to_dict("records"):
                cust = customers.get(g["customer_id"], {})
                follow.append({"customer_id": g["customer_id"], "customer_name": g["customer_name"],
                               "contact": _clean(cust.get("contact")), "phone": _clean(cust.get("phone")),
                               "grade": g["grade"], "days_since": g["days_since_follow_up"],
                               "cadence": g["cadence_days"]})
        orders = []
        for o in records(ds.valid("orders")):
            k = contracts.get(o["contract_id"])
            if k is None or k["owner"] != rid:
                continue
            p = o.get("promised")
            if not blank(p) and p < as_of and blank(o.get("shipped")) and o.get("status") != "Cancelled":
                cust = customers.get(k["customer_id"], {})
                orders.append({"order_id": o["order_id"], "contract_id": o["contract_id"],
                               "customer_name": _clean(cust.get("customer_name")), "promised": p,
                               "days_overdue": (as_of - p).days,
                               "status": _zh("order_status", o["status"]) if not blank(o.get("status")) else ""})
        complaints = []
        for t in records(ds.valid("complaints")):
            cust = customers.get(t["customer_id"])
            if cust is None or cust["owner"] != rid:
                continue
            if blank(t.get("resolved")) and t.get("status") != "Resolved" and t["received"] <= as_of:
                complaints.append({"ticket_id": t["ticket_id"], "customer_name": cust["customer_name"],
                                   "contact": _clean(cust.get("contact")), "phone": _clean(cust.get("phone")),
                                   "email": _clean(cust.get("email")), "received": t["received"],
                                   "category": _clean(t.get("category")), "handler": _clean(t.get("handler")),
                                   "days_open": (as_of - t["received"]).days})
        sev = sev_by_rep.get(rid, Counter())
        return {
            "commission": _commission_summary(c, rid),
            "title": f"{per.label} 销售报告", "period": per.label, "scope": "rep",
            "name": str(card["name"]), "as_of": as_of, "activities_by_type": dict(by_type),
            "new_customers": int(card["new_customers"]), "pipeline_by_stage": pipe,
            "revenue": card["revenue"], "revenue_target": _none(card["revenue_target"]),
            "collections": card["collections"], "collections_target": _none(card["collections_target"]),
            "revenue_attainment": _kpi_attainment([card], "revenue"),
            "collections_attainment": _kpi_attainment([card], "collections"),
            "overdue_follow_ups": follow, "overdue_orders": orders, "open_complaints": complaints,
            "findings_count": {k: sev.get(k, 0) for k in ("error", "warning", "info")},
            "top_findings": top_by_rep.get(rid, []),
            "members": [], "_rep_id": rid, "_team": card["team"], "_card": card,
        }

    reps = [rep_ctx(rid) for rid in cards]
    teams: dict[str, list[dict]] = {}
    for r in reps:
        teams.setdefault(r["_team"] or "—", []).append(r)
    out = list(reps)
    for team, members in sorted(teams.items()):
        agg = {
            "title": f"{per.label} 团队销售报告", "period": per.label, "scope": "team", "name": team,
            "as_of": as_of, "activities_by_type": dict(sum((Counter(m["activities_by_type"]) for m in members),
                                                           Counter())),
            "new_customers": sum(m["new_customers"] for m in members), "pipeline_by_stage": {},
            "revenue": sum(m["revenue"] for m in members),
            "revenue_target": _sum_targets(m["revenue_target"] for m in members),
            "collections": sum(m["collections"] for m in members),
            "collections_target": _sum_targets(m["collections_target"] for m in members),
            "revenue_attainment": _kpi_attainment([m["_card"] for m in members], "revenue"),
            "collections_attainment": _kpi_attainment([m["_card"] for m in members], "collections"),
            "overdue_follow_ups": [x for m in members for x in m["overdue_follow_ups"]],
            "overdue_orders": [x for m in members for x in m["overdue_orders"]],
            "open_complaints": [x for m in members for x in m["open_complaints"]],
            "findings_count": {k: sum(m["findings_count"][k] for m in members) for k in ("error", "warning", "info")},
            "commission": _team_commission(members),
            "top_findings": sorted((x for m in members for x in m["top_findings"]),
                                   key=lambda x: rank.get(x["severity"], 3))[:TOP_FINDINGS],
            "members": [{"rep_id": m["_rep_id"], "name": m["name"], "revenue": m["revenue"],
                         "collections": m["collections"], "new_customers": m["new_customers"],
                         "activities": sum(m["activities_by_type"].values()),
                         "attainment": _attainment(m["_card"]), "score": m["_card"]["score"],
                         "rating": m["_card"]["rating"]}
                        for m in sorted(members, key=lambda m: -float(m["_card"]["score"]))],
            "_rep_id": "", "_team": team,
        }
        for m in members:
            for stage, (n, amount, weighted) in m["pipeline_by_stage"].items():
                a = agg["pipeline_by_stage"].get(stage, (0, 0.0, 0.0))
                agg["pipeline_by_stage"][stage] = (a[0] + n, a[1] + amount, a[2] + weighted)
        out.append(agg)
    return out


def _commission_summary(c, rid: str) -> dict | None:
    """The rep's commission for the report: plan, base, total and the tiers it crossed (None: no plan)."""
    from .statements import commission_context

    result = c.commission_results.get(rid)
    if result is None or not result.plan:
        return None
    return commission_context(result, c.run.master.plans, c.run.master.settings)


def _team_commission(members: list[dict]) -> dict | None:
    paid = [m["commission"] for m in members if m.get("commission")]
    if not paid:
        return None
    total = sum((p["total"] for p in paid), 0)
    return {"plan": "", "description": "", "base_label": "", "base": None, "target": None, "position": "",
            "lines": [], "total": total, "total_text": f"{total:.2f}", "held": False, "capped": False,
            "note": f"{len(paid)} 人 reps"}


def _attainment(card: dict) -> float | None:
    """The weighted attainment behind the score (base score / 100); None for a rep with no target."""
    if all(blank(card.get(f"{k}_target")) or not card.get(f"{k}_target") for k in KPIS):
        return None
    return float(card["base_score"]) / 100


def _effective(acts: pd.DataFrame, findings: list[Finding]) -> pd.DataFrame:
    """The activities that count (SPEC §11): without those with an `activity-not-counted` finding, as in the scorecard."""
    from ..core.activities import not_counted_rows

    dropped = not_counted_rows(findings)
    if acts.empty or not dropped:
        return acts
    keys = zip(acts["_file"], acts["_sheet"], acts["_row"], strict=True)
    return acts[[(f, s, int(r)) not in dropped for f, s, r in keys]]


def _kpi_attainment(cards: list[dict], kpi: str) -> float | None:
    """Actual / target of one KPI over the reps that have that target for this period: like with like, so a
    team's collections of reps without a collections target do not count against the others' targets."""
    with_target = [c for c in cards if not blank(c.get(f"{kpi}_target")) and float(c[f"{kpi}_target"]) > 0]
    if not with_target:
        return None
    return sum(float(c[kpi]) for c in with_target) / sum(float(c[f"{kpi}_target"]) for c in with_target)


def _none(v: object) -> object:
    return None if blank(v) else v


def _sum_targets(values) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) if vals else None


def _pct(v: object) -> float | None:
    return None if blank(v) else round(float(v) * 100, 1)


def _trend_point(p: dict) -> dict:
    """Score in points and attainments in percent: one scale for the trend chart."""
    return {"period": p["period"], "score": None if blank(p.get("score")) else float(p["score"]),
            "revenue_pct": _pct(p.get("revenue_attainment")), "collections_pct": _pct(p.get("collections_attainment")),
            "closed": bool(p.get("closed"))}


def write_reports(c, out: Path, *, template: Path | None = None, progress=None,
                  trends: dict[str, list[dict]] | None = None) -> list[Path]:
    """report_<scope>_<name>.html per rep and team, and report_<period>.xlsx with the same tables.

    The HTML template is compiled and rendered in a worker process with time and memory limits
    (an edited template may loop without end); every file is written atomically. `trends` gives
    each rep's last periods (period, score, revenue_attainment, collections_attainment, closed),
    shown as a trend chart on the rep's page.
    """
    from ..progress import as_progress
    from .filenames import inside, safe_filename
    from .reports import default_report_template, report_renderer, write_report_xlsx
    from .worker import RenderWorker

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    contexts = report_contexts(c, c.run.findings)
    for ctx in contexts:
        points = (trends or {}).get(ctx["_rep_id"], []) if ctx["scope"] == "rep" else []
        ctx["trend"] = [_trend_point(p) for p in points] if any(p.get("score") is not None for p in points) else []
    shown = as_progress(progress)
    shown.phase("writing reports", len(contexts) + 1, "files")
    taken: set[str] = set()
    written = []
    path = Path(template) if template is not None else default_report_template()
    with RenderWorker(report_renderer, (str(path), None), template=str(path)) as worker:
        pages = worker.render_all([{k: v for k, v in ctx.items() if not k.startswith("_")} for ctx in contexts])
        for n, (ctx, html) in enumerate(zip(contexts, pages, strict=True), start=1):
            label = ctx["_rep_id"] + "_" + ctx["name"] if ctx["scope"] == "rep" else "team_" + ctx["name"]
            p = inside(out, safe_filename(f"report_{ctx['period']}_{label}", ".html", taken))
            atomic_write_bytes(p, html.encode("utf-8"))
            written.append(p)
            shown.update(n)
    xlsx = write_report_xlsx([{k: v for k, v in ctx.items() if not k.startswith("_") and k != "trend"}
                              for ctx in contexts],
                             out / f"report_{c.run.period.label}.xlsx")
    written.append(Path(xlsx))
    shown.update(len(contexts) + 1)
    return written
