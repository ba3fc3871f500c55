"""The tables a run produces, as DataFrames with SPEC §7's English snake_case columns."""

from __future__ import annotations

from operator import attrgetter

import pandas as pd

from .core.findings import FINDING_COLUMNS, Finding, Findings
from .io.team_reader import FileResult

FILES_COLUMNS = ["file", "status", "reason", "sha256", "rows"]  # status: accepted | rejected | skipped (lock files)


_FIELDS = attrgetter(*FINDING_COLUMNS)


def findings_frame(findings: list[Finding] | Findings) -> pd.DataFrame:
    """Findings as rows; a file- or sheet-level finding has no row and shows a blank cell, not 0."""
    if isinstance(findings, Findings):  # a run's findings: their own frame, no objects made
        frame = findings.frame().infer_objects()  # the dtypes the rows as Python values give
    else:
        frame = pd.DataFrame(list(map(_FIELDS, findings)), columns=FINDING_COLUMNS)
    frame["row"] = pd.Series([r if r else None for r in frame["row"].tolist()], index=frame.index, dtype=object)
    return frame


def files_frame(files: list[FileResult]) -> pd.DataFrame:
    return pd.DataFrame([[f.label, f.status, f.reason, f.sha256, f.rows] for f in files], columns=FILES_COLUMNS)
