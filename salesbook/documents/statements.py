"""Appraisal statements (考核确认单): one page per rep for the period, HTML and PDF, for signing.

Each page shows what the rep's pay rests on — KPIs, targets, attainment and weights, the
deductions with the rows that caused them, score, rating and pay coefficient, and the commission
with the tiers it crossed — and has signature lines for the rep and the manager. A page holds that
rep's figures only; phone numbers and e-mails in any value are masked.

The HTML comes from a sandboxed Jinja template (templates/statement.html.j2, copied into the
workspace by `salesbook init`); the PDF from headless Chromium, or LibreOffice when Chromium is
missing. With neither, the HTML pages are written and the message says that no PDF was made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.commission import BASE_ZH, Commission, Line, quantize, tier_span
from ..core.findings import select
from ..core.rules import blank
from ..core.schema import normalize_name
from ..core.settings import KPIS
from ..io.atomic import atomic_write_bytes
from ..io.writers import write_csv
from .env import check_context, checked_env, clean_data, parse_checked, render_guard
from .filenames import inside, safe_filename
from .filters import mask_contacts_in_text

__all__ = ["StatementRenderer", "StatementsWritten", "commission_context", "default_statement_template", "mask_text",
           "render_statement_html", "statement_contexts", "statement_renderer", "statements_to_pdf",
           "write_statements"]

KPI_LABELS = {"revenue": "销售额 Revenue", "volume": "销售量 Volume", "collections": "回款额 Collections",
              "new_customers": "新客户数 New customers", "activities": "有效活动数 Effective activities"}
MONEY_KPIS = {"revenue", "collections"}
DEDUCTION_LABELS = {
    "contract-unreviewed": "合同未经审核即签订 Contract signed before review",
    "discount-unauthorized": "折扣未经授权 Unauthorised discount",
    "expense-over-limit": "费用超标未批准 Expense over the limit",
    "expense-duplicate-receipt": "发票重复报销 Receipt claimed twice",
}
FOUR = Decimal("0.0001")
CENT = Decimal("0.01")


def mask_text(value: object) -> str:
    """Any phone number or e-mail inside a value masked (138****5678, z***@example.com)."""
    return str(mask_contacts_in_text("" if value is None else str(value)))


def _q(value: Decimal | None, places: Decimal = CENT) -> Decimal | None:
    return None if value is None else quantize(value, places)


def _line(line: Line, basis: str, settings) -> dict[str, Any]:
    if line.kind == "tier":
        label = tier_span(line.lower, line.upper, basis)
        return {"kind": "tier", "label": label, "rate": line.rate, "portion": _q(line.portion),
                "amount": line.amount, "amount_text": f"{line.amount:.2f}"}
    if line.kind == "cap":
        cap = settings["commission.cap"]
        label = f"封顶至 {Decimal(repr(cap)) if isinstance(cap, float) else cap:,.2f} Capped (commission.cap)"
    else:
        label = "违规暂扣 Held for a violation (commission.hold_on_violation)"
    return {"kind": line.kind, "label": label, "rate": None, "portion": None, "amount": line.amount,
            "amount_text": f"{line.amount:.2f}"}


def commission_context(c: Commission | None, plans: Mapping, settings) -> dict[str, Any]:
    """A commission for a page: plan, base, target, position, the lines (tiers crossed, cap, hold), total."""
    if c is None or not c.plan:
        return {"plan": "", "description": "", "base_label": "", "base": None, "target": None, "position": "",
                "lines": [], "total": Decimal("0.00"), "total_text": "0.00", "held": False, "capped": False,
                "note": "未分配提成方案 No commission plan"}
    plan = plans.get(normalize_name(c.plan))
    description = plan.describe() if plan is not None else ""
    position = ""
    if c.position is not None:
        position = (f"{quantize(c.position * 100)}%"
                    if c.basis == "Attainment" else f"{c.position:,.2f}")
    base_label = ""
    if plan is not None:
        base_label = f"{BASE_ZH[plan.base]} {plan.base}"
    return {
        "plan": c.plan, "description": description, "base_label": base_label, "base": _q(c.base),
        "target": _q(c.target), "position": position,
        "lines": [_line(x, c.basis, settings) for x in c.lines],
        "total": c.amount, "total_text": f"{c.amount:.2f}", "held": c.held, "capped": c.capped,
        "note": c.note,
    }


def statement_contexts(c, settings) -> list[dict[str, Any]]:
    """One statement context per scorecard of the consolidation `c` (see the template)."""
    run = c.run
    per = run.period
    roster = {r["rep_id"]: r for r in run.master.roster.to_dict("records")} if run.master.roster is not None else {}
    by_place = {}
    for f in select(run.findings, codes=DEDUCTION_LABELS, with_row=True):
        by_place.setdefault((f.file, f.sheet, f.row, f.code), f)
    out = []
    for card in c.scorecards.to_dict("records"):
        rid = card["rep_id"]
        d = c.details[rid]
        res = d.result
        kpis = []
        for k in KPIS:
            a = res.attainment.get(k)
            w = res.weights.get(k)
            kpis.append({
                "kpi": k, "label": KPI_LABELS[k], "money": k in MONEY_KPIS,
                "actual": _q(d.actuals[k]) if k in MONEY_KPIS else d.actuals[k].normalize(),
                "target": None if d.targets[k] is None else (_q(d.targets[k]) if k in MONEY_KPIS
                                                             else d.targets[k].normalize()),
                "attainment": _q(a, FOUR), "weight": _q(w, FOUR),
                "points": None if a is None or w is None else _q(Decimal(100) * w * a),
            })
        deductions = []
        for fl, sh, rw, points, code in d.deductions:
            f = by_place.get((fl, sh, rw, code))
            deductions.append({
                "code": code, "label": DEDUCTION_LABELS.get(code, code), "file": fl, "sheet": sh, "row": rw,
                "cell": f.cell if f is not None else "", "column": f.column if f is not None else "",
                "value": mask_text(f.value) if f is not None else "", "points": points.normalize(),
            })
        acts = d.rows.get("activities", [])
        rep = roster.get(rid, {})
        out.append({
            "title": "考核确认单 Appraisal statement",
            "company": str(settings["company_name"]),
            "period": per.label, "period_start": per.start, "period_end": per.end, "as_of": run.as_of or per.end,
            "rep": {"rep_id": rid, "name": str(card["name"]), "employee_id": str(card["employee_id"]),
                    "team": "" if blank(card.get("team")) else str(card["team"]),
                    "manager": "" if blank(rep.get("manager")) else str(rep["manager"])},
            "kpis": kpis,
            "base_score": _q(res.base), "deductions": deductions,
            "deductions_sum": sum((x["points"] for x in deductions), Decimal(0)).normalize(),
            "deductions_total": res.deductions.normalize(), "deduction_cap": Decimal(repr(float(settings["deduction_cap"]))).normalize(),
            "score": res.score, "rating": res.rating, "coefficient": res.coefficient.normalize(),
            "activities_counted": sum(1 for item in acts if not item[4]),
            "activities_not_counted": sum(1 for item in acts if item[4]),
            "commission": commission_context(c.commission_results.get(rid), run.master.plans, settings),
        })
    return out


def default_statement_template() -> Path:
    """The shipped statement template."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "templates" / "statement.html.j2",
                      here.parents[1] / "_shipped" / "templates" / "statement.html.j2"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError("statement template statement.html.j2 not found next to the salesbook package")


class StatementRenderer:
    """The statement template, compiled once, rendering statement contexts to HTML pages."""

    def __init__(self, template: str | Path | None = None, env=None) -> None:
        from jinja2 import meta

        self.path = Path(template) if template is not None else default_statement_template()
        self.env = checked_env(env)
        ast = parse_checked(self.env, self.path.read_text(encoding="utf-8"), self.path)
        self._compiled = render_guard(self.path, lambda: self.env.from_string(ast))
        self.required = set(meta.find_undeclared_variables(ast)) - set(self.env.globals)

    def render(self, context: Mapping[str, Any]) -> str:
        ctx = clean_data(dict(context))  # bidi overrides and layout controls from the files dropped
        check_context(self.required, ctx, self.path)
        return render_guard(self.path, lambda: self._compiled.render(ctx))


def statement_renderer(template: str | None, env=None) -> StatementRenderer:
    """What the render worker builds (module level, so a spawned worker can be given it)."""
    return StatementRenderer(template, env)


def render_statement_html(context: Mapping[str, Any], *, template: str | Path | None = None, env=None) -> str:
    """One statement as a self-contained HTML page, rendered here (write_statements uses the worker)."""
    return StatementRenderer(template, env).render(context)


# ------------------------------------------------------------------ PDF


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _print_one(program: str, page: Path, pdf: Path, timeout: float) -> str | None:
    """Print one page with headless Chromium; returns an error text or None.

    Chromium writes into a private folder beside the output; the PDF is then renamed into place,
    so an existing file or symbolic link at `pdf` is replaced, never written through.
    """
    with tempfile.TemporaryDirectory(prefix=".salesbook-chromium-", dir=pdf.parent) as work:
        printed = Path(work) / "page.pdf"
        command = [program, "--headless", "--disable-gpu", "--disable-extensions", "--disable-sync",
                   "--disable-background-networking", "--disable-component-update", "--no-first-run",
                   "--no-default-browser-check", f"--user-data-dir={Path(work) / 'profile'}",
                   "--no-pdf-header-footer", f"--print-to-pdf={printed}", page.resolve().as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        kwargs: dict[str, Any] = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL,
                                  "stderr": subprocess.PIPE, "text": True}
        if os.name == "posix":
            kwargs["start_new_session"] = True  # Chromium starts helpers: one process group, ended as one
        try:
            proc = subprocess.Popen(command, **kwargs)
        except OSError as exc:
            return f"{page.name}: Chromium could not start ({exc})"
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"{page.name}: Chromium gave no answer within {timeout:.0f} s"
        finally:
            _kill_group(proc)  # also any helper process Chromium left behind
        if proc.returncode != 0 or not printed.exists() or printed.stat().st_size == 0:
            return f"{page.name}: Chromium failed ({(stderr or '').strip()[-300:] or proc.returncode})"
        os.replace(printed, pdf)
    return None


def _kill_group(proc: subprocess.Popen) -> None:
    from .contracts import _kill_group as end_process_group  # the one LibreOffice's runs use

    end_process_group(proc)


def statements_to_pdf(pages: Sequence[Path], *, timeout: float = 120, workers: int = 2) -> tuple[list[Path], str]:
    """A PDF beside each HTML page; (the PDFs written, a note when some or all could not be made)."""
    pages = list(pages)
    if not pages:
        return [], ""
    program = _chromium()
    if program is not None:
        pdfs = [p.with_suffix(".pdf") for p in pages]
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            errors = [e for e in pool.map(lambda pp: _print_one(program, *pp, timeout), zip(pages, pdfs,
                                                                                           strict=True)) if e]
        written = [p for p in pdfs if p.exists()]
        return written, ("; ".join(errors[:3]) if errors else "")
    if shutil.which("soffice") or shutil.which("libreoffice"):
        from .contracts import convert_to_pdf

        results = convert_to_pdf(pages, pages[0].parent)
        errors = [f"{r.source.name}: {r.reason}" for r in results if r.pdf is None]
        return [r.pdf for r in results if r.pdf is not None], "; ".join(errors[:3])
    return [], ("未生成 PDF：未安装 Chromium 或 LibreOffice（scripts/install-system-deps.sh 可安装），"
                "可在浏览器中打开 HTML 打印 / No PDF written: neither Chromium nor LibreOffice is installed "
                "(scripts/install-system-deps.sh installs them); open the HTML pages in a browser to print them")


# ------------------------------------------------------------------ writing


@dataclass
class StatementsWritten:
    out: Path
    html: list[Path] = field(default_factory=list)
    pdf: list[Path] = field(default_factory=list)
    note: str = ""
    pdf_asked: bool = True

    def message(self) -> str:
        """What was written where: the pages, the PDFs (or why none), the index, and the folder."""
        n, k = len(self.html), len(self.pdf)
        pdf_zh = f"PDF {k} 份" if self.pdf_asked else "未生成 PDF（--no-pdf）"
        pdf_en = f"{k} as PDF" if self.pdf_asked else "no PDF (--no-pdf)"
        text = (f"考核确认单已生成 {n} 份（HTML {n} 份，{pdf_zh}）及索引 statements.csv，保存在 {self.out} / "
                f"{n} appraisal statements written ({n} as HTML, {pdf_en}) with the index statements.csv, "
                f"in {self.out}")
        return text + (f"\n{self.note}" if self.note else "")


STATEMENT_INDEX = ["rep_id", "name", "employee_id", "period", "score", "rating", "coefficient", "commission",
                   "html", "pdf"]


def write_statements(c, settings, out: Path, *, template: Path | None = None, pdf: bool = True,
                     timeout: float = 120) -> StatementsWritten:
    """statement_<period>_<rep>_<name>.html (and .pdf) per rep in `out`, and statements.csv indexing them."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    from .worker import RenderWorker

    contexts = statement_contexts(c, settings)
    taken: set[str] = set()
    written = StatementsWritten(out, pdf_asked=pdf)
    path = Path(template) if template is not None else default_statement_template()
    # an edited template may loop or grow without end: it renders in a worker with limits
    with RenderWorker(statement_renderer, (str(path), None), template=str(path)) as worker:
        for ctx, html in zip(contexts, worker.render_all(contexts), strict=True):
            name = safe_filename(f"statement_{ctx['period']}_{ctx['rep']['rep_id']}_{ctx['rep']['name']}", ".html",
                                 taken)
            page = inside(out, name)
            atomic_write_bytes(page, html.encode("utf-8"))
            written.html.append(page)
    if pdf:
        written.pdf, written.note = statements_to_pdf(written.html, timeout=timeout)
    pdf_of = {p.stem: p.name for p in written.pdf}
    index = pd.DataFrame([
        {"rep_id": ctx["rep"]["rep_id"], "name": ctx["rep"]["name"], "employee_id": ctx["rep"]["employee_id"],
         "period": ctx["period"], "score": float(ctx["score"]), "rating": ctx["rating"],
         "coefficient": float(ctx["coefficient"]), "commission": float(ctx["commission"]["total"]),
         "html": p.name, "pdf": pdf_of.get(p.stem, "")}
        for ctx, p in zip(contexts, written.html, strict=True)], columns=STATEMENT_INDEX)
    write_csv(out / "statements.csv", index)
    return written
