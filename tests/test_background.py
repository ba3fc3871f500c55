"""Work in forked children (io.background): results and errors come back, and the ledger's record of a
consolidation is made in a child while the outputs are written, and only once they are."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_scoring import build_example

from salesbook import closing, exports
from salesbook.cli import main
from salesbook.io.background import ChildFailed, forks, in_background
from salesbook.ledger import open_ledger

pytestmark = pytest.mark.skipif(not forks(), reason="fork is used on Linux only; elsewhere the work is done in process")


class Odd(Exception):
    """An exception whose class cannot be made again from its pickled arguments."""

    def __init__(self, a, b):
        super().__init__(f"{a}-{b}")


def test_a_child_returns_its_result_and_raises_its_exception_here():
    """The child's return value comes back; its exception is raised in the parent with its type and text."""
    assert in_background(lambda x: (os.getpid(), x * 2), 21)()[1] == 42
    assert in_background(os.getpid)() != os.getpid()

    def fails():
        raise ValueError("bad cell B7")

    with pytest.raises(ValueError, match="bad cell B7"):
        in_background(fails)()


def test_a_child_that_dies_or_raises_an_odd_exception_is_a_clear_failure():
    """A child killed by a signal, or whose exception cannot be sent back, is ChildFailed with a reason."""
    with pytest.raises(ChildFailed, match="ended unexpectedly"):
        in_background(lambda: os.kill(os.getpid(), signal.SIGKILL))()

    def odd():
        raise Odd(1, 2)

    with pytest.raises(ChildFailed, match="Odd"):
        in_background(odd)()


def test_a_writer_that_dies_is_an_os_error_naming_its_file(tmp_path: Path):
    """A forked output writer that is killed: OSError 'writing <path> failed', as for a writer's own error."""
    target = tmp_path / "consolidated.xlsx"
    with pytest.raises(OSError, match=f"writing {target} failed: the process ended unexpectedly"):
        exports._in_background(target, lambda: os.kill(os.getpid(), signal.SIGKILL))()


def test_the_ledger_record_is_made_in_a_child_process(tmp_path: Path, monkeypatch):
    """`salesbook consolidate`: the run's fingerprints and record are made in another process, and recorded."""
    team, master = build_example(tmp_path)
    seen = tmp_path / "pids.txt"
    real = closing.run_record

    def noted(c, *, kind):
        with open(seen, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(c, kind=kind)

    monkeypatch.setattr(closing, "run_record", noted)
    url = f"sqlite:///{tmp_path / 'l.db'}"
    r = CliRunner().invoke(main, ["consolidate", str(team), "--master", str(master), "--period", "2026-11",
                                  "--out", str(tmp_path / "out"), "--ledger", url])
    assert r.exit_code == 0, r.output
    assert "Recorded as run 1" in r.output
    pids = seen.read_text().split()
    assert len(pids) == 1 and int(pids[0]) != os.getpid()
    lg = open_ledger(url)
    assert lg.count_runs() == 1 and len(lg.source_rows(1)) > 0
    lg.dispose()


def test_a_run_whose_outputs_fail_is_not_recorded(tmp_path: Path, monkeypatch):
    """A writer failing (disk full) after the record was started: a clear error, no output, no run in the
    ledger, which is not left locked: the next consolidation records run 1."""
    team, master = build_example(tmp_path)

    def full(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exports, "write_xlsx", full)
    url = f"sqlite:///{tmp_path / 'l.db'}"
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["consolidate", str(team), "--master", str(master), "--period", "2026-11",
                                  "--out", str(out), "--ledger", url])
    assert r.exit_code != 0 and "No space left on device" in r.output, r.output
    assert "Traceback" not in r.output
    assert not out.exists()
    lg = open_ledger(url)
    assert lg.count_runs() == 0
    lg.dispose()
    monkeypatch.undo()
    r = CliRunner().invoke(main, ["consolidate", str(team), "--master", str(master), "--period", "2026-11",
                                  "--out", str(out), "--ledger", url])
    assert r.exit_code == 0 and "Recorded as run 1" in r.output, r.output
    lg = open_ledger(url)
    assert lg.count_runs() == 1 and len(lg.source_rows(1)) > 0
    lg.dispose()


def test_the_parquet_made_while_scoring_is_the_parquet_made_after(tmp_path: Path, monkeypatch):
    """consolidate(outputs=True): consolidated.parquet is made in another process during grading and
    scoring, from the rows' validity before the frames are marked, with the same bytes as one written
    afterwards from the marked rows; its failure names the file."""
    from salesbook.pipeline import consolidate

    team, master = build_example(tmp_path)
    made_in = tmp_path / "pid.txt"
    real = exports.parquet_bytes

    def noted(ds, marks=None):
        made_in.write_text(str(os.getpid()))
        return real(ds, marks)

    monkeypatch.setattr(exports, "parquet_bytes", noted)
    c = consolidate(team, master=master, period="2026-11", outputs=True)
    early = exports.write_parquet(tmp_path / "early.parquet", c.run.dataset, made=c.parquet)
    assert int(made_in.read_text()) != os.getpid()
    late = exports.write_parquet(tmp_path / "late.parquet", c.run.dataset)
    assert early.read_bytes() == late.read_bytes() and len(early.read_bytes()) > 1000

    def broken(_ds, _marks=None):
        raise MemoryError("parquet")

    monkeypatch.setattr(exports, "parquet_bytes", broken)
    c = consolidate(team, master=master, period="2026-11", outputs=True)
    with pytest.raises(OSError, match="writing consolidated.parquet failed: MemoryError"):
        exports.write_consolidation(c, tmp_path / "out")


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("how", ["cli", "book"])
def test_the_writers_fork_without_the_team_rows_and_write_the_same_outputs(tmp_path: Path, monkeypatch, how):
    """Once the ledger's record is made in its own process the team rows are dropped here, before the writers
    fork (each starts that much smaller): every output is byte for byte what a run keeping the rows writes."""
    import openpyxl

    from salesbook.cli import init_workspace
    from salesbook.core.settings import default_rows
    from salesbook.pipeline import Consolidation

    team, master = build_example(tmp_path)
    if how == "book":
        wb = openpyxl.load_workbook(master)
        rows = {s: [list(r) for r in wb[s].iter_rows(min_row=2, values_only=True)] for s in ("花名册", "目标")}
        root = tmp_path / "ws"
        book = init_workspace(root, roster_rows=rows["花名册"], targets_rows=rows["目标"],
                              settings_rows=[(k, "2026-11" if k == "period" else v, n) for k, v, n in default_rows()])
        shutil.copytree(team, root / "team", dirs_exist_ok=True)
    dropped: list[int] = []
    real = Consolidation.drop_rows

    def noted(c):
        dropped.append(len(c.run.dataset.frames))
        real(c)
        assert not c.run.dataset.frames and not c.run.dataset.columnar

    written = {}
    for keep in (False, True):
        monkeypatch.setattr(Consolidation, "drop_rows", (lambda c: None) if keep else noted)
        if how == "cli":
            out = tmp_path / f"out-{keep}"
            args = ["consolidate", str(team), "--master", str(master), "--period", "2026-11", "--out", str(out),
                    "--ledger", f"sqlite:///{tmp_path / f'l-{keep}.db'}"]
        else:
            out = root / "out"
            shutil.rmtree(out, ignore_errors=True)
            (root / "salesbook.db").unlink(missing_ok=True)
            args = ["run", "consolidate", "--book", str(book)]
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0 and "run 1" in r.output, r.output
        written[keep] = _files(out)
    assert dropped and dropped[0] > 0, "the rows were not dropped before the writers forked"
    assert sorted(written[False]) == sorted(written[True]) and len(written[False]) >= 9
    for name, data in written[True].items():
        assert written[False][name] == data, f"{name} differs when the rows are dropped"
