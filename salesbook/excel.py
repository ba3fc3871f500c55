"""RunPython entry points of the master workbook's buttons: Book.caller() → action → message box."""

from __future__ import annotations

import traceback

from . import actions
from .io.book import XlwingsBook


def _run(name: str) -> None:
    book = XlwingsBook.caller()
    try:
        with book.properties():
            message = actions.run_action(name, book)
    except Exception as exc:  # noqa: BLE001 - the user sees a message box, never a traceback
        message = f"salesbook: {exc}"
        if not isinstance(exc, actions.EXPECTED_ERRORS):  # a program fault: keep the details for support
            log = book.folder / "salesbook-error.log"
            try:
                with open(log, "a", encoding="utf-8") as fh:
                    fh.write(f"--- {name}\n{traceback.format_exc()}\n")
                message += f"\n(details: {log})"
            except OSError:
                pass
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
