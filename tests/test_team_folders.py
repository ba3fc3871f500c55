"""The team folder and the output folder: links never lead the reader out of the team folder, an
output folder inside the team folder is refused, and settings that lead out of the workbook's folder
are named in a warning. From the library, the CLI and the workbook action."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import realworld as rw
from click.testing import CliRunner

from salesbook.cli import main
from salesbook.pipeline import consolidate, validate

SECRET = "SALARY-88888.88"
pytestmark = pytest.mark.skipif(sys.platform.startswith("win"), reason="symbolic links need privileges on Windows")


def _outside_csv(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "客户.csv"
    path.write_text(",".join(rw.HEADERS) + f"\nC777,{SECRET},王五,13712345678,S001,2026-11-03\n", encoding="utf-8")
    return path


@pytest.fixture
def team(tmp_path) -> Path:
    folder = tmp_path / "team"
    folder.mkdir()
    rw.customers_xlsx(folder / "a.xlsx")
    return folder


def test_a_link_to_a_file_outside_the_team_folder_is_listed_as_rejected_not_followed(team, tmp_path, master):
    """客户.csv linking to a CSV elsewhere is rejected naming its target; its figures reach no finding,
    frame or output (before, an outside CSV's salary figures ended up in findings.csv and the parquet)."""
    outside = _outside_csv(tmp_path / "hr")
    os.symlink(outside, team / "客户.csv")
    os.symlink(tmp_path / "gone.xlsx", team / "broken.xlsx")
    c = consolidate(team, master=master, period="2026-11")
    files = {f.label: f for f in c.run.files}
    assert files["客户.csv"].status == "rejected" and str(outside) in files["客户.csv"].reason
    assert "outside the team folder" in files["客户.csv"].reason
    assert files["broken.xlsx"].status == "rejected" and "does not exist" in files["broken.xlsx"].reason
    assert [f.code for f in c.run.findings if f.file == "客户.csv"] == ["file-unsupported"]
    assert set(c.run.dataset.frames["customers"]["customer_id"]) == {"C001", "C002"}
    out = tmp_path / "out"
    from salesbook.exports import write_consolidation

    for path in write_consolidation(c, out):
        assert SECRET.encode() not in path.read_bytes(), path.name


def test_a_linked_folder_outside_is_listed_and_a_link_inside_is_read_once(team, tmp_path):
    """A linked folder leading out of the team folder is a rejected entry; a link to a workbook inside
    it is not read a second time, and a link to a hidden one is read under the link's name."""
    _outside_csv(tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", team / "shared")
    os.symlink(team / "a.xlsx", team / "latest.xlsx")
    rw.xlsx(team / ".draft.xlsx", {"Customers": [rw.HEADERS, ["C009", "丙公司", "赵六", "13612345678", "S001",
                                                               "2026-11-04"]]})
    os.symlink(team / ".draft.xlsx", team / "draft.xlsx")
    run = validate([team], workers=2)
    files = {f.label: f for f in run.files}
    assert sorted(files) == ["a.xlsx", "draft.xlsx", "shared"]
    assert files["shared"].status == "rejected" and "outside the team folder" in files["shared"].reason
    assert files["draft.xlsx"].status == "accepted" and files["draft.xlsx"].rows == 1
    assert not [f for f in run.findings if f.code == "duplicate-key"]


def test_an_output_folder_inside_the_team_folder_is_refused_by_the_cli(team, master):
    """--out inside the team folder stops validate, consolidate and export-hr with exit 2 and a message,
    before anything is read or written."""
    for args in (["validate", team], ["consolidate", team, "--master", master, "--period", "2026-11"],
                 ["export-hr", team, "--master", master, "--period", "2026-11"]):
        result = CliRunner().invoke(main, [*map(str, args), "--out", str(team / "out")])
        assert result.exit_code == 2, (args[0], result.output)
        assert "inside the team folder" in result.output and "Traceback" not in result.output
    assert not (team / "out").exists()


def _workspace(root: Path, **settings: str) -> Path:
    from salesbook.cli import init_workspace
    from salesbook.core.settings import default_rows

    values = {"period": "2026-11", **settings}
    book = init_workspace(root, roster_rows=[["S001", "王芳", "E1001", "华东一组", "华东", "李强", "在职"]],
                          targets_rows=[["S001", "2026-11", 100000, 10, 80000, 2, 20]],
                          settings_rows=[(k, values.get(k, v), n) for k, v, n in default_rows()])
    rw.customers_xlsx(root / "team" / "a.xlsx")
    return book


def test_the_action_refuses_an_output_folder_inside_the_team_folder(tmp_path):
    """With output_folder team/out, `salesbook run consolidate` exits 2 saying why; nothing is written there."""
    book = _workspace(tmp_path / "ws", output_folder="team/out")
    result = CliRunner().invoke(main, ["run", "consolidate", "--book", str(book)])
    assert result.exit_code == 2, result.output
    assert "inside the team folder" in result.output and "输出文件夹" in result.output
    assert not (tmp_path / "ws" / "team" / "out").exists()


def test_folders_outside_the_workbooks_folder_are_named_in_a_warning(tmp_path):
    """team_folder and output_folder leading out of the workbook's folder work, and the action's message
    names each path in a warning; folders inside it give none."""
    shared = tmp_path / "shared"
    (shared / "team").mkdir(parents=True)
    rw.customers_xlsx(shared / "team" / "b.xlsx")
    book = _workspace(tmp_path / "ws", team_folder=str(shared / "team"), output_folder="../elsewhere")
    result = CliRunner().invoke(main, ["run", "consolidate", "--book", str(book)])
    assert result.exit_code == 0, result.output
    assert f"team_folder leads outside the workbook's folder, to {(shared / 'team').resolve()}" in result.output
    assert f"output_folder leads outside the workbook's folder, to {(tmp_path / 'elsewhere').resolve()}" in result.output
    assert (tmp_path / "elsewhere" / "consolidation" / "scorecards.csv").exists()
    plain = _workspace(tmp_path / "ws2")
    result = CliRunner().invoke(main, ["run", "validate", "--book", str(plain)])
    assert result.exit_code == 0 and "leads outside" not in result.output, result.output


def _with_timeout(fn, seconds: float = 120):
    """Run `fn` in a thread; a hang (the bug: a named pipe opened for reading) fails the test instead of blocking it."""
    import threading

    done: dict = {}
    worker = threading.Thread(target=lambda: done.setdefault("value", fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert "value" in done, f"still running after {seconds} s: a named pipe was opened"
    return done["value"]


def _release(fifo: Path) -> None:
    """Unblock a reader stuck on `fifo` (only reached when the bug is back), so the test process can end."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_in_the_team_folder_is_rejected_never_opened(team, tmp_path):
    """A FIFO (and a link to one) in the team folder is listed as rejected, 'not a regular file', and the
    others are read: validate does not hang waiting for a writer."""
    fifo = team / "pipe.xlsx"
    os.mkfifo(fifo)
    os.symlink(fifo, team / "pipe-link.xlsx")
    try:
        run = _with_timeout(lambda: validate([team], workers=1))
    finally:
        _release(fifo)
    files = {f.label: f for f in run.files}
    assert files["a.xlsx"].status == "accepted"
    for name in ("pipe.xlsx", "pipe-link.xlsx"):
        assert files[name].status == "rejected" and "not a regular file" in files[name].reason, files[name]
    assert [f.code for f in run.findings if f.file == "pipe.xlsx"] == ["file-unsupported"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_given_as_a_file_or_master_is_refused_with_a_message(team, tmp_path):
    """`validate PIPE` exits 3 with PIPE rejected in files.csv; `--master PIPE` exits 2 naming it; neither hangs."""
    import csv

    fifo = tmp_path / "given.xlsx"
    os.mkfifo(fifo)
    runner = CliRunner()
    try:
        r = _with_timeout(lambda: runner.invoke(main, ["validate", str(fifo), "--out", str(tmp_path / "v")]))
        m = _with_timeout(lambda: runner.invoke(main, ["validate", str(team), "--master", str(fifo)]))
    finally:
        _release(fifo)
    assert r.exit_code == 3, r.output
    with open(tmp_path / "v" / "files.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["status"] == "rejected" and "not a regular file" in rows[0]["reason"]
    assert m.exit_code == 2 and "not a regular file" in m.output and str(fifo) in m.output, m.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_the_reader_refuses_a_named_pipe_that_replaced_a_listed_file(tmp_path):
    """A pipe put in place of a file after the folder was listed is opened non-blocking and rejected at once."""
    from salesbook.io.precheck import Limits
    from salesbook.io.team_reader import read_team_file

    fifo = tmp_path / "late.xlsx"
    os.mkfifo(fifo)
    try:
        res = _with_timeout(lambda: read_team_file(str(fifo), "late.xlsx", None, None, Limits()), 60)
    finally:
        _release(fifo)
    assert res.status == "rejected" and "not a regular file" in res.reason
