"""Demo data: a deterministic workspace of team workbooks, a master workbook and its defect list.

`generate_demo` writes three team workbooks (realistic but clean apart from a few injected
defects, each listed in `defects.json` at its exact cell), a personal workbook with structural
defects, unreadable / encrypted / unsupported files, files that must be skipped, and the master
workbook. Everything comes from one `random.Random(seed)`; no wall clock is read, so two runs
give byte-identical files (the encrypted file excepted: its encryption is salted).

The code lives in the package `salesbook.demo`; this module is its public surface (the CLI, the
benchmark's `scripts/bench_data.py` and the tests import from here).
"""

from salesbook.demo.builder import TeamBuilder
from salesbook.demo.generate import DemoData, demo_master_data, demo_settings_rows, generate_demo
from salesbook.demo.rules import compute_grade, normalise_company, period_bounds
from salesbook.demo.vocabulary import (
    _SCHEMAS,
    ACTIVITIES_PER_DAY,
    BRANDS,
    CITIES,
    COMPANY_SUFFIXES,
    CREATED,
    DEMO_DEFAULT_PLAN,
    DEMO_PLANS,
    ENCRYPTION_PASSWORD,
    EXPENSE_LIMITS,
    LEFT_REP,
    NO_COLLECTIONS_TARGET_REP,
    PERSONAL_FILE,
    TEAM_SHEETS,
    TEAMS,
    TRADES,
)
from salesbook.demo.workbooks import SheetLayout, team_layouts, write_master_xlsx, write_team

__all__ = [
    "_SCHEMAS",  # the tests read the sheet schemas the demo writes
    "ACTIVITIES_PER_DAY",
    "BRANDS",
    "CITIES",
    "COMPANY_SUFFIXES",
    "CREATED",
    "DEMO_DEFAULT_PLAN",
    "DEMO_PLANS",
    "ENCRYPTION_PASSWORD",
    "EXPENSE_LIMITS",
    "LEFT_REP",
    "NO_COLLECTIONS_TARGET_REP",
    "PERSONAL_FILE",
    "TEAM_SHEETS",
    "TEAMS",
    "TRADES",
    "DemoData",
    "SheetLayout",
    "TeamBuilder",
    "compute_grade",
    "demo_master_data",
    "demo_settings_rows",
    "generate_demo",
    "normalise_company",
    "period_bounds",
    "team_layouts",
    "write_master_xlsx",
    "write_team",
]
