"""The benchmark runs end to end in its quick form and reports every figure and ratio (no timings checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIGURES = [
    "consolidate",
    "floor",
    "common",
    "consolidate_cli",
    "book",
    "consolidate_busy",
    "floor_busy",
    "common_busy",
    "consolidate_cli_busy",
    "book_busy",
    "validate",
    "read_calamine",
    "contracts",
    "docxtpl",
]
RATIOS = [
    "consolidate_vs_floor",
    "common_vs_consolidate",
    "validate_vs_read_calamine",
    "docxtpl_vs_contracts",
    "consolidate_vs_floor_busy",
    "common_vs_consolidate_busy",
    "book_vs_cli",
    "book_vs_cli_busy",
    "consolidate_peak_rss",
    "consolidate_peak_rss_busy",
    "cli_peak_rss",
    "cli_peak_rss_busy",
    "book_peak_rss",
    "book_peak_rss_busy",
]


def test_bench_quick(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench.py"), "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    res = json.loads(out.read_text("utf-8"))
    assert res["quick"] is True
    for key in ("cpu", "cores", "ram_bytes", "python", "os"):
        assert key in res["machine"]
    for name in ("salesbook", "pandas", "python-calamine", "openpyxl", "docxtpl"):
        assert res["versions"][name]
    for name in FIGURES:
        fig = res["figures"][name]
        if name in ("contracts", "docxtpl") and not fig["available"]:
            assert "not available" in fig["reason"]  # the renderer may not exist yet: a clear skip
            continue
        assert fig["available"], name
        assert fig["min"] <= fig["median"] <= fig["max"]
        assert fig["peak_rss_bytes"] > 0
    for name in RATIOS:
        ratio = res["ratios"][name]
        assert "target" in ratio
        if ratio["available"]:
            assert ratio["value"] is not None and isinstance(ratio["met"], bool)
        else:
            assert ratio["met"] is None and "not available" in ratio["reason"]
    # the data is mostly clean: every file accepted, no error-level findings
    detail = res["figures"]["consolidate"]["detail"]
    assert detail["errors"] == 0
    assert detail["rows"] == res["data"]["team_set"]["total_rows"]
    # the busy month has what a real month has: errors, overdue follow-ups and opportunities
    busy = res["figures"]["consolidate_busy"]["detail"]
    assert busy["errors"] > 0 and busy["findings"] > busy["errors"]
    assert busy["rows"] == res["data"]["busy_set"]["total_rows"]
    assert "| consolidate" in proc.stdout and "met?" in proc.stdout
