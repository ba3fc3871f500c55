"""RunPython entry points of the master workbook's buttons: Book.caller() → action → message box."""

from __future__ import annotations

from . import actions
from .io.book import XlwingsBook


def _run(name: str) -> None:
    book = XlwingsBook.caller()
    try:
        with book.properties():
            message = actions.run_action(name, book)
    except Exception as exc:  # noqa: BLE001 - the user sees a message box, never a traceback
        message = f"salesbook: {exc}"
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
