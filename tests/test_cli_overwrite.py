"""Commands that write one named file (template team, build-workbook, init) never replace a file without --force."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import write_master

from salesbook.cli import main

ROSTER = [["S001", "王芳", "E1001", "华东一组", "华东", "李强", "在职"]]


def _invoke(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _filled_master(path: Path) -> Path:
    """A master built by build-workbook with one roster row typed in, as a manager would."""
    assert _invoke("build-workbook", path)[0] == 0
    wb = openpyxl.load_workbook(path, keep_vba=True)
    wb["花名册"].append(ROSTER[0])
    wb.save(path)
    return path


@pytest.mark.parametrize("command", [["template", "team"], ["build-workbook"]], ids=["template-team", "build-workbook"])
def test_an_existing_file_is_refused_without_force_and_kept(tmp_path: Path, command: list[str]) -> None:
    """Without --force an existing OUT is refused with exit 2 naming it and --force, and stays byte for byte."""
    out = tmp_path / ("t.xlsx" if command[0] == "template" else "SalesBook.xlsm")
    if command[0] == "template":
        write_master(out, ROSTER, [])
    else:
        _filled_master(out)
    before = _sha(out)
    code, text = _invoke(*command, out)
    assert code == 2, text
    assert str(out) in text and "--force" in text and "already exists" in text
    assert _sha(out) == before
    assert not out.with_name(out.name + ".bak").exists()


@pytest.mark.parametrize("command", [["template", "team"], ["build-workbook"]], ids=["template-team", "build-workbook"])
def test_force_replaces_and_keeps_the_old_file_as_bak_with_its_permissions(tmp_path: Path, command: list[str]) -> None:
    """With --force the old file becomes OUT.bak (same bytes) and the new file keeps the old one's permissions."""
    out = tmp_path / ("t.xlsx" if command[0] == "template" else "SalesBook.xlsm")
    if command[0] == "template":
        write_master(out, ROSTER, [])
    else:
        _filled_master(out)
    os.chmod(out, 0o640)
    before = _sha(out)
    code, text = _invoke(*command, out, "--force")
    assert code == 0, text
    bak = out.with_name(out.name + ".bak")
    assert _sha(bak) == before
    assert _sha(out) != before
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert str(bak) in text


def test_build_workbook_force_gives_an_empty_master_and_the_bak_keeps_the_roster(tmp_path: Path) -> None:
    """build-workbook --force: the new master has an empty roster, the .bak the rows the manager had typed."""
    out = _filled_master(tmp_path / "SalesBook.xlsm")
    assert _invoke("build-workbook", out, "--force")[0] == 0
    assert openpyxl.load_workbook(out)["花名册"].max_row == 1
    kept = tmp_path / "kept.xlsm"  # openpyxl goes by the extension
    kept.write_bytes(out.with_name("SalesBook.xlsm.bak").read_bytes())
    bak = openpyxl.load_workbook(kept)["花名册"]
    assert [c.value for c in bak[2]][:2] == ROSTER[0][:2]


def test_force_never_follows_a_link_at_out(tmp_path: Path) -> None:
    """A link at OUT: refused without --force; with it the link is replaced, its target untouched, the link kept as .bak."""
    secret = tmp_path / "outside.txt"
    secret.write_text("keep")
    link = tmp_path / "t.xlsx"
    link.symlink_to(secret)
    assert _invoke("template", "team", link)[0] == 2
    assert link.is_symlink()
    assert _invoke("template", "team", link, "--force")[0] == 0
    assert secret.read_text() == "keep"
    assert link.is_file() and not link.is_symlink()
    bak = tmp_path / "t.xlsx.bak"
    assert bak.is_symlink() and os.readlink(bak) == str(secret)


def test_a_named_pipe_at_out_is_refused_even_with_force(tmp_path: Path) -> None:
    """A named pipe at OUT is never opened or replaced: exit 2 saying it is not a regular file."""
    fifo = tmp_path / "SalesBook.xlsm"
    os.mkfifo(fifo)
    code, text = _invoke("build-workbook", fifo, "--force")
    assert code == 2 and "not a regular file" in text
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_init_force_keeps_the_old_master_as_bak(tmp_path: Path) -> None:
    """init --force over a workspace keeps the filled SalesBook.xlsm as SalesBook.xlsm.bak."""
    ws = tmp_path / "ws"
    assert _invoke("init", ws)[0] == 0
    wb = openpyxl.load_workbook(ws / "SalesBook.xlsm", keep_vba=True)
    wb["花名册"].append(ROSTER[0])
    wb.save(ws / "SalesBook.xlsm")
    before = _sha(ws / "SalesBook.xlsm")
    assert _invoke("init", ws)[0] == 2
    code, text = _invoke("init", ws, "--force")
    assert code == 0, text
    assert _sha(ws / "SalesBook.xlsm.bak") == before
    assert openpyxl.load_workbook(ws / "SalesBook.xlsm")["花名册"].max_row == 1
