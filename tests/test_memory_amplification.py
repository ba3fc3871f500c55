"""One long string referenced by every cell cannot blow up memory or the outputs: shared strings over
the text limit are shortened before the parser copies them, each is a finding whose echo is short,
equal strings travel from the reader once, and the CSV writer streams. Memory is asserted, never time."""

from __future__ import annotations

import csv
import io
import os
import pickle
import subprocess
import sys
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_master

from salesbook.io import columns
from salesbook.io.pool import Job, run_jobs
from salesbook.io.precheck import Limits
from salesbook.io.team_reader import read_team_file
from salesbook.io.writers import CSV_BLOCK_ROWS, write_csv

HEADERS = ["客户编号", "客户名称", "联系人", "联系电话", "负责销售", "建档日期"]
LONG = ("Shanghai Example Trading Co. Ltd, 上海示例贸易有限公司 " * 1000)[:32_767]  # Excel's longest cell
GIB, MIB = 2**30, 2**20


def attack_file(path: Path, text: str = LONG, rows: int = 1500) -> Path:
    """A customers sheet whose every data cell refers to one shared string (XlsxWriter stores it once)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("客户")
    ws.write_row(0, 0, HEADERS)
    for i in range(1, rows + 1):
        for j in range(len(HEADERS)):
            ws.write_string(i, j, text)
    wb.close()
    return path


def _in_worker(path: Path, max_bytes: int):
    done = run_jobs([Job("f", read_team_file, (str(path), path.name, date(2000, 1, 1), None, Limits()))],
                    workers=1, timeout=120, max_bytes=max_bytes)
    return done["f"]


def test_the_attack_file_holds_the_string_once_and_is_small(tmp_path):
    """The generated file is what the issue describes: one 32,767-character shared string, 9,000 cells
    referring to it, under 60 KB on disk."""
    path = attack_file(tmp_path / "a.xlsx")
    with zipfile.ZipFile(path) as z:
        sst, sheet = z.read("xl/sharedStrings.xml"), z.read("xl/worksheets/sheet1.xml")
    assert path.stat().st_size < 60_000 and sst.count(b"<si>") == len(HEADERS) + 1 and len(sst) > len(LONG)
    assert sheet.count(b't="s"') == 9000 + len(HEADERS)


def test_a_shared_string_over_the_limit_is_a_short_finding_per_cell_in_a_small_worker(tmp_path):
    """Read in a worker allowed 320 MiB (the cells would need 600 MB as full copies), the file gives one
    `text-too-long` per cell, each echoing 50 characters, and a result of a few megabytes."""
    path = attack_file(tmp_path / "a.xlsx")
    status, res = _in_worker(path, 320 * MIB)
    assert status == "ok", str(res)[:300]
    long = [f for f in res.findings if f.code == "text-too-long"]
    assert len(long) == 9000 and {f.row for f in long} == set(range(2, 1502))
    assert max(len(f.value) for f in long) == 50 and max(len(f.message) for f in long) < 200
    assert len(pickle.dumps(res)) < 8 * MIB


def test_an_equal_string_under_the_limit_is_held_and_sent_once(tmp_path):
    """9,000 cells of one 3,999-character text are kept (no finding for their length) as one string
    object, so the result the worker sends is a small fraction of the 36 MB of text they spell."""
    text = LONG[:3999]
    status, res = _in_worker(attack_file(tmp_path / "a.xlsx", text), 512 * MIB)
    assert status == "ok" and not [f for f in res.findings if f.code == "text-too-long"]
    [table] = res.tables
    assert len(pickle.dumps(res)) < 6 * MIB  # the findings (cut to 200 characters) are most of it
    names = columns.dataset([table]).frames["customers"]["customer_name"].tolist()  # as the parent builds it
    assert len(names) == 1500 and len({id(v) for v in names}) == 1 and names[0] == text


# Its own peak from /proc/self/status (VmHWM, reset by exec): ru_maxrss of a process exec'ed from a
# fork of the test runner starts at the runner's size (Linux keeps the forked copy's high-water mark
# across exec), which after hundreds of tests is itself near a GiB.
_MEASURE = """
import resource, sys
from salesbook.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
try:
    own = next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
except (OSError, StopIteration):
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.stderr.write("PEAK %d %d\\n" % (own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def _peaks(args: list[str], cwd: Path) -> tuple[int, int, str]:
    """Run the CLI in a fresh process: (its own peak RSS, the largest child's, in bytes) and its output."""
    proc = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env={**os.environ, "PYTHONHASHSEED": "0"})
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("PEAK "))
    own, child = (int(x) * 1024 for x in line.split()[1:])
    return own, child, proc.stdout + proc.stderr


@pytest.mark.slow
def test_validate_and_consolidate_of_six_such_files_stay_under_a_gib(tmp_path, master):
    """Six 1,500-row files whose cells all refer to one 32,767-character string: validate --out and
    consolidate each peak under 1 GiB in the main process and in every reader, and findings.csv stays
    under 64 MiB (before, one such file took the main process to 5 GiB and a 560 MiB findings.csv)."""
    team = tmp_path / "team"
    team.mkdir()
    for k in range(6):
        attack_file(team / f"team_{k}.xlsx")
    assert sum(p.stat().st_size for p in team.iterdir()) < 600_000
    for args, out in ((["validate", str(team)], tmp_path / "v"),
                      (["consolidate", str(team), "--master", str(master), "--period", "2026-11"], tmp_path / "c")):
        own, child, output = _peaks([*args, "--out", str(out), "--workers", "2"], tmp_path)
        assert "Files: 6 accepted, 0 rejected" in output, output[-2000:]
        assert own < GIB and child < GIB, (args[0], own // MIB, child // MIB)
        assert (out / "findings.csv").stat().st_size < 64 * MIB
        with open(out / "findings.csv", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
        assert sum(r["code"] == "text-too-long" for r in rows) == 6 * 9000
        assert max(len(r["value"]) for r in rows) <= 200


def test_write_csv_streams_blocks_and_writes_what_excel_expects(tmp_path):
    """A frame whose CSV is ~25 MB is written holding a small part of it in memory at a time: the same
    bytes a one-piece writer gives (BOM, CRLF, neutralised formulas), across block boundaries."""
    n = max(CSV_BLOCK_ROWS * 3, 60_000) + 17  # several blocks, the last one short
    frame = pd.DataFrame({"name": [f"=HYPERLINK(\"x\",\"{i}\") 客户名称很长的一段文字" * 6 for i in range(n)],
                          "amount": [i * 1.5 for i in range(n)], "count": list(range(n))})
    tracemalloc.start()
    path = write_csv(tmp_path / "big.csv", frame)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    data = path.read_bytes()
    assert len(data) > 20 * MIB and peak < len(data) / 4, (len(data), peak)
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["name", "amount", "count"])
    for name, amount, count in zip(frame["name"], frame["amount"], frame["count"], strict=True):
        w.writerow(["'" + name, repr(amount), str(count)])
    assert data == b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


@pytest.fixture
def master(tmp_path: Path) -> Path:
    return write_master(tmp_path / "master.xlsx", roster=[["S001", "王芳", "E1001", "华东一组", "华东", "李强", "在职"]],
                        targets=[["S001", "2026-11", 100000, 10, 80000, 2, 20]])
