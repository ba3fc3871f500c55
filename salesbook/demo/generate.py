"""`generate_demo`: the whole demo workspace on disk, and the demo's master data and settings."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import xlsxwriter

from salesbook.core.settings import default_rows

from .builder import TeamBuilder
from .vocabulary import (
    _SCHEMAS,
    CREATED,
    DEMO_DEFAULT_PLAN,
    DEMO_PLANS,
    ENCRYPTION_PASSWORD,
    NO_COLLECTIONS_TARGET_REP,
    PERSONAL_FILE,
    TEAM_SHEETS,
    TEAMS,
)
from .workbooks import (
    SheetLayout,
    _encrypt,
    _small_workbook,
    _WorkbookWriter,
    team_layouts,
    write_master_xlsx,
    write_team,
)


@dataclass
class DemoData:
    """What `generate_demo` wrote: paths, the period, the injected defects and the reps."""

    root: Path
    team_dir: Path
    master_path: Path
    period: str
    as_of: date
    defects: list[dict] = field(default_factory=list)
    scoring_notes: list[dict] = field(default_factory=list)
    reps: list[dict] = field(default_factory=list)


def demo_master_data(
    seed: int = 2026, period: str = "2026-11"
) -> tuple[list[tuple[str, str, str]], list[dict], list[dict]]:
    """(settings rows, roster rows, target rows) of the demo; roster status is 'Active' / 'Left'."""
    b = TeamBuilder(seed, period)
    b.build()
    return demo_settings_rows(), [dict(r) for r in b.reps], b.targets()


def demo_settings_rows(**overrides: str) -> list[tuple[str, str, str]]:
    """The Settings rows of the demo: the defaults, with the demo's default commission plan."""
    values = {"commission.default_plan": DEMO_DEFAULT_PLAN, **overrides}
    return [(k, values.get(k, v), n) for k, v, n in default_rows()]


def generate_demo(root: Path, *, seed: int = 2026, period: str = "2026-11") -> DemoData:
    """Write the demo workspace under `root` (team/, master.xlsx, defects.json) and describe it."""
    root = Path(root)
    team_dir = root / "team"
    team_dir.mkdir(parents=True, exist_ok=True)
    b = TeamBuilder(seed, period)
    b.build()
    targets = b.targets()
    defects: list[dict] = []

    for file, *_ in TEAMS:
        write_team(team_dir / file, file, b.rows[file], team_layouts(file, b.start), defects)

    personal_layouts = {
        "customers": SheetLayout("customers", doubled=("customer_id", "Customer ID")),
        "activities": SheetLayout("activities", drop=("summary",)),
        "expenses": SheetLayout("expenses"),
    }
    w = _WorkbookWriter(team_dir / PERSONAL_FILE, PERSONAL_FILE, defects)
    for s in TEAM_SHEETS:
        if s in b.personal:
            w.sheet(personal_layouts[s], b.personal[s])
    # A second expenses sheet (English name): which one is real cannot be known, so neither is used.
    w.sheet(SheetLayout("expenses", lang="en"), b.personal["expenses"][:2])
    w.close()
    for name in ("费用", "Expenses"):
        defects.append(
            {"file": PERSONAL_FILE, "sheet": name, "row": 0, "column": "", "code": "ambiguous-sheet"}
        )
    for s in TEAM_SHEETS:
        if s not in b.personal:
            defects.append(
                {
                    "file": PERSONAL_FILE,
                    "sheet": _SCHEMAS["sheets"][s]["zh"],
                    "row": 0,
                    "column": "",
                    "code": "missing-sheet",
                }
            )
    defects.append(
        {"file": PERSONAL_FILE, "sheet": "活动", "row": 0, "column": "内容摘要", "code": "missing-column"}
    )

    rng = b.rng
    (team_dir / "corrupt.xlsx").write_bytes(b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(2048)))
    defects.append({"file": "corrupt.xlsx", "sheet": "", "row": 0, "column": "", "code": "file-unreadable"})
    (team_dir / "encrypted.xlsx").write_bytes(
        _encrypt(_small_workbook(b, "encrypted.xlsx", []), ENCRYPTION_PASSWORD)
    )
    defects.append({"file": "encrypted.xlsx", "sheet": "", "row": 0, "column": "", "code": "file-encrypted"})
    (team_dir / "notes.xlsx").write_text("会议纪要：11 月销售例会\n1. 月底前完成回款跟进\n", encoding="utf-8")
    defects.append({"file": "notes.xlsx", "sheet": "", "row": 0, "column": "", "code": "file-unsupported"})
    # a price list someone dropped into the team folder: a real workbook, but no sheet salesbook knows
    prices = xlsxwriter.Workbook(str(team_dir / "价目表.xlsx"))
    prices.set_properties({"created": CREATED})
    ws = prices.add_worksheet("价目表")
    for i, row in enumerate(
        [["产品", "单价（元）"], ["服务器", 52000], ["存储阵列", 86000], ["实施服务（人天）", 2400]]
    ):
        ws.write_row(i, 0, row)
    prices.close()
    defects.append({"file": "价目表.xlsx", "sheet": "", "row": 0, "column": "", "code": "no-team-sheet"})
    # skipped: Excel's lock file (noted: someone has team_east.xlsx open) and a hidden copy (which
    # would raise duplicates if read)
    (team_dir / "~$team_east.xlsx").write_bytes(b"\x05demo " + b"\x20" * 48 + b"\x00" * 110)
    defects.append(
        {"file": "team_east.xlsx", "sheet": "", "row": 0, "column": "", "code": "file-open-elsewhere"}
    )
    (team_dir / ".team_east_backup.xlsx").write_bytes((team_dir / "team_east.xlsx").read_bytes())

    settings_rows = demo_settings_rows()
    master = root / "master.xlsx"
    write_master_xlsx(master, settings_rows, b.reps, targets, DEMO_PLANS)

    defects.sort(key=lambda d: (d["file"], d["sheet"], d["row"], d["column"], d["code"]))
    (root / "defects.json").write_text(
        json.dumps(defects, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    notes = [
        {
            "rep_id": NO_COLLECTIONS_TARGET_REP,
            "period": period,
            "kpi": "collections",
            "code": code,
        }
        for code in ("missing-target", "commission-no-target")
    ]
    return DemoData(
        root=root,
        team_dir=team_dir,
        master_path=master,
        period=period,
        as_of=b.as_of,
        defects=defects,
        scoring_notes=notes,
        reps=[dict(r) for r in b.reps],
    )
