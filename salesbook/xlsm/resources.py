"""Where the files shipped beside the code live: `workbook/`, `macros/` (and `templates/`).

In a wheel they are under `salesbook/_shipped/` (see pyproject's force-include); in a source
checkout they are at the repository root.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


class ShippedFileMissing(FileNotFoundError):
    """A file that ships with salesbook is missing; reinstall salesbook or restore it in the checkout."""


def shipped_path(name: str) -> Path:
    """The path of shipped file or folder `name` (e.g. "workbook/layout.toml", "macros")."""
    candidates = (_PACKAGE_DIR / "_shipped" / name, _PACKAGE_DIR.parent / name)
    for candidate in candidates:
        if candidate.exists():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise ShippedFileMissing(f"{name} not found (looked in {tried}); reinstall salesbook or restore the file")
