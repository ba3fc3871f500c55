"""Putting a demo workspace into a folder without ever replacing or deleting what the user keeps there.

The demo is built and run in a temporary folder; only when it is complete do its files move into
the target folder. A file the demo did not make (it keeps a list, `.salesbook-demo.json`) is never
replaced or deleted: when one is in the way the demo stops before anything moves.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MANIFEST = ".salesbook-demo.json"
FIXED_NAMES = ("SalesBook.xlsm", "SalesBook.xlsm.bak", "defects.json")  # what every demo writes at the top


class WorkspaceRefused(Exception):
    """The demo cannot go into this folder as it is; the message says why and what to do."""


def demo_files(directory: Path) -> set[str]:
    """The files (relative paths) an earlier demo made in `directory`, from its list."""
    try:
        data = json.loads((Path(directory) / MANIFEST).read_text(encoding="utf-8"))
        return {str(p) for p in data.get("files", [])}
    except (OSError, ValueError, AttributeError):
        return set()


def check_demo_target(directory: Path, force: bool) -> set[str]:
    """Refuse a folder that holds anything (unless `force`) or a file of the user's where the demo writes.

    Returns the files of an earlier demo there, which the new demo may replace.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise WorkspaceRefused(f"{directory} is a file; give a folder for the demo workspace.")
    entries = sorted(os.listdir(directory)) if directory.is_dir() else []
    if not entries:
        return set()
    if not force:
        shown = ", ".join(entries[:5]) + (", …" if len(entries) > 5 else "")
        what = "a workspace" if "SalesBook.xlsm" in entries else "files"
        raise WorkspaceRefused(
            f"{directory} already holds {what} ({shown}). The demo builds a whole workspace: give a new or "
            "empty folder, or add --force to put the demo there beside what is kept (a file the demo did not "
            "make is never replaced or deleted). Nothing was changed."
        )
    ours = demo_files(directory)
    in_the_way = [n for n in FIXED_NAMES if _taken(directory / n) and n not in ours]
    if in_the_way:
        raise _in_the_way(directory, in_the_way)
    return ours


def _taken(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _in_the_way(directory: Path, names: list[str]) -> WorkspaceRefused:
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return WorkspaceRefused(
        f"{directory} holds {shown}, which the demo did not make and would have to replace (a workspace of "
        "yours?). The demo never replaces your files: give another folder. Nothing was changed."
    )


def staged_files(staged: Path) -> list[str]:
    """Every file under `staged`, as relative POSIX paths, sorted."""
    out = []
    for root, _dirs, files in os.walk(staged):
        rel = Path(root).relative_to(staged)
        out += [(rel / f).as_posix() for f in files]
    return sorted(out)


def check_no_conflict(staged: Path, directory: Path, ours: set[str]) -> list[str]:
    """Refuse when a file the demo wrote would land on a path the user holds; returns the demo's files."""
    files = staged_files(staged)
    clash = []
    for rel in files:
        dest = Path(directory) / rel
        if rel in ours and (dest.is_file() or not _taken(dest)) and not dest.is_symlink():
            continue
        parents = [Path(directory) / p for p in Path(rel).parents if str(p) != "."]
        if _taken(dest) or any(_taken(p) and (p.is_symlink() or not p.is_dir()) for p in parents):
            clash.append(rel)  # never over a file of the user's, never through a link
    if clash:
        raise _in_the_way(Path(directory), clash)
    return [f for f in files if f != MANIFEST]


def write_manifest(staged: Path, files: list[str]) -> None:
    """The list of the demo's files, so a later `demo --force` knows which files are its own."""
    (Path(staged) / MANIFEST).write_text(json.dumps({"files": files}, ensure_ascii=False, indent=1) + "\n",
                                         encoding="utf-8")


def remove_stale(directory: Path, old: set[str], new: list[str]) -> None:
    """Files an earlier demo made that this one did not write again (a different period's outputs)."""
    for rel in sorted(old - set(new) - {MANIFEST}):
        path = Path(directory) / rel
        if path.is_file() and not path.is_symlink():
            path.unlink()


__all__ = ["MANIFEST", "WorkspaceRefused", "check_demo_target", "check_no_conflict", "demo_files",
           "remove_stale", "write_manifest"]
