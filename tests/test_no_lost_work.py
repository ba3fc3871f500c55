"""No command destroys a user's work: Ctrl-C, the demo over a workspace, and the master's permissions.

The interrupt and demo tests run the installed `salesbook` in a subprocess, as a user would.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import signal
import stat
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest
from cli_helpers import ROSTER, SALESBOOK, TARGETS, digests, refused, sb, settings_rows, team_folder
from conftest import write_master

from salesbook.io.staging import OutputFolder, deferred_interrupt, keep_mode_and_owner


def _workspace(root: Path, *, team_files: int = 2, workers: int = 2) -> Path:
    """A workspace (SalesBook.xlsm with roster, targets and period 2026-11) and a team folder."""
    from salesbook.cli import init_workspace

    settings = settings_rows(period="2026-11", **{"reader.workers": str(workers)})
    book = init_workspace(root, roster_rows=ROSTER, targets_rows=TARGETS, settings_rows=settings)
    shutil.rmtree(root / "team")
    team_folder(root, files=team_files)
    return book


def _many_files(team: Path, n: int) -> None:
    """Copies of the first team workbook until the folder holds `n` (reading them takes a few seconds)."""
    first = sorted(team.glob("*.xlsx"))[0]
    for i in range(len(list(team.glob("*.xlsx"))), n):
        shutil.copyfile(first, team / f"copy{i:03d}.xlsx")


def _interrupt_while_reading(args: list, cwd: Path, total: int) -> tuple[int, str]:
    """Run salesbook with stderr on a terminal, press Ctrl-C (SIGINT to its process group) once the
    progress bar shows a few files read; returns (exit code, everything it printed)."""
    master_fd, slave_fd = pty.openpty()
    fcntl.ioctl(slave_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a terminal window
    proc = subprocess.Popen([str(SALESBOOK), *map(str, args)], stdin=subprocess.DEVNULL, stdout=slave_fd,
                            stderr=slave_fd, cwd=cwd, start_new_session=True)
    os.close(slave_fd)
    seen, sent = b"", False
    pattern = re.compile(rb"reading team files:.*?\b([3-9]|\d\d+)/" + str(total).encode())
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master_fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master_fd, 65536)
            except OSError:  # the terminal closed: the process is gone
                break
            if not chunk:
                break
            seen += chunk
        if not sent and pattern.search(seen):
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
            sent = True
        if proc.poll() is not None and not ready:
            break
    os.close(master_fd)
    code = proc.wait(timeout=60)
    assert sent, "the progress bar never showed the reading phase:\n" + seen.decode("utf-8", "replace")
    return code, seen.decode("utf-8", "replace")


@pytest.mark.slow
def test_ctrl_c_while_reading_exits_130_and_leaves_no_partial_output(tmp_path):
    """consolidate interrupted mid-read: exit 130, a line saying --out was left unchanged, no output set at all."""
    team = team_folder(tmp_path)
    _many_files(team, 160)
    master = write_master(tmp_path / "master.xlsx", ROSTER, TARGETS)
    out = tmp_path / "out"
    code, printed = _interrupt_while_reading(
        ["consolidate", team, "--master", master, "--period", "2026-11", "--out", out, "--workers", "1"],
        tmp_path, 160)
    assert code == 130, printed
    assert "Interrupted (Ctrl-C)" in printed and f"{out}: nothing was written" in printed, printed
    assert "Traceback" not in printed and "Aborted!" not in printed
    assert not out.exists(), "an interrupted consolidation left an output folder"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folder left


@pytest.mark.slow
def test_ctrl_c_in_the_workbook_action_leaves_workbook_and_outputs_as_they_were(tmp_path):
    """`run consolidate` interrupted while reading: exit 130, SalesBook.xlsm and out/ unchanged, no .bak made."""
    book = _workspace(tmp_path / "ws", workers=1)
    _many_files(tmp_path / "ws" / "team", 160)
    (tmp_path / "ws" / "out" / "consolidation").mkdir(parents=True)
    (tmp_path / "ws" / "out" / "consolidation" / "scorecards.csv").write_text("last month's, keep me")
    before = digests(tmp_path / "ws")
    code, printed = _interrupt_while_reading(["run", "consolidate", "--book", book], tmp_path, 160)
    assert code == 130, printed
    assert "SalesBook.xlsm is unchanged" in printed and "nothing was written" in printed, printed
    assert "Traceback" not in printed
    assert digests(tmp_path / "ws") == before
    assert not (tmp_path / "ws" / "SalesBook.xlsm.bak").exists()


def test_an_interrupted_or_failed_output_set_leaves_the_folder_as_it_was(tmp_path):
    """KeyboardInterrupt or an error inside OutputFolder: old files kept, no new file, no temporary folder, a note."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.csv").write_text("old")
    for exc in (KeyboardInterrupt(), OSError(28, "No space left on device")):
        with pytest.raises(type(exc)) as caught, OutputFolder(out) as tmp:
            (tmp / "new.csv").write_text("new")
            (tmp / "old.csv").write_text("half")
            raise exc
        assert f"{out}: nothing was written; what was there is unchanged." in caught.value.__notes__
        assert sorted(p.name for p in out.iterdir()) == ["old.csv"] and (out / "old.csv").read_text() == "old"
    with pytest.raises(KeyboardInterrupt), OutputFolder(tmp_path / "fresh") as tmp:
        (tmp / "a.csv").write_text("a")
        raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_finished_output_set_replaces_namesakes_only_and_never_writes_through_a_link(tmp_path):
    """Committing into an existing folder replaces the files of the set, keeps the user's others, replaces a
    symbolic link instead of writing to its target; a new folder is renamed into place."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "scorecards.csv").write_text("old")
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch")
    (out / "findings.csv").symlink_to(victim)
    with OutputFolder(out) as tmp:
        for name in ("scorecards.csv", "findings.csv"):
            (tmp / name).write_text("new " + name)
        (tmp / "sub").mkdir()
        (tmp / "sub" / "x.csv").write_text("x")
    assert (out / "notes.txt").read_text() == "mine" and (out / "scorecards.csv").read_text() == "new scorecards.csv"
    assert not (out / "findings.csv").is_symlink() and victim.read_text() == "do not touch"
    assert (out / "sub" / "x.csv").read_text() == "x"
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", "notes.txt", "scorecards.csv", "sub"]
    with OutputFolder(tmp_path / "a" / "b") as tmp:
        (tmp / "f.csv").write_text("f")
    assert (tmp_path / "a" / "b" / "f.csv").read_text() == "f"
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) & 0o755 == 0o755  # not mkdtemp's 0700


def test_ctrl_c_during_the_final_move_waits_for_it(tmp_path):
    """A SIGINT inside deferred_interrupt takes effect after the block, with a note that the work is complete."""
    done = []
    with pytest.raises(KeyboardInterrupt) as caught, deferred_interrupt("out/"):
        os.kill(os.getpid(), signal.SIGINT)
        done.append("still ran")
    assert done == ["still ran"]
    assert caught.value.__notes__ == ["out/ had been written in full before stopping."]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ------------------------------------------------------------------ demo


def test_demo_over_an_existing_workspace_refuses_and_changes_nothing(tmp_path):
    """demo DIR and demo --force DIR on a user's workspace: exit 2 naming the problem; every file's hash unchanged."""
    ws = tmp_path / "office"
    refused(sb("init", ws), 0)
    team_folder(ws)
    (ws / "SalesBook.xlsm.bak").write_bytes(b"the user's own backup")
    (ws / "out" / "report.txt").write_text("mine")
    before = digests(ws)
    refused(sb("demo", ws), 2, f"{ws} already holds a workspace", "--force", "Nothing was changed")
    assert digests(ws) == before
    refused(sb("demo", "--force", ws), 2, "SalesBook.xlsm, SalesBook.xlsm.bak", "never replaces your files")
    assert digests(ws) == before
    assert sorted(p.name for p in ws.iterdir()) == ["SalesBook.xlsm", "SalesBook.xlsm.bak", "out", "team",
                                                    "templates"]
    (tmp_path / "afile").write_text("x")
    refused(sb("demo", tmp_path / "afile"), 2, "is a file")


def test_demo_force_replaces_only_its_own_files(tmp_path):
    """A second `demo --force` over a demo keeps a file the user added and removes only the demo's stale outputs."""
    from salesbook.workspace import (
        WorkspaceRefused,
        check_demo_target,
        check_no_conflict,
        demo_files,
        remove_stale,
        write_manifest,
    )

    old, ws = tmp_path / "old", tmp_path / "ws"
    for root in (old, ws):
        (root / "team").mkdir(parents=True)
        (root / "team" / "team_east.xlsx").write_text("demo data " + root.name)
        (root / "stale.csv").write_text("an earlier demo's output")
    write_manifest(ws, ["team/team_east.xlsx", "stale.csv"])
    (ws / "team" / "mine.xlsx").write_text("the user's")
    ours = check_demo_target(ws, force=True)
    assert ours == {"team/team_east.xlsx", "stale.csv"} == demo_files(ws)
    (old / "stale.csv").unlink()
    files = check_no_conflict(old, ws, ours)
    assert files == ["team/team_east.xlsx"]
    (ws / "team" / "mine.xlsx").rename(ws / "team" / "kept.xlsx")
    with pytest.raises(WorkspaceRefused, match="never replaces your files"):
        check_no_conflict(old, ws, set())
    remove_stale(ws, ours, files)
    assert sorted(p.relative_to(ws).as_posix() for p in ws.rglob("*") if p.is_file()) == [
        ".salesbook-demo.json", "team/kept.xlsx", "team/team_east.xlsx"]


# ------------------------------------------------------------------ the master's permissions and owner


@pytest.mark.slow
def test_the_master_keeps_its_permissions_and_owner_through_every_action(tmp_path):
    """SalesBook.xlsm 0664 (owned by another user where we may chown) stays 0664 with its owner after each action."""
    book = _workspace(tmp_path / "ws")
    os.chmod(book, 0o664)
    owner = (os.getuid(), os.getgid())
    if os.geteuid() == 0:  # root can give the workbook to a colleague, as on a shared folder
        owner = (4321, 4321)
        os.chown(book, *owner)
    for action in ("validate", "consolidate", "contracts", "reports", "report", "export-hr"):
        before = book.stat().st_mtime_ns
        refused(sb("run", action, "--book", book), 0)
        st = book.stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o664, *owner), action
        if action not in ("contracts", "reports", "report"):  # those write no sheets, so do not save
            assert st.st_mtime_ns != before, f"{action} did not save the workbook"
            bak = book.with_name("SalesBook.xlsm.bak").stat()
            assert (stat.S_IMODE(bak.st_mode), bak.st_uid, bak.st_gid) == (0o664, *owner), action
    outputs = [p for p in (tmp_path / "ws" / "out").rglob("*") if p.is_file()]
    assert outputs and all(stat.S_IMODE(p.stat().st_mode) & 0o044 == 0o044 for p in outputs)  # not 0600


def test_keep_mode_and_owner_copies_both(tmp_path):
    """The replacement gets the original's mode, and its owner and group when the process may set them."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("a")
    b.write_text("b")
    os.chmod(a, 0o640)
    if os.geteuid() == 0:
        os.chown(a, 1234, 5678)
    keep_mode_and_owner(a, b)
    sa, sb_ = a.stat(), b.stat()
    assert stat.S_IMODE(sb_.st_mode) == 0o640 and (sb_.st_uid, sb_.st_gid) == (sa.st_uid, sa.st_gid)
