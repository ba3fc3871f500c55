"""The master workbook as a manager sees it: after `salesbook demo` ran every action, LibreOffice renders
its sheets to PDF (and pdftoppm to PNG); every page has ink, every output sheet prints in landscape with
its Chinese/English headers, the hidden xlwings.conf does not print, and nothing shows as ###.

Set SALESBOOK_RENDER_DIR to keep the PNGs for a look.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from salesbook.cli import main

pytestmark = pytest.mark.libreoffice
NEEDED = ("soffice", "pdftoppm", "pdftotext")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """(pages as PGM paths, the text of each page) of the demo master workbook rendered by LibreOffice."""
    missing = [p for p in NEEDED if shutil.which(p) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (scripts/install-system-deps.sh installs them)")
    root = tmp_path_factory.mktemp("render")
    assert CliRunner().invoke(main, ["demo", str(root / "ws")]).exit_code == 0
    book = root / "ws" / "SalesBook.xlsm"
    profile = root / "profile"
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(root), str(book)],
                   capture_output=True, timeout=300, check=True)
    pdf = root / "SalesBook.pdf"
    assert pdf.exists() and pdf.stat().st_size > 10_000
    subprocess.run(["pdftoppm", "-gray", "-r", "30", str(pdf), str(root / "page")], check=True, timeout=300)
    pages = sorted(root.glob("page-*.pgm"))
    texts = [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                            text=True, check=True).stdout for i in range(1, len(pages) + 1)]
    keep = os.environ.get("SALESBOOK_RENDER_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(Path(keep) / "page")], check=True, timeout=300)
    return pages, texts


def _pgm(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    parts = data.split(maxsplit=4)  # P5 width height maxval pixels
    assert parts[0] == b"P5"
    return int(parts[1]), int(parts[2]), parts[4]


def test_every_page_has_ink(rendered):
    """No page of the rendered workbook is blank."""
    pages, _ = rendered
    assert len(pages) > 10
    for page in pages:
        width, height, pixels = _pgm(page)
        dark = sum(1 for p in pixels if p < 200)
        assert dark > 0.002 * width * height, page.name


def test_each_sheet_prints_with_its_headers_and_in_landscape(rendered):
    """The start sheet, settings, every output sheet and the dashboard are in the print, output sheets in
    landscape with Chinese over English headers; xlwings.conf (hidden) is not printed; no ### anywhere."""
    pages, texts = rendered
    expect = {"开始": "第一次使用 Getting started", "设置": "weight.revenue", "校验结果": "Severity",
              "文件状态": "SHA-256", "客户分级": "Cadence", "商机评估": "Weighted",
              "考核表": "Coefficient", "依据": "KPI", "仪表板": "仪表板 Dashboard"}
    for sheet, needle in expect.items():
        found = [i for i, t in enumerate(texts) if needle in t]
        assert found, f"{sheet}: {needle!r} is on no page"
        if sheet not in ("开始", "仪表板"):
            width, height, _ = _pgm(pages[found[0]])
            assert width > height, f"{sheet} prints in portrait"
    everything = "\n".join(texts)
    assert "Interpreter" not in everything and "ADD_WORKBOOK_TO_PYTHONPATH" not in everything
    assert "###" not in everything
    assert "得分\nScore" in everything or "得分 Score" in everything or ("得分" in everything and "Score" in everything)
