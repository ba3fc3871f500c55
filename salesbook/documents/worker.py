"""Rendering templates in a separate process with time and memory limits, reused for a whole batch.

Templates are files a manager (or anyone with the workspace) can edit, so a template may loop
without end or build gigabytes of text. The sandbox refuses the obvious cases; this bounds the
rest: one worker process builds the renderer once (compiles the template), then renders every
document it is sent, each within ``timeout`` seconds, the process within ``max_bytes`` of memory.
A document past its limit kills the worker and ends the batch with ``TemplateTooCostly``; any
other failure comes back as the ``DocumentError`` it was. 500 contracts pay one process start.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .env import DocumentError, TemplateInvalid, TemplateTooCostly

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_TIMEOUT", "RenderWorker", "can_pass_objects"]

DEFAULT_TIMEOUT = 60.0  # seconds per document (a contract takes milliseconds)
DEFAULT_MAX_BYTES = 512 * 2**20  # growth of the worker's memory over what it started with
_END = object()


def _limit_memory(max_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # Windows has no rlimits: the time limit still applies
        return
    try:
        with open("/proc/self/statm") as fh:  # a forked worker starts as big as its parent
            start = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        start = 0
    try:
        resource.setrlimit(resource.RLIMIT_AS, (start + max_bytes, start + max_bytes))
    except (ValueError, OSError):
        pass


def _error_classes() -> dict[str, type[DocumentError]]:
    found: dict[str, type[DocumentError]] = {}
    todo = [DocumentError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo += cls.__subclasses__()
    return found


def _failure(exc: BaseException) -> tuple:
    if isinstance(exc, DocumentError):
        return ("document", type(exc).__name__, dict(vars(exc)))
    if isinstance(exc, MemoryError):
        return ("memory",)
    return ("error", f"{type(exc).__name__}: {exc}")


def _serve(conn, build: Callable[..., Any], args: tuple, max_bytes: int) -> None:
    """The worker: build the renderer, say what it needs, then render each context sent."""
    _limit_memory(max_bytes)
    try:
        renderer = build(*args)
        conn.send(("ok", getattr(renderer, "required", None)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(_failure(exc))
        return
    while True:
        try:
            context = conn.recv()
        except (EOFError, OSError):
            return
        if context is None:
            return
        try:
            result = ("ok", renderer.render(context))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
            result = _failure(exc)
        try:
            conn.send(result)
        except Exception as exc:  # noqa: BLE001 - e.g. a result too large to send
            conn.send(_failure(exc))


def _context():
    # fork: the worker inherits the environment (and any extra filters) without pickling it.
    return mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def can_pass_objects() -> bool:
    """Whether a worker can be given unpicklable objects (a Jinja environment): only when forked."""
    return _context().get_start_method() == "fork"


class RenderWorker:
    """``build(*args)`` in a worker process; ``render(context)`` on the object it returned.

    The object needs a ``render(context)`` method and may have ``required`` (the names the
    template needs), available here after start. Use as a context manager. With ``in_process``,
    or where no child process can be started (inside a daemon process), the renderer runs here,
    without the limits.
    """

    def __init__(self, build: Callable[..., Any], args: tuple, *, template: str,
                 timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES,
                 in_process: bool = False) -> None:
        self.template = template
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.required: set[str] | None = None
        self._local = None
        self._proc = None
        self._conn = None
        if in_process or mp.current_process().daemon:
            self._local = build(*args)
            self.required = getattr(self._local, "required", None)
            return
        ctx = _context()
        self._conn, child = ctx.Pipe(duplex=True)
        self._proc = ctx.Process(target=_serve, args=(child, build, args, max_bytes), daemon=True)
        self._proc.start()
        child.close()
        self.required = self._answer("to prepare the template")

    def render(self, context: Any) -> Any:
        if self._local is not None:
            try:
                return self._local.render(context)
            except MemoryError:
                raise TemplateTooCostly(template=self.template, what="needed more memory than there is") from None
        self._send(context)
        return self._answer("to render one document")

    def render_all(self, contexts: Iterable[Any]) -> Iterator[Any]:
        """``render`` for each context in order; the next context is sent as soon as a result is in,
        so the worker renders it while the caller writes the result just handed back."""
        if self._local is not None:
            for context in contexts:
                yield self.render(context)
            return
        it = iter(contexts)
        ahead = next(it, _END)
        if ahead is _END:
            return
        self._send(ahead)
        while ahead is not _END:
            result = self._answer("to render one document")
            ahead = next(it, _END)
            if ahead is not _END:
                self._send(ahead)  # the worker waits for it now: no two big messages cross
            yield result

    def _send(self, context: Any) -> None:
        if self._proc is None:
            raise TemplateInvalid(template=self.template, detail="the renderer was stopped after an earlier failure")
        try:
            self._conn.send(context)
        except (BrokenPipeError, OSError):
            self._died()

    def _answer(self, doing: str) -> Any:
        if not self._conn.poll(self.timeout):
            self.close()
            raise TemplateTooCostly(template=self.template, what=f"took longer than {self.timeout:g} s {doing}")
        try:
            reply = self._conn.recv()
        except (EOFError, OSError):
            self._died()
        if reply[0] == "ok":
            return reply[1]
        self.close()
        if reply[0] == "document":
            raise _error_classes().get(reply[1], DocumentError)(**reply[2])
        if reply[0] == "memory":
            raise TemplateTooCostly(template=self.template, what=f"needed more than {self.max_bytes >> 20} MiB")
        raise TemplateInvalid(template=self.template, detail=reply[1])

    def _died(self):
        self._proc.join(timeout=5)
        code = self._proc.exitcode
        self.close()
        # A worker killed by the kernel (out of memory) or crashing in a native library.
        raise TemplateTooCostly(template=self.template, what=f"stopped the rendering process (exit {code}; limits "
                                f"{self.max_bytes >> 20} MiB and {self.timeout:g} s a document)")

    def close(self) -> None:
        """Stop the worker (at once: it holds nothing that needs saving)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            self._conn.close()
        except OSError:
            pass
        if proc.is_alive():
            proc.kill()
        proc.join(timeout=5)

    def __enter__(self) -> RenderWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
