"""Which Python the master workbook's buttons run on this machine, and what RunPython needs besides.

- The hidden `xlwings.conf` sheet holds one interpreter: the one of the OS that built or attached
  the workbook (`Interpreter_Win` on Windows, `Interpreter_Mac` on macOS). A workbook copied from a
  colleague is made to work here with `salesbook attach SalesBook.xlsm`, which rewrites that sheet.
- RunPython only works when the `xlwings.bas` in the workbook is the one of the installed xlwings
  package; `attach` compares the two versions and says what to do.
- On macOS Excel may only start Python through xlwings' AppleScript, copied for the embedded version
  into `~/Library/Application Scripts/com.microsoft.Excel/` (what `xlwings runpython install` does).

Windows values may use environment variables (`%LOCALAPPDATA%\\Programs\\Python\\...`): xlwings
expands them when a button runs, so one workbook serves every user of a shared machine image.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

CONF_SHEET = "xlwings.conf"
KEYS = {"win32": "Interpreter_Win", "darwin": "Interpreter_Mac"}
INTERPRETER_KEYS = {"INTERPRETER", "INTERPRETER_WIN", "INTERPRETER_MAC"}
BASE_ENTRIES = (("ADD_WORKBOOK_TO_PYTHONPATH", "False"),)
APPLESCRIPT_DIR = ("Library", "Application Scripts", "com.microsoft.Excel")
_VERSION = re.compile(r'XLWINGS_VERSION\s+As\s+String\s*=\s*"([^"]+)"', re.IGNORECASE)
_WIN_VAR = re.compile(r"%([^%]+)%")


class AttachError(Exception):
    """The workbook cannot be attached to this machine's Python; the message says what to do."""


def os_name(platform: str | None = None) -> str:
    """win32, darwin or another sys.platform value."""
    return platform or sys.platform


def interpreter_key(platform: str | None = None) -> str | None:
    """The xlwings.conf key of this OS, None where Excel does not run (Linux)."""
    return KEYS.get(os_name(platform))


def default_interpreter(platform: str | None = None, executable: str | None = None) -> str:
    """This Python; on Windows its pythonw.exe when there is one (no console window flashes up)."""
    exe = executable or sys.executable
    if os_name(platform) == "win32":
        windowed = Path(exe).with_name("pythonw.exe")
        if Path(exe).name.lower() == "python.exe" and windowed.exists():
            return str(windowed)
    return exe


def conf_entries(interpreter: str | None = None, platform: str | None = None) -> list[tuple[str, str]]:
    """The rows of the xlwings.conf sheet: this OS's interpreter only, and the workbook kept off PYTHONPATH."""
    key = interpreter_key(platform)
    entries = []
    if key is not None:
        entries.append((key, interpreter or default_interpreter(platform)))
    return entries + list(BASE_ENTRIES)


def expand(value: str, platform: str | None = None, environ: dict[str, str] | None = None) -> str:
    """A configured path as xlwings will see it: %VAR% expanded on Windows, a leading $VAR on macOS."""
    env = os.environ if environ is None else environ
    if os_name(platform) == "win32":
        return _WIN_VAR.sub(lambda m: env.get(m.group(1), next((v for k, v in env.items()
                                                                 if k.upper() == m.group(1).upper()), m.group(0))),
                            value)
    if value.startswith("$"):
        head, _, rest = value.partition("/")
        base = env.get(head[1:], head)
        return f"{base}/{rest}" if rest else base
    return value


# ------------------------------------------------------------------ the workbook's xlwings


def embedded_xlwings_version(workbook: Path) -> str | None:
    """The xlwings version of the xlwings.bas inside a .xlsm (None when it holds no xlwings module)."""
    from .vbaproject import module_sources

    try:
        with zipfile.ZipFile(workbook) as z:
            name = next((n for n in z.namelist() if n.lower().endswith("vbaproject.bin")), None)
            if name is None:
                return None
            sources = module_sources(z.read(name))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise AttachError(f"{Path(workbook).name} cannot be read as a macro workbook ({exc}).") from None
    for source in sources.values():
        match = _VERSION.search(source)
        if match:
            return match.group(1)
    return None


def installed_xlwings_version(interpreter: str | None = None) -> str | None:
    """The xlwings version importable by `interpreter` (this Python when None); None when it has none."""
    if interpreter is None or _same_file(interpreter, sys.executable):
        try:
            from importlib.metadata import PackageNotFoundError, version

            return version("xlwings")
        except PackageNotFoundError:
            return None
    probe = "import importlib.metadata as m; print(m.version('xlwings'))"
    try:
        done = subprocess.run([interpreter, "-c", probe], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AttachError(f"{interpreter} could not be run ({exc}); give the path of a working python.") from None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def applescript_name(version: str) -> str:
    return f"xlwings-{version}.applescript"


def applescript_target(version: str, home: Path | None = None) -> Path:
    """Where Excel for Mac looks for xlwings' AppleScript (its sandbox allows only this folder)."""
    return Path(home or Path.home()).joinpath(*APPLESCRIPT_DIR, applescript_name(version))


def applescript_source(version: str) -> Path | None:
    """The AppleScript shipped in the installed xlwings package for `version`, if there is one."""
    spec = importlib.util.find_spec("xlwings")
    for location in list(spec.submodule_search_locations or ()) if spec else []:
        candidate = Path(location) / applescript_name(version)
        if candidate.is_file():
            return candidate
    return None


def install_applescript(version: str, home: Path | None = None) -> Path:
    """Copy xlwings' AppleScript for `version` where Excel for Mac finds it, and check it is there."""
    source = applescript_source(version)
    if source is None:
        raise AttachError(
            f"The installed xlwings has no {applescript_name(version)}; install xlwings {version} "
            f"(pip install xlwings=={version}) and run salesbook attach again."
        )
    target = applescript_target(version, home)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    if not target.is_file() or target.read_bytes() != source.read_bytes():
        raise AttachError(f"Could not write {target}; copy {source} there by hand.")
    return target


# ------------------------------------------------------------------ attach


@dataclass
class Attached:
    """What `attach` did: the entries written, the versions compared, notes for the user."""

    interpreter: str
    key: str | None
    embedded: str | None
    installed: str | None
    applescript: Path | None = None
    notes: list[str] = field(default_factory=list)


def check_versions(embedded: str | None, installed: str | None, interpreter: str) -> None:
    """RunPython breaks when the workbook's xlwings.bas and the Python's xlwings differ: say what to do."""
    if installed is None:
        raise AttachError(
            f"{interpreter} has no xlwings: install it there with `{interpreter} -m pip install salesbook` "
            "(which brings the matching xlwings) and run salesbook attach again."
        )
    if embedded is not None and embedded != installed:
        raise AttachError(
            f"The workbook's VBA is xlwings {embedded} but {interpreter} has xlwings {installed}; the buttons "
            f"would fail. Either install the workbook's version there (`{interpreter} -m pip install "
            f"xlwings=={embedded}`), or rebuild the workbook with this version (salesbook build-workbook NEW.xlsm, "
            "then copy 设置, 花名册 and 目标 across)."
        )


def attach(workbook: Path, *, interpreter: str | None = None, platform: str | None = None,
           home: Path | None = None, environ: dict[str, str] | None = None) -> Attached:
    """Make `workbook`'s buttons run this machine's Python: check the xlwings versions, install the
    macOS AppleScript, and rewrite the hidden xlwings.conf sheet with this OS's interpreter only.

    Nothing is written when a check fails (AttachError says why and what to do)."""
    from ..io.book import FileBook

    workbook = Path(workbook)
    if workbook.suffix.lower() != ".xlsm" or not workbook.exists():
        raise AttachError(f"{workbook} is not a .xlsm master workbook; give the path of SalesBook.xlsm.")
    system = os_name(platform)
    key = interpreter_key(system)
    value = interpreter or default_interpreter(system)
    real = expand(value, system, environ)
    if not Path(real).is_file():
        raise AttachError(
            f"Python interpreter {value!r} was not found" + (f" (expanded: {real})" if real != value else "")
            + "; give the full path of python (pythonw.exe on Windows) with --interpreter."
        )
    embedded = embedded_xlwings_version(workbook)
    installed = installed_xlwings_version(None if interpreter is None else real)
    check_versions(embedded, installed, value)
    result = Attached(interpreter=value, key=key, embedded=embedded, installed=installed)
    if system == "darwin" and embedded:
        result.applescript = install_applescript(embedded, home)
    if key is None:
        result.notes.append(f"{system} has no Excel: xlwings.conf keeps no interpreter; run attach on the PC "
                            "or Mac where the workbook is used.")
    book = FileBook(workbook)
    kept, index, codename = [], len(book.wb.sheetnames), "shXlwingsConf"
    if CONF_SHEET in book.wb.sheetnames:
        ws = book.wb[CONF_SHEET]
        base = {k.upper() for k, _ in BASE_ENTRIES}
        kept = [(r[0], r[1] if len(r) > 1 else "") for r in ws.iter_rows(values_only=True)
                if r and r[0] and str(r[0]).upper() not in INTERPRETER_KEYS | base]
        index, codename = book.wb.index(ws), ws.sheet_properties.codeName or codename
        book.wb.remove(ws)
    ws = book.wb.create_sheet(CONF_SHEET, index)
    ws.sheet_properties.codeName = codename
    entries = ([(key, value)] if key else []) + list(BASE_ENTRIES) + kept
    for row, (k, v) in enumerate(entries, start=1):
        ws.cell(row=row, column=1, value=str(k))
        ws.cell(row=row, column=2, value="" if v is None else str(v)).data_type = "s"
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 32, 60
    ws.sheet_state = "hidden"
    book.save()
    return result


__all__ = ["AttachError", "Attached", "attach", "conf_entries", "embedded_xlwings_version", "expand",
           "install_applescript", "interpreter_key"]
