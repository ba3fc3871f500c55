"""Writing output files safely: a fresh temporary file beside the target, then one atomic rename.

A planted symbolic link at an output's name (or at a temporary name) is never followed: the
temporary file is created with O_EXCL under a random name (``tempfile.mkstemp``), and
``os.replace`` replaces the directory entry of the target — a link there is replaced, its target
left alone. Readers never see half a file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMP_PREFIX = ".~sb-"


def _default_mode() -> int:
    # What open(path, "w") would have given: 0o666 less the umask (mkstemp makes 0o600).
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_output(path: str | Path, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a new temporary file's path beside `path`; on success it replaces `path` in one step.

    Write the whole output to the yielded path (by name: libraries that open a path are fine).
    On an exception the temporary file is removed and `path` is left as it was. ``mode``: the
    permission bits of the result (default: as a newly created file).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        publish(tmp_path, path, mode=mode)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def publish(tmp: str | Path, path: str | Path, *, mode: int | None = None) -> None:
    """Give a finished temporary file its permissions and rename it onto `path` in one step."""
    os.chmod(tmp, _default_mode() if mode is None else mode)
    os.replace(tmp, path)  # replaces a link at `path` itself, never writes through it


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """`data` as the whole content of `path`, through a temporary file and an atomic rename."""
    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
    return Path(path)


def atomic_copy(src: str | Path, dst: str | Path) -> Path:
    """A copy of `src` (content, times and mode) at `dst`, never written through a link at `dst`."""
    src = Path(src)
    with atomic_output(dst, mode=src.stat().st_mode & 0o7777) as tmp:
        shutil.copy2(src, tmp)
    return Path(dst)


def remove_stale_temporaries(folder: str | Path) -> None:
    """Delete temporary files a killed run left in `folder` (links are removed, not followed)."""
    for stale in Path(folder).glob(TEMP_PREFIX + "*"):
        if stale.is_symlink() or stale.is_file():
            stale.unlink(missing_ok=True)


def backup_before_replace(path: str | Path) -> Path | None:
    """Keep what is at `path` as `<name>.bak` before it is replaced; returns the backup (None: nothing there).

    A regular file is copied (content, times, mode) through a temporary file and a rename; a symbolic
    link is kept as a link to the same target (never followed, its target never touched); anything
    else (a folder, a named pipe, a device) is refused with ``IsADirectoryError`` / ``FileExistsError``.
    """
    import stat

    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    backup = path.with_name(path.name + ".bak")
    if stat.S_ISREG(st.st_mode):
        atomic_copy(path, backup)
    elif stat.S_ISLNK(st.st_mode):
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".bak", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)  # the name is ours (O_EXCL); a link takes its place
        try:
            os.symlink(os.readlink(path), tmp)
            os.replace(tmp, backup)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    elif stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "it is a folder, not a file", str(path))
    else:
        raise FileExistsError(17, "it is not a regular file (a named pipe, socket or device)", str(path))
    return backup
