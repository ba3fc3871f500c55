"""`salesbook run ACTION --book` exits with the code of the matching direct command (SPEC §7 exit codes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import ROSTER, TARGETS, settings_rows, team_folder
from click.testing import CliRunner
from conftest import CUSTOMER_HEADER, write_workbook

from salesbook.cli import init_workspace, main

PERIOD = "2026-11"


def _workspace(root: Path, scenario: str) -> Path:
    """A workspace whose team folder has error-level findings ("errors") or only unreadable files ("unreadable")."""
    book = init_workspace(root, roster_rows=ROSTER, targets_rows=TARGETS,
                          settings_rows=settings_rows(period=PERIOD, **{"reader.workers": "1"}))
    if scenario == "errors":
        team_folder(root)
        write_workbook(root / "team" / "bad.xlsx", {"客户": [CUSTOMER_HEADER, [
            "C900", "坏电话公司", "小型", 0, "低", 0, "张三", "12345", None, "S001", "2026-11-02", None, None]]})
    else:
        (root / "team" / "broken.xlsx").write_bytes(b"this is not a workbook at all")
    return book


def _direct(action: str, root: Path, book: Path, out: Path) -> list[str]:
    """The direct command doing what the button does, on the same team folder, period and master."""
    team = str(root / "team")
    ledger = ["--ledger", f"sqlite:///{root / 'direct.db'}"]
    common = [team, "--master", str(book), "--out", str(out)]
    return {
        "validate": ["validate", *common, "--period", PERIOD],
        "consolidate": ["consolidate", *common, "--period", PERIOD, *ledger],
        "contracts": ["contracts", *common],
        "reports": ["report", *common, "--period", PERIOD, *ledger],
        "export-hr": ["export-hr", *common, "--period", PERIOD, *ledger],
        "statements": ["statements", *common, "--period", PERIOD],
        "close": ["close", *common, "--period", PERIOD, "--accept-errors", *ledger],
    }[action]


def _run(action: str, root: Path, book: Path) -> list[str]:
    extra = ["--accept-errors"] if action == "close" else []
    ledger = ["--ledger", f"sqlite:///{root / 'run.db'}"] if action in ("consolidate", "reports", "export-hr",
                                                                          "close") else []
    return ["run", action, "--book", str(book), *extra, *ledger]


ACTIONS = ["validate", "consolidate", "contracts", "reports", "export-hr", "statements", "close"]
EXPECTED = {  # the direct commands' contract: 1 only for a check with errors, 2 for payroll refusals, 3 nothing read
    ("errors", "validate"): 1,
    ("unreadable", "validate"): 3, ("unreadable", "consolidate"): 3, ("unreadable", "export-hr"): 2,
    ("unreadable", "close"): 2, ("unreadable", "statements"): 3, ("unreadable", "contracts"): 3,
    ("unreadable", "reports"): 3,
}


@pytest.mark.parametrize("scenario", ["errors", "unreadable"])
@pytest.mark.parametrize("action", ACTIONS)
def test_run_action_exits_like_the_direct_command(tmp_path: Path, monkeypatch, scenario: str, action: str) -> None:
    """`run ACTION` and the matching command give the same exit code on the same workspace, and neither a traceback."""
    monkeypatch.delenv("SALESBOOK_LEDGER", raising=False)
    root = tmp_path / "ws"
    book = _workspace(root, scenario)
    runner = CliRunner()
    direct = runner.invoke(main, _direct(action, root, book, tmp_path / "direct-out"))
    run = runner.invoke(main, _run(action, root, book))
    for r in (direct, run):
        assert r.exception is None or isinstance(r.exception, SystemExit), r.output
        assert "Traceback" not in r.output
    assert run.exit_code == direct.exit_code, (direct.output, run.output)
    assert run.exit_code == EXPECTED.get((scenario, action), 0), run.output
