"""Every mistake a new user makes gets a sentence and the right exit code from the installed `salesbook`.

Each test runs the installed command in a subprocess (as a user would) and checks the exit code,
that the message names the problem, and that no Python traceback is printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_helpers import ROSTER, TARGETS, refused, sb, team_folder
from conftest import write_master


@pytest.fixture
def ws(tmp_path: Path) -> tuple[Path, Path]:
    """(team folder, master workbook) of a small office."""
    return team_folder(tmp_path), write_master(tmp_path / "master.xlsx", ROSTER, TARGETS)


# ------------------------------------------------------------------ output paths


def test_an_existing_file_at_out_is_refused_before_any_work(ws, tmp_path):
    """consolidate/validate/export-hr/contracts/report --out FILE: exit 2 at once, naming the file; the file is kept."""
    team, master = ws
    afile = tmp_path / "afile"
    afile.write_text("mine")
    for args in (["consolidate", team, "--master", master, "--period", "2026-11"],
                 ["validate", team, "--master", master],
                 ["export-hr", team, "--master", master, "--period", "2026-11"],
                 ["contracts", team, "--master", master],
                 ["report", team, "--master", master, "--period", "2026-11"]):
        out = refused(sb(*args, "--out", afile), 2, f"--out {afile} is a file")
        assert "Files:" not in out, "the work was done before the output path was checked"
    assert afile.read_text() == "mine"


def test_an_out_folder_that_cannot_be_made_is_refused(ws, tmp_path):
    """--out /proc/nope and --out below a file: exit 2 naming the path, no traceback."""
    team, master = ws
    refused(sb("validate", team, "--master", master, "--out", "/proc/nope"), 2, "/proc/nope")
    (tmp_path / "afile").write_text("x")
    refused(sb("validate", team, "--out", tmp_path / "afile" / "sub"), 2, f"{tmp_path / 'afile'} is a file")


def test_an_os_error_while_writing_is_a_sentence(tmp_path):
    """A file the system refuses to create (/proc/x.xlsx) is exit 2 with the path, not a traceback."""
    refused(sb("template", "team", "/proc/nope.xlsx"), 2, "/proc/nope.xlsx")
    refused(sb("build-workbook", "/proc/nope.xlsm"), 2, "/proc/nope.xlsm")
    (tmp_path / "adir").mkdir()
    refused(sb("template", "team", tmp_path / "adir"), 2, "is a folder")


# ------------------------------------------------------------------ templates and the master


def test_a_template_that_is_not_one_is_refused(ws, tmp_path):
    """contracts --template: a text file, a renamed text .docx, a folder, a missing file; report --template binary."""
    team, master = ws
    text = tmp_path / "afile"
    text.write_text("hello")
    fake = tmp_path / "fake.docx"
    fake.write_text("not a zip")
    for template, needle in ((text, "must be a .docx file"), (fake, "not a .docx document"),
                             (tmp_path, "is a folder"), (tmp_path / "missing.docx", "does not exist")):
        out = refused(sb("contracts", team, "--master", master, "--out", tmp_path / "c", "--template", template), 2,
                      f"--template {template}", needle)
        assert "Files:" not in out
    binary = tmp_path / "r.html.j2"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    refused(sb("report", team, "--master", master, "--period", "2026-11", "--out", tmp_path / "r",
               "--template", binary), 2, f"--template {binary}", "binary file")
    assert not (tmp_path / "c").exists() and not (tmp_path / "r").exists()


def test_a_team_workbook_given_as_master_is_named_as_such(ws, tmp_path):
    """--master / --book pointing at a team workbook says it is a team workbook, not that team sheets are missing."""
    team, _master = ws
    teamfile = team / "t00.xlsx"
    for args in (["validate", team, "--master", teamfile],
                 ["consolidate", team, "--master", teamfile, "--period", "2026-11", "--out", tmp_path / "o"],
                 ["run", "validate", "--book", teamfile]):
        out = refused(sb(*args), 2, "t00.xlsx is a team workbook", "客户", "not the master")
        assert "no sheet of a team workbook" not in out


def test_a_master_that_is_missing_or_a_folder(ws, tmp_path):
    """--master that does not exist, or is a folder: exit 2 saying which."""
    team, _ = ws
    refused(sb("validate", team, "--master", tmp_path / "nope.xlsm"), 2, "nope.xlsm does not exist")
    refused(sb("validate", team, "--master", tmp_path), 2, "is a folder")
    refused(sb("run", "validate", "--book", tmp_path / "nope.xlsm"), 2, "nope.xlsm does not exist")


def test_an_empty_roster_is_a_master_error_not_thousands_of_findings(tmp_path):
    """A master whose 花名册 has no reps: exit 2 saying so, for the commands and the workbook action."""
    team = team_folder(tmp_path)
    empty = write_master(tmp_path / "empty.xlsx", [], TARGETS)
    for args in (["validate", team, "--master", empty, "--period", "2026-11"],
                 ["consolidate", team, "--master", empty, "--period", "2026-11", "--out", tmp_path / "o"]):
        out = refused(sb(*args), 2, "empty.xlsx [花名册 Roster] has no reps", "Fill in one row per rep")
        assert "unknown-reference" not in out
    ws_dir = tmp_path / "ws"
    refused(sb("init", ws_dir), 0)
    refused(sb("run", "validate", "--book", ws_dir / "SalesBook.xlsm"), 2, "has no reps")


def test_a_period_and_an_as_of_that_are_not_dates(ws, tmp_path):
    """--period 2026-13 and --as-of 30/11/2026 stop with exit 2 before anything is read."""
    team, master = ws
    out = refused(sb("consolidate", team, "--master", master, "--period", "2026-13", "--out", tmp_path / "o"), 2,
                  "2026-13")
    assert "Files:" not in out
    refused(sb("validate", team, "--as-of", "30/11/2026"), 2, "--as-of '30/11/2026' is not a date")


# ------------------------------------------------------------------ the last line of defence


def test_a_program_fault_is_a_short_message_and_a_log(ws, tmp_path):
    """An unexpected exception inside a command: exit 70, a message naming the log, the traceback only in the log."""
    team, master = ws
    script = textwrap.dedent(f"""
        import sys
        import salesbook.pipeline
        def boom(*a, **k):
            raise RuntimeError("simulated bug")
        salesbook.pipeline.validate = boom
        from salesbook.cli import main
        sys.argv = ["salesbook", "validate", {str(team)!r}]
        main()
    """)
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    out = refused(r, 70, "Internal error (RuntimeError: simulated bug)", "salesbook-error-")
    [log] = tmp_path.glob("salesbook-error-*.log")
    assert str(log) in out
    details = log.read_text(encoding="utf-8")
    assert "Traceback" in details and "simulated bug" in details and "salesbook validate" in details


# ------------------------------------------------------------------ help


def test_help_lists_every_command_uncut_with_exit_codes():
    """`salesbook --help` shows every command's short line in full (no "..."), and the exit codes."""
    from salesbook.cli import main

    r = sb("--help")
    out = refused(r, 0, "Exit codes:", "130  interrupted with Ctrl-C", "70   internal error")
    listing = out.split("Commands:", 1)[1].split("Exit codes:", 1)[0]
    assert "..." not in listing and "…" not in listing, listing
    lines = {line.split()[0]: " ".join(line.split()[1:]) for line in listing.strip().splitlines()}
    for name, cmd in main.commands.items():
        assert lines.get(name) == cmd.get_short_help_str(limit=1000), (name, lines.get(name))


def test_every_command_help_has_an_example_and_the_exit_codes():
    """Each command's --help has an Example with the command itself, and the exit codes."""
    from salesbook.cli import main

    names = []
    for name, cmd in main.commands.items():
        names += [[name, sub] for sub in cmd.commands] if hasattr(cmd, "commands") else [[name]]
    for words in names:
        out = refused(sb(*words, "--help"), 0, "Example:", "salesbook " + " ".join(words), "Exit codes:",
                      "2    usage, settings or file error")
        assert out.count("salesbook " + " ".join(words)) >= 1


def test_report_and_reports_are_one_command_and_one_action():
    """`report` and `reports` take the same options; `run report` is accepted like `run reports`."""
    from salesbook.actions import ALIASES, run_action  # noqa: F401 - the alias lives with the actions
    from salesbook.cli import main

    a, b = main.commands["report"], main.commands["reports"]
    assert [p.name for p in a.params] == [p.name for p in b.params]
    assert ALIASES["report"] == "reports"
    r = sb("run", "report", "--book", "/nonexistent/SalesBook.xlsm")
    refused(r, 2, "does not exist")  # the action name was accepted; the book was the problem


# ------------------------------------------------------------------ lock files


def test_a_lock_file_is_noted_in_the_summary_and_files_csv(ws, tmp_path):
    """~$t00.xlsx in the team folder: skipped, 'someone has t00.xlsx open' in the summary, files.csv and findings."""
    import csv

    team, master = ws
    (team / "~$t00.xlsx").write_bytes(b"\x06owner")
    r = sb("validate", team, "--master", master, "--period", "2026-11", "--out", tmp_path / "o")
    out = refused(r, 0, "skipped ~$t00.xlsx: lock file: someone has t00.xlsx open", "1 skipped")
    assert "2 accepted" in out
    files = list(csv.DictReader(open(tmp_path / "o" / "files.csv", encoding="utf-8-sig")))
    assert [(f["file"], f["status"]) for f in files] == [("t00.xlsx", "accepted"), ("t01.xlsx", "accepted"),
                                                         ("~$t00.xlsx", "skipped")]
    findings = list(csv.DictReader(open(tmp_path / "o" / "findings.csv", encoding="utf-8-sig")))
    [note] = [f for f in findings if f["code"] == "file-open-elsewhere"]
    assert note["file"] == "t00.xlsx" and note["severity"] == "info" and note["row"] == ""
    assert "Someone has t00.xlsx open" in note["message"]
