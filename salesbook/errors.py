"""How salesbook answers a failure, in one place for the command line and the workbook buttons.

An error the user can fix (a setting, a path, a template, a workbook open in Excel, a file the
system refuses) becomes a sentence and exit code 2 (3 when nothing could be read). Anything else
is a fault of the program: a short message and a log file with the details for whoever supports
salesbook. Nobody ever sees a Python traceback.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

EXIT_OK = 0  # done (findings may exist)
EXIT_FINDINGS = 1  # done, and `validate` found error-level findings
EXIT_USAGE = 2  # usage, settings or file error: the message says what to fix
EXIT_NOTHING = 3  # nothing could be read
EXIT_FAULT = 70  # a fault of the program (sysexits' EX_SOFTWARE); details in a log file
EXIT_INTERRUPTED = 130  # stopped with Ctrl-C (128 + SIGINT, as shells report it)
EXIT_BROKEN_PIPE = 141  # the reader of stdout went away (`| head`): 128 + SIGPIPE, as for any Unix tool

EXIT_CODES_HELP = """\b
Exit codes:
  0    done (findings may exist)
  1    validate (and run validate) found error-level findings (contracts --pdf: a PDF could not be made)
  2    usage, settings or file error (the message says what to fix)
  3    nothing could be read (no team file: contracts, report and statements write nothing)
  70   internal error (the message names a log file with the details)
  130  interrupted with Ctrl-C (the message says what was left unchanged)
  141  the program reading the output stopped early (| head): nothing more is printed"""

_OS_HINTS = {
    errno.ENOENT: "it does not exist — check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder, not a file",
    errno.EACCES: "permission denied — check that you may read or write there",
    errno.EPERM: "the system does not allow it — check the permissions",
    errno.EROFS: "the disk is read-only — choose another folder",
    errno.ENOSPC: "the disk is full — free some space or choose another folder",
    errno.EEXIST: "something of that name is already there",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EBUSY: "it is in use by another program — close it and try again",
}


def os_error_hint(exc: OSError) -> str:
    """What the system said, as advice ("permission denied — check that you may …")."""
    return _OS_HINTS.get(exc.errno or 0) or (exc.strerror or str(exc) or type(exc).__name__)


def describe_os_error(exc: OSError) -> str:
    """An OSError as a sentence: the path(s), what the system said and what to do."""
    paths = [str(p) for p in (exc.filename, exc.filename2) if p not in (None, "")]
    said = os_error_hint(exc)
    if not paths:
        return f"A file operation failed: {exc.strerror or exc} ({said})."
    return f"Cannot use {' → '.join(paths)}: {said}."


def _expected() -> tuple[type[BaseException], ...]:
    """The exceptions whose message is for the user (imported late: this module sits below them all)."""
    from .actions import ActionError
    from .closing import CloseRefused
    from .core.periods import PeriodError
    from .core.settings import SettingsError
    from .documents.env import DocumentError
    from .io.book import BookError, WorkbookLocked
    from .io.staging import OutputPathError
    from .ledger import LedgerError
    from .payroll import PayrollRefused
    from .pipeline import FolderError, MasterError, NothingToRead
    from .workspace import WorkspaceRefused
    from .xlsm.builder import LayoutError

    return (ActionError, PeriodError, SettingsError, DocumentError, BookError, WorkbookLocked, OutputPathError,
            FolderError, MasterError, NothingToRead, LayoutError, WorkspaceRefused,
            LedgerError, PayrollRefused, CloseRefused)


def _library_errors() -> tuple[type[BaseException], ...]:
    """Errors libraries raise on a damaged or unexpected file (a template, a workbook) rather than on a bug."""
    import zipfile

    import jinja2
    from openpyxl.utils.exceptions import InvalidFileException
    from xlsxwriter.exceptions import XlsxWriterException

    found: list[type[BaseException]] = [zipfile.BadZipFile, jinja2.TemplateError, InvalidFileException,
                                        XlsxWriterException]
    try:
        from docx.opc.exceptions import PackageNotFoundError

        found.append(PackageNotFoundError)
    except ImportError:  # pragma: no cover - python-docx is a dependency
        pass
    try:
        from lxml.etree import XMLSyntaxError

        found.append(XMLSyntaxError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(found)


def describe(exc: BaseException) -> tuple[str, int] | None:
    """(message, exit code) for an error the user can act on; None for a fault of the program."""
    from .pipeline import NothingToRead

    if isinstance(exc, NothingToRead):
        return str(exc), EXIT_NOTHING
    if isinstance(exc, _expected()):
        return str(exc), EXIT_USAGE
    if isinstance(exc, OSError):
        return describe_os_error(exc), EXIT_USAGE
    if isinstance(exc, _library_errors()):
        cause = _os_cause(exc)
        if cause is not None:  # e.g. XlsxWriter's FileCreateError around the OSError
            return describe_os_error(cause), EXIT_USAGE
        return f"A file could not be used ({type(exc).__name__}: {str(exc)[:300]}).", EXIT_USAGE
    return None


def _os_cause(exc: BaseException) -> OSError | None:
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OSError):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def is_expected(exc: BaseException) -> bool:
    return describe(exc) is not None


def interrupted_message(exc: BaseException) -> str:
    """What Ctrl-C left behind, from the notes the writers put on the exception."""
    notes = [n for n in getattr(exc, "__notes__", []) if n]
    return " ".join(["Interrupted (Ctrl-C).", *notes])


def write_fault_log(what: str, folder: Path | None = None) -> Path | None:
    """The current exception's details in a new log file (in `folder`, else the temp folder); its path."""
    from . import __version__

    text = (f"salesbook {__version__} — {datetime.now().isoformat(timespec='seconds')}\n"
            f"{what}\nPython {sys.version.split()[0]} on {sys.platform}\n\n{traceback.format_exc()}\n")
    for where in ([folder] if folder else []) + [Path(tempfile.gettempdir())]:
        try:
            fd, name = tempfile.mkstemp(prefix="salesbook-error-", suffix=".log", dir=where)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            return Path(name)
        except OSError:
            continue
    return None


def fault_message(exc: BaseException, log: Path | None) -> str:
    where = f"the details are in {log}" if log else "no log could be written"
    return (f"Internal error ({type(exc).__name__}: {str(exc)[:200]}). This is a fault of salesbook, not of "
            f"your data; {where} — please send it to whoever supports salesbook.")


__all__ = ["EXIT_CODES_HELP", "EXIT_FAULT", "EXIT_FINDINGS", "EXIT_INTERRUPTED", "EXIT_NOTHING", "EXIT_OK",
           "EXIT_USAGE", "describe", "describe_os_error", "fault_message", "interrupted_message", "is_expected",
           "write_fault_log"]
