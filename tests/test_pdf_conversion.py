"""`contracts --pdf`: contracts.csv first, each PDF on its own time limit, one failing PDF fails only its contract,
and no converter process outlives salesbook.

A stand-in `soffice` (a small Python script put first on PATH) converts, hangs or fails by file name and
starts a helper process of its own, so the orchestration is tested exactly; a last test runs the real
LibreOffice when it is installed.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_documents_contracts import ZH, make_context
from test_hostile_outputs import _workspace

from salesbook.cli import main
from salesbook.documents import contracts as contracts_module
from salesbook.documents.contracts import convert_to_pdf, render_contracts

FAKE_SOFFICE = r'''#!{python}
import os, subprocess, sys, time
from pathlib import Path
args = sys.argv[1:]
out = Path(args[args.index("--outdir") + 1])
files = [Path(a) for a in args if a.endswith(".docx")]
log = Path({log!r})
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
with log.open("a") as fh:
    fh.write(f"run pid={{os.getpid()}} helper={{helper.pid}} csv={{(out.parent / 'contracts.csv').exists()}} "
             f"files={{len(files)}}\n")
for f in files:
    if "HANG" in f.name:
        time.sleep(300)
    if "FAIL" in f.name:
        print(f"Error: source file could not be loaded: {{f.name}}", flush=True)
        continue
    (out / (f.stem + ".pdf")).write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
'''


@pytest.fixture
def fake_soffice(tmp_path, monkeypatch):
    """A stand-in soffice on PATH; returns its log (one line per run: pid, helper pid, whether contracts.csv existed)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "soffice.log"
    script = bin_dir / "soffice"
    script.write_text(FAKE_SOFFICE.format(python=sys.executable, log=str(log)))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(contracts_module, "PDF_TIMEOUT", 2.0)
    monkeypatch.setattr(contracts_module, "PDF_STARTUP", 5.0)
    return log


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _helpers(log: Path) -> list[int]:
    return [int(part.split("=")[1]) for line in log.read_text().splitlines() for part in line.split()
            if part.startswith("helper=")]


def _gone(pids: list[int], wait: float = 10.0) -> bool:
    end = time.monotonic() + wait
    while time.monotonic() < end:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and /proc: Linux")
def test_a_hanging_and_a_failing_pdf_fail_only_their_contracts(tmp_path, fake_soffice):
    """One PDF hangs, one fails: both are reported, the other contracts get PDFs, no converter process survives."""
    docs = render_contracts([make_context("HT-1"), make_context("HT-2", customer="HANG公司"),
                             make_context("HT-3", customer="FAIL公司"), make_context("HT-4")], tmp_path / "out",
                            template=ZH)
    results = convert_to_pdf([d.path for d in docs], tmp_path / "out")
    assert [r.pdf is not None for r in results] == [True, False, False, True]
    assert results[1].reason == "no PDF within 2 s"
    assert "could not be loaded" in results[2].reason
    assert all(r.pdf.read_bytes().startswith(b"%PDF") for r in results if r.pdf)
    assert _gone(_helpers(fake_soffice)), "a process started by the converter outlived the conversion"
    assert not list((tmp_path / "out").glob(".~sb-*"))


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and /proc: Linux")
def test_contracts_command_writes_the_index_first_and_exits_1_naming_the_failed_pdfs(tmp_path, fake_soffice):
    """`salesbook contracts --pdf`: contracts.csv exists before the first conversion; a failed PDF is in its row,
    in the message, and gives exit 1; the .docx files and the other PDFs are written."""
    book = _workspace(tmp_path, texts=["甲公司", "HANG公司", "乙公司"])
    out = tmp_path / "contracts"
    result = CliRunner().invoke(main, ["contracts", str(tmp_path / "team"), "--master", str(book), "--out", str(out),
                                       "--pdf"])
    assert result.exit_code == 1, result.output
    assert "No PDF for 1 of 3 contracts" in result.output and "K002: no PDF within 2 s" in result.output
    assert "csv=True" in fake_soffice.read_text().splitlines()[0]
    rows = list(csv.DictReader(io.StringIO((out / "contracts.csv").read_text(encoding="utf-8-sig"))))
    by_id = {r["contract"]: r for r in rows}
    assert by_id["K002"]["pdf"] == "" and by_id["K002"]["pdf_error"] == "no PDF within 2 s"
    assert by_id["K001"]["pdf"].endswith(".pdf") and (out / by_id["K001"]["pdf"]).exists()
    assert len(list(out.glob("*.docx"))) == 3
    assert _gone(_helpers(fake_soffice))


def test_no_libreoffice_is_said_before_anything_is_written(tmp_path, monkeypatch):
    """Without LibreOffice, `contracts --pdf` stops with exit 2 and the install hint, having written nothing."""
    book = _workspace(tmp_path, texts=["甲公司"])
    monkeypatch.setattr(contracts_module.shutil, "which", lambda name: None)
    out = tmp_path / "contracts"
    result = CliRunner().invoke(main, ["contracts", str(tmp_path / "team"), "--master", str(book), "--out", str(out),
                                       "--pdf"])
    assert result.exit_code == 2 and "apt-get install libreoffice-writer" in result.output
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.skipif(sys.platform != "linux", reason="/proc: Linux")
def test_real_libreoffice_slow_document_fails_alone_and_long_ids_convert(tmp_path):
    """With the real LibreOffice: a 300,000-character field runs past a 5 s limit and fails alone, the process
    group is gone afterwards, and a 300-character contract id still gives a PDF (its name capped at 200 bytes)."""
    docs = render_contracts([make_context("H" * 300), make_context("HT-2", payment_terms="长" * 300_000),
                             make_context("HT-3")], tmp_path / "out", template=ZH)
    assert all(len(d.path.name.encode()) <= 200 for d in docs)
    results = convert_to_pdf([d.path for d in docs], tmp_path / "out", timeout=5, startup=120)
    assert [r.pdf is not None for r in results] == [True, False, True], results
    assert results[1].reason == "no PDF within 5 s"
    text = subprocess.run(["pgrep", "-af", "soffice"], capture_output=True, text=True).stdout
    end = time.monotonic() + 10
    while str(tmp_path) in text and time.monotonic() < end:
        time.sleep(0.2)
        text = subprocess.run(["pgrep", "-af", "soffice"], capture_output=True, text=True).stdout
    assert str(tmp_path) not in text, text
