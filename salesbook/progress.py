"""Progress of a long run, phase by phase: a bar on a terminal, a line in Excel's status bar.

The pipeline, the writers and the workbook actions report phases (reading the team files,
checking the rules, scoring, writing the outputs) with a count of steps; tqdm draws the bar and
estimates the time left. Nothing here decides anything: a run without a display gets `Progress()`,
which does nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

# The status bar is read by managers: phase names in Chinese beside the English ones.
PHASES_ZH = {
    "reading the master workbook": "读取主工作簿",
    "reading team files": "读取团队文件",
    "checking rules": "校验规则",
    "scoring": "计算考核",
    "writing outputs": "写入结果",
    "writing contracts": "生成合同",
    "converting contracts to PDF": "转换为 PDF",
    "writing reports": "生成报告",
    "writing statements": "生成考核确认单",
    "saving the workbook": "保存工作簿",
}


class Progress:
    """What a run reports; this base class shows nothing (headless runs, tests)."""

    def phase(self, name: str, total: int | None = None, unit: str = "steps") -> None:
        """A new phase begins (the previous one is over); `total` steps when known."""

    def update(self, done: int) -> None:
        """`done` steps of the current phase are finished."""

    def close(self) -> None:
        """The run is over (or stopped): leave the display clean."""


class TerminalProgress(Progress):
    """A tqdm bar per phase on a terminal (stderr), with the time left; finished phases stay visible."""

    FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit} [{elapsed}, {remaining} left]"
    FORMAT_UNSIZED = "{desc} … [{elapsed}]"

    def __init__(self, file=None):
        self.file = file if file is not None else sys.stderr
        self._bar = None

    def phase(self, name: str, total: int | None = None, unit: str = "steps") -> None:
        from tqdm import tqdm

        self.close()
        columns, rows = self._size()
        self._bar = tqdm(total=total, desc=name, unit=unit, file=self.file, leave=True, ncols=columns, nrows=rows,
                         mininterval=0.2, bar_format=self.FORMAT if total else self.FORMAT_UNSIZED)

    def _size(self) -> tuple[int, int]:
        """The terminal's width and height; 80 × 24 where it reports none (tqdm shows nothing on a 0 × 0 one)."""
        import os

        try:
            size = os.get_terminal_size(self.file.fileno())
            columns, rows = size.columns, size.lines
        except (OSError, AttributeError, ValueError):
            columns = rows = 0
        return (min(columns, 120) if columns >= 40 else 80), (rows if rows > 0 else 24)

    def update(self, done: int) -> None:
        if self._bar is not None and done > self._bar.n:
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            bar, self._bar = self._bar, None
            if bar.total and bar.n < bar.total:  # a phase that ended early (an error, Ctrl-C): show where
                bar.refresh()
            bar.close()


class StatusProgress(Progress):
    """Phases as one line of text for a status bar (Excel's), at most every `interval` seconds."""

    FORMAT = "{desc}: {n_fmt}/{total_fmt} {unit}, {remaining} left"

    def __init__(self, show: Callable[[str], None], *, interval: float = 0.5, clock=time.monotonic):
        self.show, self.interval, self.clock = show, interval, clock
        self.name, self.total, self.unit = "", None, ""
        self.started = self.last = 0.0

    def phase(self, name: str, total: int | None = None, unit: str = "steps") -> None:
        self.name, self.total, self.unit = name, total, unit
        self.started = self.last = self.clock()
        self.show(self._label() + " …")

    def _label(self) -> str:
        zh = PHASES_ZH.get(self.name)
        return f"salesbook: {zh} {self.name}" if zh else f"salesbook: {self.name}"

    def update(self, done: int) -> None:
        now = self.clock()
        if not self.total or (now - self.last < self.interval and done < self.total):
            return
        from tqdm import tqdm

        self.last = now
        self.show(tqdm.format_meter(done, self.total, now - self.started, prefix=self._label(), unit=self.unit,
                                    bar_format=self.FORMAT))


class CallbackProgress(Progress):
    """The older `progress(done, total)` callback: told about the reading phase only."""

    def __init__(self, fn: Callable[[int, int], None]):
        self.fn, self.reading, self.total = fn, False, 0

    def phase(self, name: str, total: int | None = None, unit: str = "steps") -> None:
        self.reading, self.total = name == "reading team files", total or 0

    def update(self, done: int) -> None:
        if self.reading:
            self.fn(done, self.total)


def as_progress(progress: Progress | Callable[[int, int], None] | None) -> Progress:
    """Whatever a caller passed as `progress`, as a Progress."""
    if progress is None:
        return Progress()
    if isinstance(progress, Progress):
        return progress
    return CallbackProgress(progress)


__all__ = ["CallbackProgress", "Progress", "StatusProgress", "TerminalProgress", "as_progress"]
