"""The `salesbook` command: parses arguments, calls the library, turns its errors into messages."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from pathlib import Path

import click

from . import __version__
from .core.periods import PeriodError
from .core.settings import SettingsError
from .pipeline import FolderError, MasterError, NothingToRead, check_output_folder

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_NOTHING = 0, 1, 2, 3


class Fail(click.ClickException):
    """A failure with an exit code of our contract."""

    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.exit_code = code


def _as_of(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Fail(f"--as-of {value!r} is not a date; write it as 2026-11-30.") from None


def _progress():
    """A progress callback drawing a bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        if total <= 3:
            return
        width = 30
        filled = int(width * done / total)
        sys.stderr.write(f"\rreading [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def _guard(fn):
    """Turn library errors into exit codes 2 (usage/settings) and 3 (nothing readable)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (SettingsError, MasterError, PeriodError, FolderError) as exc:
            raise Fail(str(exc), EXIT_USAGE) from None
        except NothingToRead as exc:
            raise Fail(str(exc), EXIT_NOTHING) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="salesbook")
def main() -> None:
    """salesbook: validate team workbooks, score reps, write contracts, reports and the HR export."""


def print_summary(run, *, first: int = 15) -> None:
    files_ok = sum(1 for f in run.files if f.status == "accepted")
    rejected = [f for f in run.files if f.status == "rejected"]
    click.echo(f"Files: {files_ok} accepted, {len(rejected)} rejected")
    for f in rejected:
        click.echo(f"  rejected {f.label}: {f.reason}")
    sev = Counter(f.severity for f in run.findings)
    click.echo(f"Findings: {sev.get('error', 0)} errors, {sev.get('warning', 0)} warnings, {sev.get('info', 0)} info")
    if run.as_of is None:
        click.echo("  (no --period or --as-of: overdue and follow-up checks were skipped)")
    by_code = Counter((f.severity, f.code) for f in run.findings)
    for (s, code), n in sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"  {n:6d}  {s:<7}  {code}")
    by_file = Counter(f.file for f in run.findings)
    if len(by_file) > 1:
        click.echo("Per file:")
        for name, n in sorted(by_file.items()):
            click.echo(f"  {n:6d}  {name}")
    shown = [f for f in run.findings if f.severity != "info"][:first]
    if shown:
        click.echo(f"First {len(shown)} findings:")
        for f in shown:
            click.echo(f"  {f.where}: {f.code}: {f.message}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--master", "master", type=click.Path(path_type=Path), help="SalesBook.xlsm (roster, settings)")
@click.option("--period", help="2026-11 or 2026-Q4; its last day is the as-of date")
@click.option("--as-of", "as_of", help="as-of date for overdue checks, e.g. 2026-11-30")
@click.option("--out", "out", type=click.Path(path_type=Path), help="write findings.csv, files.csv and findings.xlsx here")
@click.option("--workers", type=int, default=None, help="worker processes (default from settings)")
@_guard
def validate(paths, master, period, as_of, out, workers):
    """Check team workbooks; exit 1 when error-level findings exist."""
    from .io.writers import write_csv, write_xlsx
    from .outputs import files_frame, findings_frame
    from .pipeline import all_rejected
    from .pipeline import validate as run_validate

    if out:
        check_output_folder(out, list(paths))
    run = run_validate(list(paths), master=master, period=period, as_of=_as_of(as_of), workers=workers,
                       progress=_progress())
    print_summary(run)
    if out:
        ff, files = findings_frame(run.findings), files_frame(run.files)
        write_csv(out / "findings.csv", ff)
        write_csv(out / "files.csv", files)
        write_xlsx(out / "findings.xlsx", [("校验结果", ff), ("文件状态", files)])
        click.echo(f"Wrote findings.csv, files.csv and findings.xlsx to {out}")
    if all_rejected(run):
        sys.exit(EXIT_NOTHING)
    sys.exit(EXIT_FINDINGS if run.error_count else EXIT_OK)


def print_scorecards(cards) -> None:
    if cards.empty:
        click.echo("Scorecards: none (no rep in the roster is active or worked in this period)")
        return
    click.echo("Scorecards:")
    click.echo(f"  {'rep':<8} {'name':<8} {'revenue':>14} {'collections':>14} {'base':>7} {'ded':>5} "
               f"{'score':>7} rating coef")
    for r in cards.to_dict("records"):
        click.echo(f"  {r['rep_id']:<8} {str(r['name']):<8} {r['revenue']:>14,.2f} {r['collections']:>14,.2f} "
                   f"{r['base_score']:>7.2f} {r['deductions']:>5.0f} {r['score']:>7.2f} {r['rating']:^6} "
                   f"{r['coefficient']:.1f}")


def print_commissions(paid) -> None:
    if paid is None or paid.empty or not paid["plan"].astype(bool).any():
        click.echo("Commissions: none (no rep is on a plan of the 提成方案 sheet)")
        return
    click.echo("Commissions:")
    click.echo(f"  {'rep':<8} {'plan':<12} {'base':>14} {'position':>12} {'commission':>12}")
    for r in paid.to_dict("records"):
        if not r["plan"]:
            continue
        base = "" if r["base"] is None or r["base"] != r["base"] else f"{r['base']:,.2f}"
        pos = "" if r["position"] is None or r["position"] != r["position"] else f"{r['position']:,.4g}"
        flags = (" held" if r["held"] else "") + (" capped" if r["capped"] else "")
        click.echo(f"  {r['rep_id']:<8} {str(r['plan']):<12} {base:>14} {pos:>12} {r['commission']:>12,.2f}{flags}")
    click.echo(f"  total {paid['commission'].sum():,.2f}")


@main.command()
@click.argument("team_dir", type=click.Path(path_type=Path))
@click.option("--master", "master", required=True, type=click.Path(path_type=Path), help="SalesBook.xlsm")
@click.option("--period", required=True, help="2026-11 or 2026-Q4")
@click.option("--as-of", "as_of", help="as-of date (default: the period's last day)")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="output folder")
@click.option("--full", is_flag=True, help="also put the row-level data into consolidated.xlsx")
@click.option("--workers", type=int, default=None, help="worker processes (default from settings)")
@_guard
def consolidate(team_dir, master, period, as_of, out, full, workers):
    """Validate, grade customers, evaluate the pipeline and score every rep for a period."""
    from .exports import write_consolidation
    from .pipeline import all_rejected
    from .pipeline import consolidate as run_consolidate

    check_output_folder(out, [team_dir])
    c = run_consolidate(team_dir, master=master, period=period, as_of=_as_of(as_of), workers=workers,
                        progress=_progress())
    print_summary(c.run, first=10)
    print_scorecards(c.scorecards)
    print_commissions(c.commissions)
    write_consolidation(c, out, full=full)
    click.echo(f"Wrote findings.csv, files.csv, customer_grades.csv, pipeline.csv, scorecards.csv, evidence.csv, "
               f"commissions.csv, consolidated.xlsx and consolidated.parquet to {out}")
    if all_rejected(c.run):
        sys.exit(EXIT_NOTHING)


@main.command("export-hr")
@click.argument("team_dir", type=click.Path(path_type=Path))
@click.option("--master", "master", required=True, type=click.Path(path_type=Path), help="SalesBook.xlsm")
@click.option("--period", required=True, help="2026-11 or 2026-Q4")
@click.option("--as-of", "as_of", help="as-of date (default: the period's last day)")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="output folder")
@click.option("--workers", type=int, default=None)
@_guard
def export_hr(team_dir, master, period, as_of, out, workers):
    """Write the period's scorecards for payroll (CSV with BOM, xlsx, manifest.json); no customer data."""
    from .exports import write_hr_export
    from .pipeline import all_rejected
    from .pipeline import consolidate as run_consolidate

    check_output_folder(out, [team_dir])
    c = run_consolidate(team_dir, master=master, period=period, as_of=_as_of(as_of), workers=workers,
                        progress=_progress())
    if all_rejected(c.run):
        raise Fail("No team file could be read; nothing to export.", EXIT_NOTHING)
    paths = write_hr_export(c, out)
    click.echo(f"HR export for {c.run.period.label}: {len(c.scorecards)} scorecards")
    for p in paths:
        click.echo(f"  {p}")


@main.group()
def template() -> None:
    """Blank workbooks made from the schemas."""


@template.command("team")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--master", "master", type=click.Path(path_type=Path), help="SalesBook.xlsm: rep id drop-downs")
@_guard
def template_team(out, master):
    """A blank team workbook with drop-downs, date rules and header notes."""
    from .io.team_template import write_team_template
    from .pipeline import read_master

    rep_ids = None
    if master:
        m = read_master(master)
        rep_ids = sorted(m.roster_ids or [])
    write_team_template(out, rep_ids)
    click.echo(f"Wrote {out}")


def _book_error(exc: Exception) -> Fail:
    return Fail(str(exc), EXIT_USAGE)


@main.command("build-workbook")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--interpreter", help="Python the buttons run (default: this Python)")
@_guard
def build_workbook_cmd(out, interpreter):
    """Write the master workbook SalesBook.xlsm (sheets, buttons, VBA project)."""
    from .xlsm.builder import LayoutError, build_workbook

    try:
        build_workbook(out, interpreter=interpreter)
    except LayoutError as exc:
        raise Fail(str(exc)) from None
    click.echo(f"Wrote {out}")


def init_workspace(root: Path, *, roster_rows=(), targets_rows=(), plan_rows=(), settings_rows=None) -> Path:
    """SalesBook.xlsm, team/, templates/ and out/ in `root`; returns the workbook's path."""
    from .io.atomic import atomic_copy
    from .xlsm.builder import build_workbook
    from .xlsm.resources import shipped_path

    root.mkdir(parents=True, exist_ok=True)
    for sub in ("team", "out", "templates"):
        (root / sub).mkdir(exist_ok=True)
    src = shipped_path("templates")
    for f in sorted(src.iterdir()) if src.exists() else []:
        if f.is_file() and not (root / "templates" / f.name).exists():
            atomic_copy(f, root / "templates" / f.name)
    book = root / "SalesBook.xlsm"
    build_workbook(book, settings_rows=settings_rows, roster_rows=roster_rows, targets_rows=targets_rows,
                   plan_rows=plan_rows)
    return book


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="overwrite an existing SalesBook.xlsm")
@_guard
def init(directory, force):
    """Create a workspace: SalesBook.xlsm, team/, templates/, out/."""
    if (directory / "SalesBook.xlsm").exists() and not force:
        raise Fail(f"{directory / 'SalesBook.xlsm'} already exists; use --force to replace it (its data is lost).")
    book = init_workspace(directory)
    click.echo(f"Workspace ready: {book}")
    click.echo(f"  put the team workbooks in {directory / 'team'} (a blank one: salesbook template team OUT.xlsx)")
    click.echo("  fill 花名册 (roster), 目标 (targets) and the period in 设置 (settings), then click the buttons")


@main.command("run")
@click.argument("action", type=click.Choice(["validate", "consolidate", "contracts", "reports", "export-hr",
                                             "statements"]))
@click.option("--book", "book_path", required=True, type=click.Path(path_type=Path), help="SalesBook.xlsm")
@_guard
def run_cmd(action, book_path):
    """Run a button's action on the workbook file, headless."""
    from .actions import EXPECTED_ERRORS, run_action
    from .io.book import FileBook
    from .pipeline import NothingToRead

    try:
        book = FileBook(book_path)
        message = run_action(action, book)
    except EXPECTED_ERRORS as exc:
        raise Fail(str(exc), EXIT_NOTHING if isinstance(exc, NothingToRead) else EXIT_USAGE) from None
    click.echo(message)


ROSTER_KEYS = ["rep_id", "name", "employee_id", "team", "region", "manager", "status", "commission_plan"]
TARGET_KEYS = ["rep_id", "period", "revenue_target", "volume_target", "collections_target",
               "new_customers_target", "activities_target"]
PLAN_KEYS = ["plan", "base", "tier_basis", "tier_from", "tier_to", "rate", "method"]
DEMO_ACTIONS = ("validate", "consolidate", "contracts", "reports", "export-hr", "statements")


def init_demo_workspace(directory: Path, *, period: str = "2026-11"):
    """The demo's team files, and SalesBook.xlsm with its settings, roster, plans and targets."""
    from .core.schema import load_schemas
    from .demo_data import DEMO_PLANS, demo_master_data, demo_settings_rows, generate_demo

    data = generate_demo(directory, period=period)
    Path(data.master_path).unlink(missing_ok=True)  # the workspace's master is SalesBook.xlsm
    _, roster, targets = demo_master_data(period=period)
    schemas = load_schemas()

    def zh(sheet: str, key: str, value: object) -> object:
        enum = schemas[sheet].column(key).enum
        return enum.zh(value) if enum is not None and isinstance(value, str) else value

    roster_rows = [[zh("roster", k, r.get(k)) for k in ROSTER_KEYS] for r in roster]
    target_rows = [[t.get(k) for k in TARGET_KEYS] for t in targets]
    plan_rows = [[zh("commission_plans", k, p.get(k)) for k in PLAN_KEYS] for p in DEMO_PLANS]
    book = init_workspace(directory, roster_rows=roster_rows, targets_rows=target_rows, plan_rows=plan_rows,
                          settings_rows=demo_settings_rows(period=period))
    return data, book


@main.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("demo-workspace"), required=False)
@click.option("--period", default="2026-11", show_default=True)
@_guard
def demo(directory, period):
    """A demo workspace with sample team workbooks, then every action on it."""
    import shutil

    from .actions import ACTIONS, run_action
    from .io.book import FileBook

    if directory.exists():
        shutil.rmtree(directory)
    data, book_path = init_demo_workspace(directory, period=period)
    click.echo(f"Demo workspace: {directory.resolve()}")
    click.echo(f"  {len(list((directory / 'team').iterdir()))} files in team/ with {len(data.defects)} injected defects"
               " (defects.json)")
    for action in DEMO_ACTIONS:
        if action not in ACTIONS:
            click.echo(f"[{action}] not available yet")
            continue
        book = FileBook(book_path)
        click.echo(f"[{action}] " + run_action(action, book).replace("\n", "\n    "))
    click.echo(f"The workbook with findings, scorecards, commissions and the dashboard: {book_path}")
    click.echo(f"Outputs: {directory / 'out'}")


@main.command()
@click.argument("team_dir", type=click.Path(path_type=Path))
@click.option("--master", "master", required=True, type=click.Path(path_type=Path), help="SalesBook.xlsm")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="output folder")
@click.option("--pdf", is_flag=True, help="also convert each contract to PDF with LibreOffice")
@click.option("--only", multiple=True, help="only this contract id (repeatable)")
@click.option("--template", type=click.Path(path_type=Path), help="a .docx template (default: the shipped one)")
@_guard
def contracts(team_dir, master, out, pdf, only, template):
    """One Word contract per contract; drafts for contracts not approved by legal and finance."""
    from .documents.env import DocumentError
    from .documents.from_run import write_contracts
    from .pipeline import read_master
    from .pipeline import validate as run_validate

    check_output_folder(out, [team_dir])
    m = read_master(master)
    run = run_validate([team_dir], master=m, progress=_progress())
    try:
        docs, notes = write_contracts(run, m.settings, out, template=template, pdf=pdf, only=list(only) or None)
    except DocumentError as exc:
        raise Fail(str(exc)) from None
    drafts = sum(1 for d in docs if d.is_draft)
    click.echo(f"Wrote {len(docs)} contracts to {out} ({drafts} drafts: reviews not both approved) and contracts.csv")
    for n in notes:
        click.echo(f"  skipped {n}")
    no_pdf = [d for d in docs if pdf and d.pdf is None]
    if no_pdf:  # the .docx files and contracts.csv are there; exit 1 so a script sees the gap
        click.echo(f"No PDF for {len(no_pdf)} of {len(docs)} contracts (pdf_error in contracts.csv):")
        for d in no_pdf[:20]:
            click.echo(f"  {d.contract_id}: {d.pdf_error}")
        sys.exit(EXIT_FINDINGS)


@main.command()
@click.argument("team_dir", type=click.Path(path_type=Path))
@click.option("--master", "master", required=True, type=click.Path(path_type=Path), help="SalesBook.xlsm")
@click.option("--period", help="2026-11 or 2026-Q4 (monthly/quarterly report)")
@click.option("--weekly", "week", help="an ISO week such as 2026-W48 (weekly report)")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="output folder")
@click.option("--template", type=click.Path(path_type=Path), help="an HTML Jinja template")
@_guard
def report(team_dir, master, period, week, out, template):
    """Sales reports per rep and per team: HTML pages and report_<period>.xlsx."""
    from .documents.env import DocumentError
    from .documents.from_run import write_reports
    from .pipeline import consolidate as run_consolidate

    if bool(period) == bool(week):
        raise Fail("Give exactly one of --period (e.g. 2026-11) or --weekly (e.g. 2026-W48).")
    check_output_folder(out, [team_dir])
    c = run_consolidate(team_dir, master=master, period=period or week, progress=_progress())
    try:
        paths = write_reports(c, out, template=template)
    except DocumentError as exc:
        raise Fail(str(exc)) from None
    click.echo(f"Wrote {len(paths) - 1} HTML reports and {paths[-1].name} to {out}")


@main.command()
@click.argument("team_dir", type=click.Path(path_type=Path))
@click.option("--master", "master", required=True, type=click.Path(path_type=Path), help="SalesBook.xlsm")
@click.option("--period", required=True, help="2026-11 or 2026-Q4")
@click.option("--as-of", "as_of", help="as-of date (default: the period's last day)")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="output folder")
@click.option("--no-pdf", "no_pdf", is_flag=True, help="write the HTML pages only")
@click.option("--template", type=click.Path(path_type=Path), help="an HTML Jinja template")
@_guard
def statements(team_dir, master, period, as_of, out, no_pdf, template):
    """Appraisal statements (考核确认单): one page per rep, HTML and PDF, with signature lines."""
    from .documents.env import DocumentError
    from .documents.statements import write_statements
    from .pipeline import all_rejected
    from .pipeline import consolidate as run_consolidate

    check_output_folder(out, [team_dir])
    c = run_consolidate(team_dir, master=master, period=period, as_of=_as_of(as_of), progress=_progress())
    if all_rejected(c.run):
        raise Fail("No team file could be read; no statements written.", EXIT_NOTHING)
    try:
        written = write_statements(c, c.run.master.settings, out, template=template, pdf=not no_pdf)
    except DocumentError as exc:
        raise Fail(str(exc)) from None
    click.echo(written.message())


if __name__ == "__main__":  # pragma: no cover
    main()
