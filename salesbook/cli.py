"""The `salesbook` command: checks the arguments, calls the library, turns every failure into a sentence.

Structure, for whoever adds a command:
- `@command(...)` (below) registers a command on `main` with a short help line that fits the
  command list, an example and the exit codes in its --help.
- The `check_*` helpers refuse bad arguments before any work (an output path that is a file, a
  template that is not one, a master that is a team workbook, a period that is not one).
- Output folders are written through `OutputFolder` (salesbook.io.staging): all at once or not at all.
- `SalesbookGroup.invoke` is the one place failures are translated (salesbook.errors): a message and
  exit 2/3 for what the user can fix, 130 for Ctrl-C, 70 and a log file for a fault of the program.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import click

from . import __version__
from .core.findings import values_of
from .errors import (
    EXIT_BROKEN_PIPE,
    EXIT_CODES_HELP,
    EXIT_FAULT,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_USAGE,
    describe,
    fault_message,
    interrupted_message,
    write_fault_log,
)

__all__ = ["EXIT_FINDINGS", "EXIT_NOTHING", "EXIT_OK", "EXIT_USAGE", "Fail", "command", "init_workspace", "main"]


class Fail(click.ClickException):
    """A failure with an exit code of our contract."""

    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.exit_code = code


OUTPUTS = "salesbook.outputs"  # click context key: the output folders the command will write


def _stdout_gone() -> None:
    """The reader of stdout has gone (`salesbook … | head -1`): point stdout at the null device so that
    nothing more is printed and Python's flush at exit does not complain."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (a test runner's buffer)
        pass


def _is_stdout_pipe(exc: BrokenPipeError) -> bool:
    """A broken pipe of our own output, not of a file or a child process (LibreOffice, a worker):
    stdout's pipe itself reports an error (its reader has gone)."""
    if exc.filename is not None or exc.filename2 is not None:
        return False
    try:
        import select

        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _fd, events in poller.poll(0))
    except AttributeError:  # no poll() (Windows): a broken pipe without a file name is taken as stdout's
        return hasattr(sys.stdout, "fileno")
    except (OSError, ValueError):  # stdout without a file descriptor (a test runner's buffer)
        return False


class SalesbookGroup(click.Group):
    """The command group whose commands never end in a traceback."""

    def main(self, *args, **kwargs):
        try:
            return super().main(*args, **kwargs)
        except SystemExit:
            try:  # what is still buffered for a pipe whose reader has gone
                sys.stdout.flush()
            except BrokenPipeError:
                _stdout_gone()
                raise SystemExit(EXIT_BROKEN_PIPE) from None
            except (OSError, ValueError):
                pass
            raise

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError as exc:
            if not _is_stdout_pipe(exc):
                raise Fail(*(describe(exc) or (str(exc), EXIT_USAGE))) from None
            # The work is done (outputs are committed before anything is printed); only the message is lost.
            _stdout_gone()
            raise click.exceptions.Exit(EXIT_BROKEN_PIPE) from None
        except KeyboardInterrupt as exc:
            for folder in ctx.meta.get(OUTPUTS, []):  # output folders the command had not reached yet
                if not folder.committed and folder.untouched_note not in getattr(exc, "__notes__", []):
                    exc.add_note(folder.untouched_note)
            raise Fail(interrupted_message(exc), EXIT_INTERRUPTED) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, never a traceback
            described = describe(exc)
            if described is not None:
                raise Fail(*described) from None
            log = write_fault_log("salesbook " + " ".join(sys.argv[1:]))
            raise Fail(fault_message(exc, log), EXIT_FAULT) from None


@click.group(cls=SalesbookGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="salesbook")
def main() -> None:
    """salesbook: validate team workbooks, score reps, write contracts, reports and the HR export.

    \b
    Start here:
      salesbook demo demo-workspace      a workspace with sample data, every action run on it
      salesbook init my-office           an empty workspace: SalesBook.xlsm, team/, templates/, out/
    """


def command(name: str | None = None, *, short: str, example: str, group: click.Group | None = None):
    """Register a command: `short` is its line in the command list (kept short, never cut with "…"),
    `example` goes into its --help with the exit codes."""

    def register(fn):
        doc = inspect.cleandoc(fn.__doc__ or "")
        fn.__doc__ = doc + "\n\n\b\nExample:\n" + "\n".join("  " + line for line in example.strip().splitlines())
        return (group or main).command(name, short_help=short, epilog=EXIT_CODES_HELP)(fn)

    return register


# ------------------------------------------------------------------ shared argument checks


def check_as_of(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Fail(f"--as-of {value!r} is not a date; write it as 2026-11-30.") from None


def check_period(value: str | None, option: str = "--period") -> str | None:
    """A period such as 2026-11, 2026-Q4 or 2026-W48, refused before anything is read."""
    from .core.periods import PeriodError, parse_period

    if value:
        try:
            parse_period(value)
        except PeriodError as exc:
            raise Fail(f"{option} {value!r}: {exc}") from None
    return value


def check_master(path: Path | None, option: str = "--master") -> Path | None:
    """The master workbook must be an existing file; what is inside is checked when it is read."""
    if path is None:
        return None
    path = Path(path)
    if not path.exists():
        raise Fail(f"{option} {path} does not exist. Give the master workbook SalesBook.xlsm "
                   "(`salesbook init DIR` creates one).")
    if path.is_dir():
        hint = f" (did you mean {path / 'SalesBook.xlsm'}?)" if (path / "SalesBook.xlsm").is_file() else ""
        raise Fail(f"{option} {path} is a folder; give the master workbook file{hint}.")
    if not path.is_file():  # a named pipe or a device: never opened (it would wait for a writer for ever)
        raise Fail(f"{option} {path} is not a regular file (a named pipe, socket or device); give the master "
                   "workbook file SalesBook.xlsm.")
    return path


def check_out(path: Path, option: str = "--out", *, team: list[Path] | None = None):
    """The output folder, written all at once: an existing file there is refused before any work, and
    so is a folder inside a team folder (its files would be read as team files on the next run)."""
    from .io.staging import OutputFolder
    from .pipeline import check_outside_team

    if team:
        check_outside_team(path, team)
    folder = OutputFolder(path, option=option)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # so that a Ctrl-C before the writing says this folder was left as it was
        ctx.find_root().meta.setdefault(OUTPUTS, []).append(folder)
    return folder


def check_out_file(path: Path, option: str = "OUT") -> Path:
    from .io.staging import check_output_file

    return check_output_file(path, option=option)


def check_replace(path: Path, force: bool, what: str) -> None:
    """An existing file at `path` is replaced only with --force: refused before any work otherwise
    (and always when it is a folder, a named pipe or a device)."""
    import os
    import stat

    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise Fail(f"{path} exists and is not a regular file; give another name for the {what}.")
    if not force:
        raise Fail(f"{path} already exists; nothing was written. Use --force to replace it with a new {what} "
                   f"(the old file is kept as {path.name}.bak), or give another name.")


def keep_backup(path: Path) -> tuple[int | None, Path | None]:
    """Before --force replaces `path`: the old file as `<name>.bak` (a link kept as a link, never
    followed); returns the permission bits the new file keeps (None: as a new file) and the backup."""
    import os
    import stat

    from .io.atomic import backup_before_replace

    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None, None
    backup = backup_before_replace(path)
    return (stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None), backup


def replaced_note(backup: Path | None) -> str:
    return f" (the old file is kept as {backup})" if backup is not None else ""


def check_template(path: Path | None, kind: str) -> Path | None:
    from .documents.env import check_template_file

    return None if path is None else check_template_file(path, kind, "--template")


@contextlib.contextmanager
def progress_display():
    """Bars with the time left on stderr when it is a terminal; nothing otherwise (logs, pipes)."""
    from .progress import Progress, TerminalProgress

    shown = TerminalProgress() if sys.stderr.isatty() else Progress()
    try:
        yield shown
    finally:
        shown.close()


def _guard(fn):
    """Kept for commands written before `SalesbookGroup`: every command's errors are translated there."""
    return fn


_as_of = check_as_of  # the older name


def _progress():
    """The older way to ask for progress: a terminal display, or None (prefer `with progress_display()`)."""
    from .progress import TerminalProgress

    return TerminalProgress() if sys.stderr.isatty() else None


# ------------------------------------------------------------------ summaries


def print_summary(run, *, first: int = 15) -> None:
    status = Counter(f.status for f in run.files)
    line = f"Files: {status.get('accepted', 0)} accepted, {status.get('rejected', 0)} rejected"
    click.echo(line + (f", {status['skipped']} skipped" if status.get("skipped") else ""))
    for f in run.files:
        if f.status in ("rejected", "skipped"):
            click.echo(f"  {f.status} {f.label}: {f.reason}")
    severities, codes = values_of(run.findings, "severity"), values_of(run.findings, "code")
    sev = Counter(severities)
    click.echo(f"Findings: {sev.get('error', 0)} errors, {sev.get('warning', 0)} warnings, {sev.get('info', 0)} info")
    if run.as_of is None:
        click.echo("  (no --period or --as-of: overdue and follow-up checks were skipped)")
    by_code = Counter(zip(severities, codes, strict=True))
    for (s, code), n in sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"  {n:6d}  {s:<7}  {code}")
    by_file = Counter(values_of(run.findings, "file"))
    if len(by_file) > 1:
        click.echo("Per file:")
        for name, n in sorted(by_file.items()):
            click.echo(f"  {n:6d}  {name}")
    shown = [run.findings[i] for i in [i for i, s in enumerate(severities) if s != "info"][:first]]
    if shown:
        click.echo(f"First {len(shown)} findings:")
        for f in shown:
            click.echo(f"  {f.where}: {f.code}: {f.message}")


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


# ------------------------------------------------------------------ commands

MASTER_HELP = "the master workbook SalesBook.xlsm (roster, targets, settings)"
PERIOD_HELP = "2026-11 or 2026-Q4; its last day is the as-of date"
LEDGER_HELP = ("ledger database URL (default: $SALESBOOK_LEDGER, else the ledger_url setting, else salesbook.db "
               "beside the master)")


def open_ledger_of(master, url: str | None):
    """The master's ledger (created or migrated on first use)."""
    from .closing import open_master_ledger

    return open_master_ledger(master, url)


def existing_ledger_of(master, url: str | None):
    """The master's ledger if it exists, checked before any long work (None: made when a run is recorded)."""
    from .closing import existing_ledger

    return existing_ledger(master, url)


@command(short="Check team workbooks (exit 1 on errors).", example="""
salesbook validate team/ --master SalesBook.xlsm --period 2026-11 --out out/check
salesbook validate team/张伟.xlsx""")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--master", "master", type=click.Path(path_type=Path), help=MASTER_HELP)
@click.option("--period", help=PERIOD_HELP)
@click.option("--as-of", "as_of", help="as-of date for overdue checks, e.g. 2026-11-30")
@click.option("--out", "out", type=click.Path(path_type=Path),
              help="write findings.csv, files.csv and findings.xlsx into this folder")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="worker processes (default from settings)")
def validate(paths, master, period, as_of, out, workers):
    """Check team workbooks (files or folders); exit 1 when error-level findings exist."""
    from .io.writers import write_csv, write_xlsx
    from .outputs import files_frame, findings_frame
    from .pipeline import all_rejected
    from .pipeline import validate as run_validate

    staged = check_out(out, team=list(paths)) if out else None
    as_of_date, master = check_as_of(as_of), check_master(master)
    check_period(period)
    with progress_display() as p:
        run = run_validate(list(paths), master=master, period=period, as_of=as_of_date, workers=workers, progress=p)
        if staged is not None:
            with staged as tmp:
                p.phase("writing outputs", 3, "files")
                ff = findings_frame(run.findings)
                write_csv(tmp / "findings.csv", ff)
                p.update(1)
                write_csv(tmp / "files.csv", files_frame(run.files))
                p.update(2)
                write_xlsx(tmp / "findings.xlsx", [("校验结果", ff), ("文件状态", files_frame(run.files))],
                           sources={f.label: f.path for f in run.files})
                p.update(3)
    print_summary(run)
    if staged is not None:
        click.echo(f"Wrote findings.csv, files.csv and findings.xlsx to {out}")
    if all_rejected(run):
        sys.exit(EXIT_NOTHING)
    sys.exit(EXIT_FINDINGS if run.error_count else EXIT_OK)


@command(short="Grade, evaluate and score a period.", example="""
salesbook consolidate team/ --master SalesBook.xlsm --period 2026-11 --out out/2026-11""")
@click.argument("team_dir", type=click.Path(path_type=Path))
@click.option("--master", "master", required=True, type=click.Path(path_type=Path), help=MASTER_HELP)
@click.option("--period", required=True, help="2026-11 or 2026-Q4")
@click.option("--as-of", "as_of", help="as-of date (default: the period's last day)")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="output folder")
@click.option("--full", is_flag=True, help="also put the row-level data into consolidated.xlsx")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="worker processes (default from settings)")
@click.option("--ledger", "ledger_url", help=LEDGER_HELP)
def consolidate(team_dir, master, period, as_of, out, full, workers, ledger_url):
    """Validate, grade customers, evaluate the pipeline and score every rep for a period.

    Writes findings.csv, files.csv, customer_grades.csv, pipeline.csv, scorecards.csv, evidence.csv,
    commissions.csv, consolidated.xlsx and consolidated.parquet into --out, all at once: an interrupted or failed
    run leaves --out as it was. The run is recorded in the ledger; for a closed period
    changes_since_close.csv says what changed since the close.
    """
    from .closing import CHANGES_FILE, Recording, changes_since_close, closed_view, remove_stale_changes
    from .exports import write_consolidation
    from .io.writers import write_csv
    from .payroll import refuse_week
    from .pipeline import all_rejected, read_master
    from .pipeline import consolidate as run_consolidate

    staged = check_out(out, team=[team_dir])
    as_of_date, master = check_as_of(as_of), check_master(master)
    check_period(period)
    refuse_week(period, "consolidate (scorecards)")
    with progress_display() as p:
        m = read_master(master)
        ledger = existing_ledger_of(m, ledger_url)
        c = run_consolidate(team_dir, master=m, period=period, as_of=as_of_date, workers=workers, outputs=True,
                            progress=p)
        # Nothing read: all-zero scorecards that would stand as the period's latest figures in history and trends.
        nothing = all_rejected(c.run)
        if not nothing:
            ledger = ledger or open_ledger_of(m, ledger_url)
        run_id = None
        view = None if nothing else closed_view(ledger, m.settings, c.run.period)
        recording = Recording(c)
        with staged as tmp:
            try:
                if not nothing and view is None:
                    recording.start(ledger)  # fingerprinted and recorded in a forked process while the writers run
                if (recording.forked or nothing) and not full:  # --full writes every row in consolidated.xlsx
                    c.drop_rows()  # the writers fork next: each starts this much smaller
                # a closed period: the changes need this run's source rows here
                write_consolidation(c, tmp, full=full, progress=p, meanwhile=recording if view is not None else None)
                if not nothing:
                    run_id = recording.record(ledger)
            except BaseException:
                recording.cancel()
                raise
            if view is not None:
                changes = changes_since_close(view, c, recording.rows)
                write_csv(tmp / CHANGES_FILE, changes)
    remove_stale_changes(staged.target, written=view is not None)
    print_summary(c.run, first=10)
    print_scorecards(c.scorecards)
    print_commissions(c.commissions)
    click.echo(f"Wrote findings.csv, files.csv, customer_grades.csv, pipeline.csv, scorecards.csv, evidence.csv, "
               f"commissions.csv, consolidated.xlsx and consolidated.parquet to {out}")
    if view is not None:
        click.echo(f"{c.run.period.label} is closed ({view.close.who_when}): {len(changes)} changes for "
                   f"{changes['rep_id'].nunique()} reps since the close in {out / CHANGES_FILE}")
    if nothing:
        click.echo(NOT_RECORDED)
        sys.exit(EXIT_NOTHING)
    click.echo(f"Recorded as run {run_id} in the ledger {ledger.shown}")


NOT_RECORDED = ("Not recorded in the ledger: no team file could be read (files.csv says why), so these scorecards "
                "rest on nothing; the ledger keeps the period's earlier figures. Fix the files and consolidate again.")


@command("export-hr", short="Write the period's scorecards for payroll.", example="""
salesbook export-hr team/ --master SalesBook.xlsm --period 2026-11 --out out/hr""")
@click.argument("team_dir", type=click.Path(path_type=Path))
@click.option("--master", "master", required=True, type=click.Path(path_type=Path), help=MASTER_HELP)
@click.option("--period", required=True, help="2026-11 or 2026-Q4")
@click.option("--as-of", "as_of", help="as-of date (default: the period's last day)")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="output folder")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="worker processes (default from settings)")
@click.option("--ledger", "ledger_url", help=LEDGER_HELP)
def export_hr(team_dir, master, period, as_of, out, workers, ledger_url):
    """Write the period's scorecards for payroll (CSV with BOM, xlsx, manifest.json); no customer data.

    A closed period gives the files exactly as at its close, and adjustments_<P>.csv when anything
    changed since. Refused (exit 2, nothing written) when the figures must not reach payroll.
    """
    from .closing import export_for_hr, remove_stale
    from .payroll import check_payroll, refuse_week
    from .pipeline import consolidate as run_consolidate
    from .pipeline import read_master

    staged = check_out(out, team=[team_dir])
    as_of_date, master = check_as_of(as_of), check_master(master)
    check_period(period)
    refuse_week(period, "the HR export")
    with progress_display() as p:
        m = read_master(master)
        ledger = existing_ledger_of(m, ledger_url)
        c = run_consolidate(team_dir, master=m, period=period, as_of=as_of_date, workers=workers, progress=p)
        check_payroll(c)
        ledger = ledger or open_ledger_of(m, ledger_url)
        with staged as tmp:
            p.phase("writing outputs")
            report = export_for_hr(c, ledger, tmp)
    remove_stale(staged.target, report)
    click.echo(report.message)
    for q in report.paths:
        click.echo(f"  {staged.target / q.relative_to(tmp)}")


@command(short="Close a period: its figures stay as paid.", example="""
salesbook close team/ --master SalesBook.xlsm --period 2026-11 --out out/close-2026-11 --note "paid 12-05"
""")
@click.argument("team_dir", type=click.Path(path_type=Path))
@click.option("--master", "master", required=True, type=click.Path(path_type=Path), help=MASTER_HELP)
@click.option("--period", required=True, help="2026-11 or 2026-Q4")
@click.option("--as-of", "as_of", help="as-of date (default: the period's last day)")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="output folder")
@click.option("--accept-errors", is_flag=True, help="close even though error-level findings exist")
@click.option("--note", default="", help="a note kept with the close")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="worker processes (default from settings)")
@click.option("--ledger", "ledger_url", help=LEDGER_HELP)
def close(team_dir, master, period, as_of, out, accept_errors, note, workers, ledger_url):
    """Close a period: consolidate, export for HR and keep those figures in the ledger, in one transaction.

    Writes the consolidation's outputs and the HR export into --out. Refused (exit 2, nothing closed,
    nothing written) when the period is already closed, when error-level findings exist (unless
    --accept-errors) or when the figures must not reach payroll.
    """
    from .closing import book_name, close_period, remove_stale_changes
    from .core.periods import parse_period
    from .exports import hr_files, write_consolidation, write_files
    from .payroll import check_payroll, data_quality, refuse_week
    from .pipeline import consolidate as run_consolidate
    from .pipeline import read_master

    staged = check_out(out)
    as_of_date, master = check_as_of(as_of), check_master(master)
    check_period(period)
    refuse_week(period, "closing")
    with progress_display() as p:
        m = read_master(master)
        ledger = existing_ledger_of(m, ledger_url)
        live = ledger.live_close(book_name(m.settings), parse_period(period).label) if ledger else None
        if live is not None:  # said before every team file is read
            raise Fail(str(ledger.closed_error(live)))
        c = run_consolidate(team_dir, master=m, period=period, as_of=as_of_date, workers=workers, outputs=True,
                            progress=p)
        check_payroll(c)
        ledger = ledger or open_ledger_of(m, ledger_url)
        p.phase(f"closing {c.run.period.label}")
        info, files = close_period(c, ledger, note=note, accept_errors=accept_errors,
                                   hr_files=lambda run_id: hr_files(c, data_quality=data_quality(c, run_id=run_id,
                                                                                                 closed=True)))
        with staged as tmp:
            write_consolidation(c, tmp, progress=p)
            paths = [staged.target / q.relative_to(tmp) for q in write_files(tmp, files)]
    remove_stale_changes(staged.target, written=False)  # just closed: nothing has changed since
    print_summary(c.run, first=10)
    print_scorecards(c.scorecards)
    accepted = f", {info.accepted_errors} error findings accepted" if info.accepted_errors else ""
    click.echo(f"Closed {info.period}: run {info.run_id}, {info.who_when}{accepted}. "
               f"{len(c.scorecards)} scorecards as paid; outputs and the HR export in {out}:")
    for q in paths:
        click.echo(f"  {q}")


@command(short="Reopen a closed period.", example="""
salesbook reopen --master SalesBook.xlsm --period 2026-11 --reason "HT-0117 amount corrected"
""")
@click.option("--master", "master", required=True, type=click.Path(path_type=Path), help=MASTER_HELP)
@click.option("--period", required=True, help="the closed period, e.g. 2026-11")
@click.option("--reason", required=True, help="why it is reopened (kept in the ledger)")
@click.option("--ledger", "ledger_url", help=LEDGER_HELP)
def reopen(master, period, reason, ledger_url):
    """Reopen a closed period so that it can be closed again; the close and the reason stay in the ledger."""
    from .closing import reopen as reopen_period
    from .pipeline import read_master

    master = check_master(master)
    check_period(period)
    m = read_master(master)
    info = reopen_period(open_ledger_of(m, ledger_url), m.settings, period, reason=reason)
    click.echo(f"Reopened {info.period} (closed {info.who_when}, run {info.run_id}): {info.reopen_reason}")


@command(short="history.csv: every rep's figures per period.", example="""
salesbook history --master SalesBook.xlsm --from 2026-01 --to 2026-12 --out out/""")
@click.option("--master", "master", required=True, type=click.Path(path_type=Path), help=MASTER_HELP)
@click.option("--rep", help="only this rep id")
@click.option("--from", "start", help="first period, e.g. 2026-01")
@click.option("--to", "end", help="last period, e.g. 2026-12")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="output folder")
@click.option("--ledger", "ledger_url", help=LEDGER_HELP)
def history(master, rep, start, end, out, ledger_url):
    """history.csv: one row per rep per period (closed periods as closed, open ones from their latest run)."""
    from .closing import HistoryRefused, check_history_request, history_frame
    from .io.writers import write_csv
    from .pipeline import read_master

    staged = check_out(out)
    master = check_master(master)
    check_period(start, "--from")
    check_period(end, "--to")
    m = read_master(master)
    ledger = open_ledger_of(m, ledger_url)
    try:
        check_history_request(ledger, m.settings, _every_rep_id(m), rep=rep, start=start, end=end)
    except HistoryRefused as exc:
        raise Fail(f"{exc} Nothing was written.") from None
    frame = history_frame(ledger, m.settings, rep=rep, start=start, end=end)
    with staged as tmp:
        write_csv(tmp / "history.csv", frame)
    periods = frame["period"].nunique() if len(frame) else 0
    closed = frame.loc[frame["closed"], "period"].nunique() if len(frame) else 0
    click.echo(f"Wrote {staged.target / 'history.csv'}: {len(frame)} rows, {periods} periods ({closed} closed)")


def _every_rep_id(m) -> set[str]:
    """Rep ids on any roster row, those left out for an error too (their history is still theirs)."""
    frame = m.roster_rows if m.roster_rows is not None else m.roster
    return set() if frame is None else {str(v) for v in frame["rep_id"].dropna()}


@main.group(short_help="Blank workbooks made from the schemas.", epilog=EXIT_CODES_HELP)
def template() -> None:
    """Blank workbooks made from the schemas."""


@command("team", group=template, short="A blank team workbook with drop-downs.", example="""
salesbook template team team/张伟.xlsx --master SalesBook.xlsm""")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--master", "master", type=click.Path(path_type=Path), help="SalesBook.xlsm: rep id drop-downs")
@click.option("--force", is_flag=True, help="replace an existing OUT (the old file is kept as OUT.bak)")
def template_team(out, master, force):
    """A blank team workbook with drop-downs, date rules and header notes.

    An existing OUT is never replaced without --force; with it the old file is kept as OUT.bak.
    """
    from .io.team_template import write_team_template
    from .pipeline import read_master

    out, master = check_out_file(out), check_master(master)
    check_replace(out, force, "team workbook")
    rep_ids = None
    if master:
        m = read_master(master)
        rep_ids = sorted(m.roster_ids or [])
    mode, backup = keep_backup(out)
    write_team_template(out, rep_ids, mode=mode)
    click.echo(f"Wrote {out}{replaced_note(backup)}")


OS_CHOICES = {"windows": "win32", "macos": "darwin"}


@command("build-workbook", short="Write the master workbook SalesBook.xlsm.", example="""
salesbook build-workbook my-office/SalesBook.xlsm
salesbook build-workbook for-a-colleague/SalesBook.xlsm --for windows --interpreter C:\\Python312\\pythonw.exe""")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--interpreter", help="Python the buttons run (default: this Python)")
@click.option("--for", "for_os", type=click.Choice(sorted(OS_CHOICES)),
              help="the OS whose interpreter the hidden xlwings.conf sheet holds (default: this one)")
@click.option("--force", is_flag=True,
              help="replace an existing OUT, an empty workbook in its place (the old file is kept as OUT.bak)")
def build_workbook_cmd(out, interpreter, for_os, force):
    """Write the master workbook SalesBook.xlsm (sheets, buttons, VBA project).

    An existing OUT (a filled master holds the roster, targets and settings) is never replaced without
    --force; with it the old file is kept as OUT.bak and the new one keeps its permissions.
    """
    from .xlsm.builder import LayoutError, build_workbook

    out = check_out_file(out)
    if out.suffix.lower() != ".xlsm":  # said before an existing file is mentioned or backed up
        raise LayoutError(f"{out.name}: the master workbook must be saved as .xlsm (it holds macros)")
    check_replace(out, force, "master workbook")
    mode, backup = keep_backup(out)
    build_workbook(out, interpreter=interpreter, platform=OS_CHOICES.get(for_os), mode=mode)
    click.echo(f"Wrote {out}{replaced_note(backup)}")


@command(short="Point a workbook built elsewhere at this PC's Python.", example="""
salesbook attach SalesBook.xlsm
salesbook attach SalesBook.xlsm --interpreter %LOCALAPPDATA%\\Programs\\Python\\Python312\\pythonw.exe""")
@click.argument("book", type=click.Path(path_type=Path))
@click.option("--interpreter", help="Python the buttons run (default: this Python); on Windows %LOCALAPPDATA%\\... "
              "style values are kept as written and expanded by xlwings when a button runs")
def attach(book, interpreter):
    """Make a SalesBook.xlsm built elsewhere run this machine's Python (no button needed).

    Checks that the workbook's xlwings VBA matches the interpreter's xlwings, installs xlwings'
    AppleScript on macOS, and rewrites the hidden xlwings.conf sheet with this OS's interpreter."""
    from .xlsm.interpreter import AttachError
    from .xlsm.interpreter import attach as do_attach

    try:
        done = do_attach(book, interpreter=interpreter)
    except AttachError as exc:
        raise Fail(str(exc)) from None
    if done.key:
        click.echo(f"{book}: the buttons now run {done.interpreter} ({done.key}).")
    click.echo(f"  xlwings {done.embedded or '(none in the workbook)'} in the workbook, {done.installed} installed.")
    if done.applescript:
        click.echo(f"  AppleScript for Excel: {done.applescript}")
        click.echo("  The first click asks to let Excel control Python (Automation): allow it.")
    for note in done.notes:
        click.echo(f"  {note}")


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


def _mac_applescript() -> None:
    """On macOS, install xlwings' AppleScript (Excel for Mac starts Python only through it)."""
    if sys.platform != "darwin":
        return
    from .xlsm.interpreter import AttachError, install_applescript, installed_xlwings_version

    version = installed_xlwings_version()
    try:
        target = install_applescript(version) if version else None
    except AttachError as exc:
        click.echo(f"  warning: {exc}", err=True)
        return
    if target:
        click.echo(f"  installed {target} (Excel asks once to let it control Python: allow it)")


@command(short="Create an empty workspace.", example="""
salesbook init my-office""")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True,
              help="replace an existing SalesBook.xlsm with an empty one (the old file is kept as SalesBook.xlsm.bak)")
def init(directory, force):
    """Create a workspace: SalesBook.xlsm, team/, templates/, out/."""
    if directory.exists() and not directory.is_dir():
        raise Fail(f"{directory} is a file; give a folder for the workspace.")
    book = directory / "SalesBook.xlsm"
    if book.exists() and not force:
        raise Fail(f"{book} already exists; use --force to replace it with an empty one "
                   "(the old file is kept as SalesBook.xlsm.bak).")
    check_replace(book, True, "master workbook")
    _mode, backup = keep_backup(book)
    if backup is not None:
        click.echo(f"The old {book.name} is kept as {backup}")
    try:
        book = init_workspace(directory)
    except KeyboardInterrupt as exc:
        exc.add_note(f"{directory} may be incomplete: run `salesbook init {directory} --force` again.")
        raise
    click.echo(f"Workspace ready: {book}")
    _mac_applescript()
    click.echo(f"  put the team workbooks in {directory / 'team'} (a blank one: salesbook template team OUT.xlsx)")
    click.echo("  fill 花名册 (roster), 目标 (targets) and the period in 设置 (settings), then click the buttons")


RUN_ACTIONS = ["validate", "consolidate", "contracts", "reports", "report", "export-hr", "statements", "close"]


@command("run", short="Run a button's action on the workbook.", example="""
salesbook run consolidate --book my-office/SalesBook.xlsm""")
@click.argument("action", type=click.Choice(RUN_ACTIONS))
@click.option("--book", "book_path", required=True, type=click.Path(path_type=Path), help="SalesBook.xlsm")
@click.option("--accept-errors", is_flag=True, help="close: close even though error-level findings exist")
@click.option("--note", default="", help="close: a note kept with the close")
@click.option("--ledger", "ledger_url", help=LEDGER_HELP)
def run_cmd(action, book_path, accept_errors, note, ledger_url):
    """Run a button's action on the workbook file, headless (report and reports are the same action).

    The workbook is saved atomically with a .bak backup and keeps its permissions and owner.
    """
    from .actions import rewritten_sheets, run_action
    from .io.book import FileBook

    book_path = check_master(book_path, "--book")
    with progress_display() as p:
        book = FileBook(book_path, rewrites=rewritten_sheets(action))
        book.show_progress(p)
        message = run_action(action, book, ledger=ledger_url, accept_errors=accept_errors, note=note)
    click.echo(message)
    sys.exit(message.exit_code)  # the matching command's code: 1 when validate found errors, 3 nothing read


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


@command(short="A demo workspace, every action run on it.", example="""
salesbook demo demo-workspace
salesbook demo --force demo-workspace      run it again over an earlier demo""")
@click.argument("directory", type=click.Path(path_type=Path), default=Path("demo-workspace"), required=False)
@click.option("--period", default="2026-11", show_default=True)
@click.option("--force", is_flag=True,
              help="use a folder that is not empty; files the demo did not make are never replaced or deleted")
def demo(directory, period, force):
    """A demo workspace with sample team workbooks, then every action on it.

    The folder must be new or empty, unless --force: then the demo goes beside what is there,
    replacing only the files an earlier demo made, and stops (changing nothing) when a file of
    yours is in the way.
    """
    from .actions import ACTION_OPTIONS, ACTIONS, rewritten_sheets, run_action
    from .io.book import FileBook
    from .workspace import check_demo_target, check_no_conflict, remove_stale, write_manifest

    check_period(period)
    ours = check_demo_target(directory, force)
    staged = check_out(directory, "DIR")
    messages = []
    with progress_display() as p, staged as tmp:
        data, book_path = init_demo_workspace(tmp, period=period)
        team_files = len(list((tmp / "team").iterdir()))
        # The demo keeps its own ledger in the workspace, whatever $SALESBOOK_LEDGER says.
        ledger = "sqlite:///" + (tmp.resolve() / "salesbook.db").as_posix()
        for action in DEMO_ACTIONS:
            if action not in ACTIONS:
                messages.append(f"[{action}] not available yet")
                continue
            book = FileBook(book_path, rewrites=rewritten_sheets(action))
            book.show_progress(p)
            options = {"ledger": ledger} if "ledger" in ACTION_OPTIONS.get(action, ()) else {}
            messages.append(f"[{action}] " + run_action(action, book, **options).replace("\n", "\n    "))
        # Close the month as a manager would once HR has the export (the demo's injected errors accepted).
        book = FileBook(book_path, rewrites=rewritten_sheets("close"))
        book.show_progress(p)
        messages.append("[close] " + run_action("close", book, ledger=ledger, accept_errors=True,
                                                note="demo: closed with the injected errors accepted")
                        .replace("\n", "\n    "))
        messages.append(f"[history] {_demo_history(book_path, ledger, tmp / 'out')}")
        files = check_no_conflict(tmp, directory, ours)
        write_manifest(tmp, files)
        staged_names = (str(tmp.resolve()), str(tmp))
    remove_stale(directory, ours, files)
    final = str(directory.resolve())
    click.echo(f"Demo workspace: {final}")
    click.echo(f"  {team_files} files in team/ with {len(data.defects)} injected defects (defects.json)")
    for m in messages:
        for name in staged_names:
            m = m.replace(name, final)
        click.echo(m)
    click.echo(f"The workbook with findings, scorecards, commissions and the dashboard: {directory / 'SalesBook.xlsm'}")
    click.echo(f"Outputs: {directory / 'out'}; the ledger with the closed month: {directory / 'salesbook.db'}")


def _demo_history(book_path: Path, ledger_url: str, out: Path) -> Path:
    from .closing import history_frame
    from .io.writers import write_csv
    from .ledger import open_ledger
    from .pipeline import read_master

    ledger = open_ledger(ledger_url)
    try:
        frame = history_frame(ledger, read_master(book_path).settings)
    finally:
        ledger.dispose()  # the file moves into the workspace next: no connection may hold it
    return write_csv(out / "history.csv", frame)


@command(short="One Word contract per contract.", example="""
salesbook contracts team/ --master SalesBook.xlsm --out out/contracts --pdf""")
@click.argument("team_dir", type=click.Path(path_type=Path))
@click.option("--master", "master", required=True, type=click.Path(path_type=Path), help=MASTER_HELP)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="output folder")
@click.option("--pdf", is_flag=True, help="also convert each contract to PDF with LibreOffice")
@click.option("--only", multiple=True, help="only this contract id (repeatable)")
@click.option("--template", type=click.Path(path_type=Path), help="a .docx template (default: the shipped one)")
def contracts(team_dir, master, out, pdf, only, template):
    """One Word contract per contract, and contracts.csv.

    A contract is only a draft (草稿 / DRAFT, saying why) unless legal and finance both approved it
    and its row has no error (an unauthorised discount, signed without a date, …); a terminated
    one is marked 已终止 / TERMINATED.
    """
    from .documents.env import WORD_TEMPLATE
    from .documents.from_run import write_contracts
    from .pipeline import all_rejected, read_master
    from .pipeline import validate as run_validate

    staged = check_out(out, team=[team_dir])
    template, master = check_template(template, WORD_TEMPLATE), check_master(master)
    if pdf:
        from .documents.contracts import pdf_converter

        pdf_converter()  # no LibreOffice: said before anything is read
    with progress_display() as p:
        m = read_master(master)
        run = run_validate([team_dir], master=m, progress=p)
        if all_rejected(run):
            raise Fail("No team file could be read; no contracts written.", EXIT_NOTHING)
        with staged as tmp:
            docs, notes = write_contracts(run, m.settings, tmp, template=template, pdf=pdf, only=list(only) or None,
                                          progress=p)
    marks = Counter(d.mark for d in docs)
    click.echo(f"Wrote {len(docs)} contracts to {out} and contracts.csv: {marks['final']} final, "
               f"{marks['draft']} drafts (not both reviews approved, or an error on the row), "
               f"{marks['terminated']} terminated")
    for n in notes:
        click.echo(f"  skipped {n}")
    no_pdf = [d for d in docs if pdf and d.pdf is None]
    if no_pdf:  # the .docx files and contracts.csv are there; exit 1 so a script sees the gap
        click.echo(f"No PDF for {len(no_pdf)} of {len(docs)} contracts (pdf_error in contracts.csv):")
        for d in no_pdf[:20]:
            click.echo(f"  {d.contract_id}: {d.pdf_error}")
        sys.exit(EXIT_FINDINGS)


def check_report_period(period: str | None, week: str | None) -> None:
    """--weekly takes only an ISO week (2026-W05); --period a month or a quarter, a week pointed to --weekly."""
    from .core.periods import parse_period
    from .payroll import is_week

    if week:
        check_period(week, "--weekly")
        if not is_week(parse_period(week)):
            raise Fail(f"--weekly {week!r} is not a week; give an ISO week such as 2026-W05 "
                       f"(for a monthly or quarterly report use --period {week}).")
    if period:
        check_period(period)
        if is_week(parse_period(period)):
            label = parse_period(period).label
            raise Fail(f"--period {period!r} is a week; for a weekly report use --weekly {label} "
                       "(--period takes a month such as 2026-11 or a quarter such as 2026-Q4).")


def _report(team_dir, master, period, week, out, template, ledger_url=None):
    from .closing import report_trends
    from .documents.env import HTML_TEMPLATE
    from .documents.from_run import write_reports
    from .pipeline import all_rejected
    from .pipeline import consolidate as run_consolidate

    if bool(period) == bool(week):
        raise Fail("Give exactly one of --period (e.g. 2026-11) or --weekly (e.g. 2026-W48).")
    check_report_period(period, week)
    staged = check_out(out, team=[team_dir])
    template, master = check_template(template, HTML_TEMPLATE), check_master(master)
    with progress_display() as p:
        c = run_consolidate(team_dir, master=master, period=period or week, progress=p)
        if all_rejected(c.run):
            raise Fail("No team file could be read; no reports written.", EXIT_NOTHING)
        with staged as tmp:
            paths = write_reports(c, tmp, template=template, progress=p, trends=report_trends(c, ledger_url))
    click.echo(f"Wrote {len(paths) - 1} HTML reports and {paths[-1].name} to {out}")


@command(short="Appraisal statements per rep (HTML, PDF).", example="""
salesbook statements team/ --master SalesBook.xlsm --period 2026-11 --out out/statements""")
@click.argument("team_dir", type=click.Path(path_type=Path))
@click.option("--master", "master", required=True, type=click.Path(path_type=Path), help=MASTER_HELP)
@click.option("--period", required=True, help="2026-11 or 2026-Q4")
@click.option("--as-of", "as_of", help="as-of date (default: the period's last day)")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="output folder")
@click.option("--no-pdf", "no_pdf", is_flag=True, help="write the HTML pages only")
@click.option("--template", type=click.Path(path_type=Path), help="an HTML Jinja template")
def statements(team_dir, master, period, as_of, out, no_pdf, template):
    """Appraisal statements (考核确认单): one page per rep, HTML and PDF, with signature lines."""
    from .documents.env import HTML_TEMPLATE
    from .documents.statements import write_statements
    from .payroll import STATEMENTS, check_statements, refuse_week
    from .pipeline import all_rejected
    from .pipeline import consolidate as run_consolidate

    staged = check_out(out, team=[team_dir])
    template, master = check_template(template, HTML_TEMPLATE), check_master(master)
    as_of_date = check_as_of(as_of)
    check_period(period)
    refuse_week(period, STATEMENTS)  # the guards of export-hr: statements are signed as the period's appraisal
    with progress_display() as p:
        c = run_consolidate(team_dir, master=master, period=period, as_of=as_of_date, progress=p)
        if all_rejected(c.run):
            raise Fail("No team file could be read; no statements written.", EXIT_NOTHING)
        check_statements(c)
        with staged as tmp:
            p.phase("writing statements")
            written = write_statements(c, c.run.master.settings, tmp, template=template, pdf=not no_pdf)
    written.out = staged.target  # the message names where they are now
    click.echo(written.message())


REPORT_EXAMPLE = """
salesbook report team/ --master SalesBook.xlsm --period 2026-11 --out out/reports
salesbook report team/ --master SalesBook.xlsm --weekly 2026-W48 --out out/week48"""


def _report_command(name: str, short: str):
    @command(name, short=short, example=REPORT_EXAMPLE.replace("salesbook report ", f"salesbook {name} "))
    @click.argument("team_dir", type=click.Path(path_type=Path))
    @click.option("--master", "master", required=True, type=click.Path(path_type=Path), help=MASTER_HELP)
    @click.option("--period", help="2026-11 or 2026-Q4 (monthly/quarterly report; a week goes in --weekly)")
    @click.option("--weekly", "week", help="an ISO week such as 2026-W05 (weekly report); only a week")
    @click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="output folder")
    @click.option("--template", type=click.Path(path_type=Path), help="an HTML Jinja template")
    @click.option("--ledger", "ledger_url", help=LEDGER_HELP + "; each rep's six-period trend comes from it")
    def report_cmd(team_dir, master, period, week, out, template, ledger_url):
        """Sales reports per rep and per team: HTML pages and report_<period>.xlsx (each rep's last six
        periods from the ledger)."""
        _report(team_dir, master, period, week, out, template, ledger_url)

    return report_cmd


report = _report_command("report", "Sales reports per rep and team.")
reports = _report_command("reports", "Same as report.")


if __name__ == "__main__":  # pragma: no cover
    main()
