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
from .pipeline import MasterError, NothingToRead

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
        except (SettingsError, MasterError, PeriodError) as exc:
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
@click.option("--out", "out", type=click.Path(path_type=Path), help="write findings.csv and findings.xlsx here")
@click.option("--workers", type=int, default=None, help="worker processes (default from settings)")
@_guard
def validate(paths, master, period, as_of, out, workers):
    """Check team workbooks; exit 1 when error-level findings exist."""
    from .io.writers import write_csv, write_xlsx
    from .outputs import files_frame, findings_frame
    from .pipeline import all_rejected
    from .pipeline import validate as run_validate

    run = run_validate(list(paths), master=master, period=period, as_of=_as_of(as_of), workers=workers,
                       progress=_progress())
    print_summary(run)
    if out:
        ff = findings_frame(run.findings)
        write_csv(out / "findings.csv", ff)
        write_xlsx(out / "findings.xlsx", [("校验结果", ff), ("文件状态", files_frame(run.files))])
        click.echo(f"Wrote {out / 'findings.csv'} and {out / 'findings.xlsx'}")
    if all_rejected(run):
        sys.exit(EXIT_NOTHING)
    sys.exit(EXIT_FINDINGS if run.error_count else EXIT_OK)


if __name__ == "__main__":  # pragma: no cover
    main()


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

    c = run_consolidate(team_dir, master=master, period=period, as_of=_as_of(as_of), workers=workers,
                        progress=_progress())
    print_summary(c.run, first=10)
    print_scorecards(c.scorecards)
    write_consolidation(c, out, full=full)
    click.echo(f"Wrote findings.csv, files.csv, customer_grades.csv, pipeline.csv, scorecards.csv, evidence.csv, "
               f"consolidated.xlsx and consolidated.parquet to {out}")
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
