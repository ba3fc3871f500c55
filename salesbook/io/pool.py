"""Worker processes that parse untrusted files, with memory and time limits.

Some parsers abort the whole process on crafted files (python-calamine tries to allocate 512 GiB
for a sheet with cells at A1 and XFD1048576; `except` cannot catch an abort). So every file is
parsed in a worker; a worker that dies or runs out of time rejects that one file, is replaced,
and the others go on.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

DEFAULT_MEMORY = 768 * 1024 * 1024  # per worker: well under a GiB, above what a sheet salesbook reads needs
STEP_MARK = "salesbook-step: "
_in_worker = False


def note_step(text: str) -> None:
    """Record in a worker's log what it is about to do (e.g. which sheet it parses), so a crash or a
    time-out can say where it happened. Does nothing outside a worker."""
    if _in_worker:
        os.write(2, (STEP_MARK + text.replace("\n", " ") + "\n").encode("utf-8", "replace"))


class Stopped(str):
    """Why a worker was stopped, as text; also `how` (signal or exit), `said` (the first line it
    wrote that is not a step mark) and `step` (its last step mark)."""

    how: str
    said: str
    step: str

    def __new__(cls, text: str, how: str = "", said: str = "", step: str = "") -> Stopped:
        obj = super().__new__(cls, text)
        obj.how, obj.said, obj.step = how, said, step
        return obj


@dataclass(frozen=True)
class Job:
    key: str
    func: Callable
    args: tuple


def _limit_memory(max_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the prechecks are the guard there
        return
    try:
        with open("/proc/self/statm") as fh:
            vsize = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        vsize = 0
    limit = vsize + max_bytes
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass


def _worker_main(conn: Connection, max_bytes: int, err_path: str = "") -> None:
    # A native parser that aborts writes to fd 2 (with RUST_BACKTRACE, a whole backtrace); keep it
    # off the user's terminal and in a file the parent reads to say why this worker died.
    global _in_worker
    err_fd = -1
    if err_path:
        _in_worker = True
        err_fd = os.open(err_path, os.O_WRONLY | os.O_TRUNC)
        sys.stderr.flush()
        os.dup2(err_fd, 2)
        import faulthandler

        if faulthandler.is_enabled():  # it may hold a copy of the old stderr (pytest does)
            faulthandler.enable(file=2)
    _limit_memory(max_bytes)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        if err_fd >= 0:  # only this job's messages
            os.ftruncate(2, 0)
            os.lseek(2, 0, os.SEEK_SET)
        key, func, args = job
        # A file's parse allocates millions of lists and tuples and makes next to no cycles: the cycle
        # collector, run every few hundred of them over all that is alive, is paused for the job.
        gc.disable()
        try:
            result = ("ok", func(*args))
        except MemoryError:
            result = ("error", "ran out of memory while reading (the file is too large or crafted)")
        except Exception as exc:  # noqa: BLE001 - reported to the parent as that file's failure
            result = ("error", f"{type(exc).__name__}: {exc}")
        finally:
            gc.enable()
        try:
            conn.send((key, result))
        except Exception as exc:  # noqa: BLE001 - e.g. result too large to pickle
            conn.send((key, ("error", f"could not return the result ({type(exc).__name__})")))


def _context():
    if sys.platform.startswith("linux"):
        return mp.get_context("fork")
    return mp.get_context("spawn")


def _worker_log(err_path: str) -> tuple[str, str]:
    """(the first line a worker wrote that is not a step mark, its last step mark)."""
    said = step = ""
    try:
        with open(err_path, "rb") as fh:
            lines = fh.read(65536).decode("utf-8", "replace").splitlines()
    except OSError:
        return said, step
    for ln in lines:
        if ln.startswith(STEP_MARK):
            step = ln[len(STEP_MARK):].strip()
        elif ln.strip() and not said:
            said = ln.strip()[:200]
    return said, step


def _crash_reason(exitcode: int | None, err_path: str) -> Stopped:
    """Why a worker died: its signal or exit code and the first line it wrote to stderr."""
    if exitcode is not None and exitcode < 0:
        try:
            how = signal.Signals(-exitcode).name
        except ValueError:
            how = f"signal {-exitcode}"
    else:
        how = f"exit {exitcode if exitcode is not None else '?'}"
    said, step = _worker_log(err_path)
    detail = f"{how}: {said}" if said else how
    return Stopped(f"the reader process died while parsing ({detail}); the file is damaged, crafted or too large",
                   how, said, step)


class _Worker:
    def __init__(self, ctx, max_bytes: int):
        fd, self.err_path = tempfile.mkstemp(prefix="salesbook-reader-", suffix=".log")
        os.close(fd)
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, max_bytes, self.err_path), daemon=True)
        self.proc.start()
        child.close()
        self.job: Job | None = None
        self.started = 0.0

    def crash_reason(self) -> Stopped:
        self.proc.join(timeout=1)
        return _crash_reason(self.proc.exitcode, self.err_path)

    def timeout_reason(self, timeout: float) -> Stopped:
        said, step = _worker_log(self.err_path)
        return Stopped(f"reading took longer than {timeout:g} s", "timeout", said, step)

    def give(self, job: Job) -> None:
        self.job = job
        self.started = time.monotonic()
        self.conn.send((job.key, job.func, job.args))

    def stop(self, kill: bool = False) -> None:
        try:
            if kill:
                self.proc.kill()
            else:
                self.conn.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()
        try:
            os.unlink(self.err_path)
        except OSError:
            pass


def run_jobs(
    jobs: Iterable[Job],
    *,
    workers: int = 2,
    timeout: float = 120.0,
    max_bytes: int = DEFAULT_MEMORY,
    on_done: Callable[[int, int], None] | None = None,
    on_result: Callable[[str, str, object], None] | None = None,
) -> dict[str, tuple[str, object]]:
    """Run every job in worker processes. Returns key -> ("ok", result) | ("error", reason).

    A job whose worker crashes gets ("crash", reason); one that runs past `timeout` seconds gets
    ("timeout", reason). Results are keyed, so completion order never shows in outputs.
    `on_result(key, status, payload)` hears of each as it comes; what it raises stops every worker
    and is raised here.
    """
    pending = list(jobs)
    pending.reverse()
    total = len(pending)
    results: dict[str, tuple[str, object]] = {}
    if not pending:
        return results
    ctx = _context()
    pool = [_Worker(ctx, max_bytes) for _ in range(max(1, min(workers, total)))]
    try:
        for w in pool:
            if pending:
                w.give(pending.pop())
        while any(w.job is not None for w in pool):
            busy = [w for w in pool if w.job is not None]
            now = time.monotonic()
            wait_for = max(0.05, min(timeout - (now - w.started) for w in busy))
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=wait_for)
            for i, w in enumerate(pool):
                if w.job is None:
                    continue
                replace = False
                key = w.job.key
                if w.conn in ready:
                    try:
                        key, result = w.conn.recv()
                        results[key] = result
                    except (EOFError, OSError):
                        results[key] = ("crash", w.crash_reason())
                        replace = True
                elif w.proc.sentinel in ready:
                    results[key] = ("crash", w.crash_reason())
                    replace = True
                elif time.monotonic() - w.started > timeout:
                    results[key] = ("timeout", w.timeout_reason(timeout))
                    replace = True
                else:
                    continue
                w.job = None
                if replace:
                    w.stop(kill=True)
                    w = pool[i] = _Worker(ctx, max_bytes)
                if on_result:
                    on_result(key, *results[key])
                if on_done:
                    on_done(len(results), total)
                if pending:
                    w.give(pending.pop())
    finally:
        for w in pool:
            w.stop(kill=w.job is not None)
    return results
