"""Output folders written all at once, and the file-safety helpers around them.

Every command and action writes its set of output files into a temporary folder first and moves
them into place only when the whole set is written: a run that fails or is interrupted (Ctrl-C)
leaves the output folder exactly as it was, never half a set. The move itself waits for a Ctrl-C
to finish (a few renames). Temporary folders are hidden (``.out.partial-…``) and removed on the way
out; one left by a killed process can be deleted by hand.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import tempfile
import threading
from pathlib import Path


class OutputPathError(Exception):
    """An output path cannot be used (an existing file where a folder belongs, …); the message says why."""


def default_mode(directory: bool = False) -> int:
    """The permissions a new file (0666) or folder (0777) gets under the user's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def keep_mode_and_owner(original: Path, replacement: Path) -> None:
    """Give `replacement` the permissions, owner and group of `original` before it replaces it.

    A temporary file is created 0600 and owned by whoever runs salesbook; without this a shared
    workbook would lose its group's access each time an action saved it. Owner and group are kept
    where the user may set them (root, or a group the user is in); otherwise they stay the user's.
    """
    keep_owner(original, replacement)
    os.chmod(replacement, stat.S_IMODE(os.stat(original).st_mode))


def keep_owner(original: Path, path: Path) -> None:
    """Give `path` the owner and group of `original` where allowed (a link at `path` is not followed)."""
    st = os.stat(original)
    with contextlib.suppress(OSError):
        os.chown(path, st.st_uid, st.st_gid, follow_symlinks=False)
    with contextlib.suppress(OSError):
        os.chown(path, -1, st.st_gid, follow_symlinks=False)


def check_output_folder(target: Path, option: str = "--out") -> Path:
    """Refuse an output path that cannot be a folder, before any work is done; returns it."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputPathError(f"{option} {target} is a file, not a folder. Give a folder for the outputs "
                              "(it is created when missing); nothing was written.")
    for parent in target.parents:  # the nearest existing ancestor must be a folder
        if parent.exists():
            if not parent.is_dir():
                raise OutputPathError(f"{option} {target}: {parent} is a file, so no folder can be made there.")
            break
    return target


def check_output_file(target: Path, option: str = "OUT") -> Path:
    """Refuse an output file path that is a folder or lies below a file; returns it."""
    target = Path(target)
    if target.is_dir():
        raise OutputPathError(f"{option} {target} is a folder; give the file to write, e.g. {target / 'x.xlsx'}.")
    folder = target.parent
    check_output_folder(folder, option=f"{option} {target}: its folder")
    try:  # can a file be written there? Found out now with a probe, before any work
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".salesbook-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        from ..errors import os_error_hint

        raise OutputPathError(f"{option} {target}: no file can be written in {folder} ({os_error_hint(exc)}).") from None
    return target


@contextlib.contextmanager
def deferred_interrupt(what: str):
    """Let the block finish before a Ctrl-C takes effect (only the main thread receives signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        exc = KeyboardInterrupt()
        exc.add_note(f"{what} had been written in full before stopping.")
        raise exc


class OutputFolder:
    """``with OutputFolder(out) as tmp:`` — write into `tmp`; when the block succeeds the files move into `out`.

    When `out` does not exist, the temporary folder beside it is renamed to `out` in one step.
    When it exists (earlier results, files of the user's), each new file replaces its namesake
    and nothing else in `out` is touched. On an error or Ctrl-C the temporary folder is removed,
    `out` is unchanged, and a note on the exception says so.
    """

    def __init__(self, target: Path, option: str = "--out"):
        self.target = check_output_folder(Path(target), option)
        self.option = option
        self.tmp: Path | None = None
        self.committed = False
        # Can the folder be made and written? Found out now, before any work, with a probe folder.
        os.rmdir(self._make_tmp())

    def _make_tmp(self) -> Path:
        target = self.target
        if target.is_dir():  # inside it: the same filesystem, whatever the parent allows
            where, prefix = target, ".salesbook-partial-"
        else:
            where, prefix = target.parent, f".{target.name}.partial-"
        try:
            where.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=where))
        except OSError as exc:
            from ..errors import os_error_hint

            raise OutputPathError(f"{self.option} {target}: no output folder can be made or written in {where} "
                                  f"({os_error_hint(exc)}).") from None
        os.chmod(tmp, default_mode(directory=True))
        return tmp

    def __enter__(self) -> Path:
        self.tmp = self._make_tmp()
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.commit()
            return False
        if self.tmp is not None and exc is not None:  # not yet committed: the target was never touched
            exc.add_note(self.untouched_note)
        self.discard()
        return False

    def discard(self) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    @property
    def untouched_note(self) -> str:
        return f"{self.target}: nothing was written; what was there is unchanged."

    def commit(self) -> None:
        """Move the written set into the target (a Ctrl-C meanwhile waits for the move to finish)."""
        tmp, target = self.tmp, self.target
        if tmp is None:
            return
        with deferred_interrupt(str(target)):
            self.committed = True
            if not target.exists() and tmp.parent == target.parent:
                os.rename(tmp, target)
                self.tmp = None
                return
            try:
                target.mkdir(parents=True, exist_ok=True)
                for root, dirs, files in os.walk(tmp):
                    rel = Path(root).relative_to(tmp)
                    for d in dirs:
                        dest = target / rel / d
                        if dest.is_symlink() or not dest.is_dir():
                            if dest.exists() or dest.is_symlink():
                                raise OutputPathError(f"{dest} is in the way of an output folder; move it away.")
                            dest.mkdir(mode=default_mode(directory=True))
                    for f in files:
                        os.replace(Path(root) / f, target / rel / f)  # replaces a symlink, never writes through it
            finally:
                self.discard()


__all__ = ["OutputFolder", "OutputPathError", "check_output_file", "check_output_folder", "default_mode",
           "deferred_interrupt", "keep_mode_and_owner", "keep_owner"]
