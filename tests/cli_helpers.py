"""Running the installed `salesbook` as a user would, and the small office the CLI tests use."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from conftest import ACTIVITY_HEADER, CUSTOMER_HEADER, write_workbook

SALESBOOK = Path(sys.executable).with_name("salesbook")
ROSTER = [["S001", "王芳", "E1001", "华东一组", "华东", "李强", "在职"],
          ["S002", "陈明", "E1002", "华东一组", "华东", "李强", "在职"]]
TARGETS = [["S001", "2026-11", 100000, 10, 80000, 2, 20], ["S002", "2026-11", 50000, 5, 40000, 1, 10]]
CONTRACT_HEADER = ["合同编号", "客户编号", "合同金额", "折扣率", "法务审核", "财务审核", "主管授权", "签订日期",
                   "状态", "负责销售"]


def sb(*args, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    """The installed `salesbook` command, as a user runs it."""
    assert SALESBOOK.exists(), f"{SALESBOOK} is not installed (run make test)"
    return subprocess.run([str(SALESBOOK), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kw)


def refused(r: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """Assert exit `code`, no traceback, and every needle in the output; returns the output."""
    out = r.stdout + r.stderr
    assert r.returncode == code, out
    assert "Traceback" not in out and 'File "' not in out, out
    for needle in needles:
        assert needle in out, (needle, out)
    return out


def team_folder(root: Path, files: int = 2) -> Path:
    """A team folder with `files` small team workbooks (customers and an activity each)."""
    team = root / "team"
    for i in range(files):
        owner = "S001" if i % 2 == 0 else "S002"
        cid = f"C{i:03d}"
        write_workbook(team / f"t{i:02d}.xlsx", {
            "客户": [CUSTOMER_HEADER, [cid, f"公司{i}", "小型", 0, "低", 0, "张三", "13812345678", None, owner,
                                     "2026-11-02", None, None]],
            "活动": [ACTIVITY_HEADER, ["2026-11-20", owner, cid, "拜访", "拜访客户", None, 30]],
        })
    return team


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def settings_rows(**overrides: str) -> list[tuple[str, str, str]]:
    """The default 设置 rows with some values changed (keys as in the sheet: period, reader.workers …)."""
    from salesbook.core.settings import default_rows

    return [(k, overrides.get(k, v), n) for k, v, n in default_rows()]
