"""Work done in a forked child while this process goes on: the output writers, the ledger's record.

The child inherits the data (nothing is pickled on the way in); its result, or the exception it
raised, comes back through a pipe. Where fork does not exist (Windows, macOS's default) the work is
done here, at once, and the waiter only hands its result over.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Callable


class Waiter:
    """Call it to wait for the child and get its result (or its exception, raised here); `cancel()`
    stops the child (after an error or a Ctrl-C here)."""

    def __init__(self, receive: Callable[[], object], cancel: Callable[[], None]) -> None:
        self._receive, self.cancel = receive, cancel

    def __call__(self) -> object:
        return self._receive()


def forks() -> bool:
    """Whether work goes to a forked child here (Linux; elsewhere fork is missing or unsafe)."""
    return sys.platform.startswith("linux")


def in_background(fn: Callable, *args, **kwargs) -> Waiter:
    """Run `fn(*args, **kwargs)` in a forked child where fork exists (else here, now)."""
    if not forks():
        result = fn(*args, **kwargs)
        return Waiter(lambda: result, lambda: None)
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)

    def run() -> None:
        import gc

        # What the child inherited is never collected here: a collection walking it would touch
        # (copy, and count in this process's resident size) the pages of the parent's whole run.
        gc.freeze()
        try:
            outcome = ("ok", fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
            outcome = ("raised", exc)
        try:
            child.send(outcome)
        except Exception:  # noqa: BLE001 - a result or exception that does not pickle: its text then
            child.send(("failed", f"{type(outcome[1]).__name__}: {outcome[1]}"))

    proc = ctx.Process(target=run, daemon=True)
    proc.start()
    child.close()

    def receive() -> object:
        try:
            status, value = parent.recv()
        except EOFError:
            status, value = "failed", f"the process ended unexpectedly (exit {proc.exitcode})"
        except Exception as exc:  # noqa: BLE001 - sent but not made again here (an odd exception class)
            status, value = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            parent.close()
        proc.join()
        if status == "ok":
            return value
        if status == "raised" and isinstance(value, BaseException):
            raise value
        raise ChildFailed(str(value))

    def cancel() -> None:
        if proc.is_alive():
            proc.kill()
        proc.join(timeout=5)

    return Waiter(receive, cancel)


class ChildFailed(RuntimeError):
    """The child died, or what it raised could not be sent back: its text."""
