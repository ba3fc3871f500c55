"""salesbook works from a wheel installed into a fresh virtual environment: what it ships is complete."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_init_from_an_installed_wheel(tmp_path: Path) -> None:
    """A wheel built from the checkout, installed in a new venv (dependencies from this one), runs `salesbook init`."""
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    [wheel] = dist.glob("salesbook-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in ("salesbook/_shipped/templates/contract_zh.docx", "salesbook/_shipped/templates/report.html.j2",
                    "salesbook/_shipped/templates/statement.html.j2",
                    "salesbook/_shipped/macros/SalesBook.bas", "salesbook/_shipped/workbook/layout.toml",
                    "salesbook/core/schemas.toml", "salesbook/ledger/migrations/env.py",
                    "salesbook/ledger/migrations/versions/0001_initial.py"):
        assert shipped in names
    venv = tmp_path / "venv"
    # --system-site-packages gives the new venv this environment's dependencies without a network;
    # salesbook itself comes only from the wheel (the editable install is not visible there).
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()) / "deps.pth").write_text(site + "\n")
    inst = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", "--force-reinstall", str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert inst.returncode == 0, inst.stdout + inst.stderr
    where = subprocess.run([str(py), "-c", "import salesbook; print(salesbook.__file__)"], capture_output=True,
                           text=True, check=True, cwd=tmp_path).stdout.strip()
    assert str(venv) in where, where
    ws = tmp_path / "ws"
    run = subprocess.run([str(venv / "bin" / "salesbook"), "init", str(ws)], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (ws / "SalesBook.xlsm").stat().st_size > 20_000
    assert sorted(p.name for p in (ws / "templates").iterdir()) == ["contract_en.docx", "contract_zh.docx",
                                                                     "report.html.j2", "statement.html.j2"]
    for sub in ("team", "out"):
        assert (ws / sub).is_dir()
    # The ledger's migrations run from the installed package: a first use creates salesbook.db.
    hist = subprocess.run([str(venv / "bin" / "salesbook"), "history", "--master", str(ws / "SalesBook.xlsm"),
                           "--out", str(ws / "out")], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={k: v for k, v in os.environ.items() if k != "SALESBOOK_LEDGER"})
    assert hist.returncode == 0, hist.stdout + hist.stderr
    assert (ws / "salesbook.db").stat().st_size > 0 and (ws / "out" / "history.csv").exists()
