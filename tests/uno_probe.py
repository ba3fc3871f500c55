"""Open workbooks in headless LibreOffice and report, as JSON, what it sees of their VBA.

Run with the system Python that has UNO (/usr/bin/python3), not the project's virtualenv:

    /usr/bin/python3 tests/uno_probe.py --inspect A.xlsm [--run 'B.xlsm::vnd.sun.star.script:...'] ...

For each inspected file: the Basic libraries and the VBAProject modules (name, type, source),
the sheets' code names, and every form control on every sheet with its bound script events.
For each --run: the script's return value and the first sheet's A1 afterwards.
soffice runs with a throw-away profile and is killed on exit, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import uno  # noqa: F401  (sets up the pyuno bridge)
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

MODULE_TYPES = {0: "unknown", 1: "normal", 2: "class", 3: "form", 4: "document"}
ALWAYS_EXECUTE_NO_WARN = 4  # com.sun.star.document.MacroExecMode


def _prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def start_office(profile: Path, pipe: str, timeout: float):
    """Start soffice in its own process group; return (process, component context)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise SystemExit("soffice not found")
    cmd = [
        soffice,
        "--headless",
        "--invisible",
        "--norestore",
        "--nologo",
        "--nodefault",
        "--nofirststartwizard",
        f"-env:UserInstallation={profile.as_uri()}",
        f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + timeout
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return proc, ctx
        except NoConnectException:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"could not connect to soffice (exit code {proc.poll()})") from None
            time.sleep(0.25)


def stop_office(proc, desktop=None) -> None:
    if desktop is not None:
        try:
            desktop.terminate()
        except Exception:  # the bridge goes away as soffice exits
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    _kill_group(proc)


def _kill_group(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the process group we started: soffice and its children
    except ProcessLookupError:
        pass


def load(desktop, path: Path):
    props = (_prop("Hidden", True), _prop("MacroExecutionMode", ALWAYS_EXECUTE_NO_WARN))
    doc = desktop.loadComponentFromURL(path.resolve().as_uri(), "_blank", 0, props)
    if doc is None:
        raise SystemExit(f"LibreOffice could not open {path}")
    return doc


def inspect(doc) -> dict:
    libraries = doc.BasicLibraries
    report: dict = {
        "libraries": list(libraries.getElementNames()),
        "modules": {},
        "sheets": [],
        "controls": [],
    }
    if libraries.hasByName("VBAProject"):
        libraries.loadLibrary("VBAProject")
        lib = libraries.getByName("VBAProject")
        for name in lib.getElementNames():
            info = lib.getModuleInfo(name) if lib.hasModuleInfo(name) else None
            report["modules"][name] = {
                "type": MODULE_TYPES.get(info.ModuleType, str(info.ModuleType)) if info else None,
                "source": lib.getByName(name),
            }
    report["vba_mode"] = bool(getattr(libraries, "VBACompatibilityMode", False))
    sheets = doc.Sheets
    for i in range(sheets.getCount()):
        sheet = sheets.getByIndex(i)
        report["sheets"].append({"name": sheet.Name, "codename": sheet.CodeName})
        forms = sheet.DrawPage.Forms
        for f in range(forms.getCount()):
            form = forms.getByIndex(f)
            for c in range(form.getCount()):
                model = form.getByIndex(c)
                events = [
                    {
                        "listener": e.ListenerType,
                        "method": e.EventMethod,
                        "type": e.ScriptType,
                        "code": e.ScriptCode,
                    }
                    for e in form.getScriptEvents(c)
                ]
                report["controls"].append(
                    {
                        "sheet": sheet.Name,
                        "name": model.Name,
                        "label": getattr(model, "Label", None),
                        "events": events,
                    }
                )
    return report


def run(doc, url: str) -> dict:
    script = doc.getScriptProvider().getScript(url)
    result = script.invoke((), (), ())
    value = result[0] if isinstance(result, tuple) else result
    a1 = doc.Sheets.getByIndex(0).getCellByPosition(0, 0)
    return {"url": url, "returned": value, "a1_value": a1.getValue(), "a1_string": a1.getString()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inspect", action="append", default=[], help="workbook to report on")
    parser.add_argument("--run", action="append", default=[], help="FILE::SCRIPT_URL to invoke")
    parser.add_argument("--timeout", type=float, default=40.0, help="seconds to wait for soffice to accept")
    parser.add_argument(
        "--deadline", type=float, default=60.0, help="seconds before soffice is killed anyway"
    )
    args = parser.parse_args()
    runs: dict[str, list[str]] = {}
    for item in args.run:
        file, _, url = item.partition("::")
        runs.setdefault(file, []).append(url)
    files = list(dict.fromkeys(args.inspect + list(runs)))

    profile = Path(tempfile.mkdtemp(prefix="salesbook-lo-"))
    pipe = f"salesbook_{uuid.uuid4().hex}"
    proc, desktop = None, None
    output: dict = {"files": {}}
    try:
        proc, ctx = start_office(profile, pipe, args.timeout)
        # A blocked UNO call cannot be interrupted from Python: killing soffice makes it fail instead.
        watchdog = threading.Timer(args.deadline, _kill_group, (proc,))
        watchdog.daemon = True
        watchdog.start()
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        for file in files:
            doc = load(desktop, Path(file))
            try:
                entry = inspect(doc) if file in args.inspect else {}
                entry["runs"] = []
                for url in runs.get(file, []):
                    try:
                        entry["runs"].append(run(doc, url))
                    except Exception as exc:  # report, let the test decide
                        entry["runs"].append({"url": url, "error": f"{type(exc).__name__}: {exc}"})
                output["files"][file] = entry
            finally:
                doc.close(True)
    finally:
        if proc is not None:
            stop_office(proc, desktop)
        shutil.rmtree(profile, ignore_errors=True)
    json.dump(output, sys.stdout, ensure_ascii=False, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
