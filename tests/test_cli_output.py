"""What the commands print: quiet when the reader of the output goes away, messages that say what was
written where, and report periods that are what their option says."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cli_helpers import ROSTER, SALESBOOK, TARGETS, refused, sb, team_folder
from click.testing import CliRunner
from conftest import write_master

from salesbook.cli import main


@pytest.fixture
def office(tmp_path: Path) -> tuple[Path, Path]:
    return team_folder(tmp_path), write_master(tmp_path / "master.xlsx", ROSTER, TARGETS)


def _with_closed_stdout(*args: str) -> subprocess.CompletedProcess:
    """Run salesbook with stdout a pipe whose reader has already gone (as after `| head -1`)."""
    r, w = os.pipe()
    os.close(r)
    try:
        return subprocess.run([str(SALESBOOK), *args], stdout=w, stderr=subprocess.PIPE, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
    finally:
        os.close(w)


@pytest.mark.parametrize("command", ["validate", "consolidate"])
def test_a_closed_output_pipe_is_quiet_and_exits_141(office, tmp_path: Path, command: str) -> None:
    """`salesbook … | head -1`: no traceback or error message, exit 141 (128 + SIGPIPE), the outputs written in full."""
    team, master = office
    out = tmp_path / "out"
    args = [command, str(team), "--master", str(master), "--period", "2026-11", "--out", str(out)]
    done = _with_closed_stdout(*args)
    assert done.returncode == 141, done.stderr
    assert done.stderr.strip() == "", done.stderr
    assert (out / "files.csv").is_file() and (out / "findings.csv").is_file()


def test_statements_message_says_what_was_written_where(office, tmp_path: Path) -> None:
    """The success message names the folder, the HTML pages, whether PDFs were made, and statements.csv."""
    team, master = office
    out = tmp_path / "st"
    r = CliRunner().invoke(main, ["statements", str(team), "--master", str(master), "--period", "2026-11",
                                  "--out", str(out), "--no-pdf"])
    assert r.exit_code == 0, r.output
    pages = sorted(out.glob("*.html"))
    assert len(pages) == 2 and (out / "statements.csv").is_file()
    assert f"in {out}" in r.output
    assert "2 as HTML" in r.output and "statements.csv" in r.output and "no PDF (--no-pdf)" in r.output


def test_weekly_takes_only_a_week_and_period_points_a_week_to_weekly(office, tmp_path: Path) -> None:
    """report --weekly 2026-11 and report --period 2026-W05 are exit 2 before any work, each naming the right option."""
    team, master = office
    base = ["report", team, "--master", master, "--out", tmp_path / "r"]
    out = refused(sb(*base, "--weekly", "2026-11"), 2, "--weekly", "2026-W05", "--period 2026-11")
    assert "Files:" not in out
    out = refused(sb(*base, "--weekly", "2026-Q4"), 2, "is not a week")
    out = refused(sb(*base, "--period", "2026-W05"), 2, "is a week", "--weekly 2026-W05")
    assert "Files:" not in out
    assert not (tmp_path / "r").exists()
    r = CliRunner().invoke(main, [str(a) for a in [*base, "--weekly", "2026-W48"]])
    assert r.exit_code == 0, r.output


def test_a_broken_pipe_that_is_not_stdout_is_still_an_error(office, tmp_path: Path) -> None:
    """A broken pipe to something else (a converter, a worker) while stdout is fine is exit 2 with a message, not 141."""
    import sys

    team, master = office
    code = ("import salesbook.pipeline as p\n"
            "def broken(*a, **k):\n    raise BrokenPipeError(32, 'Broken pipe')\n"
            "p.validate = broken\n"
            "from salesbook.cli import main\n"
            f"main(['validate', {str(team)!r}, '--master', {str(master)!r}])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Broken pipe" in done.stderr and "Traceback" not in done.stderr
