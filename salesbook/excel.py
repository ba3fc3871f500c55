"""RunPython entry points of the master workbook's buttons: Book.caller() → action → message box."""

from __future__ import annotations

from . import actions
from .errors import describe, write_fault_log
from .io.book import XlwingsBook


def _run(name: str) -> None:
    book = XlwingsBook.caller()
    try:
        with book.properties():
            message = actions.run_action(name, book)
    except Exception as exc:  # noqa: BLE001 - the user sees a message box, never a traceback
        described = describe(exc)
        if described is not None:
            message = f"salesbook: {described[0]}"
        else:  # a program fault: keep the details for support
            log = write_fault_log(f"button {name} in {book.fullname}", folder=book.folder)
            message = (f"salesbook: {exc}\n(an internal error of salesbook, not of your data; "
                       + (f"details: {log})" if log else "no log could be written)"))
    book.finish(message)


def validate() -> None:
    _run("validate")


def consolidate() -> None:
    _run("consolidate")


def contracts() -> None:
    _run("contracts")


def reports() -> None:
    _run("reports")


def export_hr() -> None:
    _run("export-hr")


def statements() -> None:
    _run("statements")


def close_period() -> None:
    _run("close")
